"""CHAdeMO: the DBC and frame codec, the charger machine (the adapter toward the car) and the
simulated car.  See ``docs/chademo.md``."""
