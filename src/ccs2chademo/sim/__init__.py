"""Simulated hardware with realistic physics and timing (chargers, cars, adapter parts)."""
