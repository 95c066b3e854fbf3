"""One module per ``ccs2chademo`` sub-command; each exports ``command`` (see :mod:`ccs2chademo.cli`)."""
