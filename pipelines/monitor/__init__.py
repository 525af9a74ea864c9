"""The monitor stage: `lowinc monitor` and the monthly flow's last step (docs/monitoring.md)."""
