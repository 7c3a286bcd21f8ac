"""Benchmarks: scripts that print figures (run as `python -m bench.<name>`), not pass/fail tests."""
