"""Training: the `lowinc train` and `lowinc model` commands and the Prefect train_flow."""
