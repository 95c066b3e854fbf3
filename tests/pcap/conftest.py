"""Extraction results cached per capture: every test module reads the same few files."""

from __future__ import annotations

import functools

from ccs2chademo.pcap import Extraction, extract

from .capture_table import capture


@functools.cache
def extracted(name: str) -> Extraction:
    return extract(capture(name))
