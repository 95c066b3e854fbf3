"""CAN log files: read every format we have logs in, write python-can's formats.

:class:`CanLog` yields :class:`can.Message` (timestamps in seconds) from SavvyCAN CSV, the Arduino
text of our DIY-car log and every python-can format; :func:`write_log` writes python-can formats.
See ``docs/can-logs.md``.
"""

from .reader import ARDUINO, SAVVYCAN, CanLog, CanLogError, detect_format
from .writer import write_log

__all__ = ["ARDUINO", "SAVVYCAN", "CanLog", "CanLogError", "detect_format", "write_log"]
