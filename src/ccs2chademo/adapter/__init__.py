"""The adapter between the two protocol sides: configuration, power manager, LEDs, estimate, mapping."""
