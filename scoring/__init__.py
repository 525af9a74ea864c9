"""Scoring: calibrated risk for every household in the cohort, reasons in plain language,
warning tiers, and ranked visit lists per village and township."""
