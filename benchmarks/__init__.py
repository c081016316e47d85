"""Benchmarks of educonnect-tui at académie scale (see README, « Benchmarks »)."""
