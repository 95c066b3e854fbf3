"""Simulated hardware with realistic behaviour and timing (modems, power line, NICs)."""
