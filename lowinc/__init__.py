"""lowinc."""
