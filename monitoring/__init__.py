"""Monitoring of the data, the features, the scores and the outcomes over months (issue 15).

The Great Expectations suites that validate each delivery are ingest's (ingest/suites.py).
"""
