"""Simulated hardware with realistic physics and timing (modems, power line, NICs, chargers, cars, adapter parts)."""
