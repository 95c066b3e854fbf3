"""Simulated stand-ins for hardware drivers (``sim`` in the ``[hardware]`` section)."""
