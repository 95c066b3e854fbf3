"""HomePlug Green PHY: management frames, SLAC (ISO 15118-3) and the connection supervisor."""
