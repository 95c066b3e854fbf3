"""V2G transport and sessions: V2GTP framing, SDP, the EVCC (car) and SECC (charger) machines."""
