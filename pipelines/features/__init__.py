"""The features stage: snapshots of household features and labels (issue 4)."""
