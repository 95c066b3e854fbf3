"""ccs2chademo: controller for a CCS-to-CHAdeMO DC fast-charging adapter."""

__version__ = "0.1.0"
