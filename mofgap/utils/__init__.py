"""Small helpers shared across mofgap."""
