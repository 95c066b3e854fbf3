"""Drivers: the only code that touches the world (sockets, CAN, GPIO)."""
