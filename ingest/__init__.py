"""Ingest's pure logic: department files in, typed canonical tables out (no Prefect, no orchestration)."""
