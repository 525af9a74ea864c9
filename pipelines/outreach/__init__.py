"""Outreach commands and the Prefect delivery flow (thin wrappers around the outreach package)."""
