"""Neutral V2G messages (:mod:`.messages`) to and from EXI (interim: waiting for the exi codec)."""

from __future__ import annotations

from .messages import EvMessage, EvseMessage, Schema


class CodecError(ValueError):
    """A message that cannot be decoded or encoded (bad EXI, unknown message, value out of range)."""


def encode_request(msg: EvMessage, schema: Schema | None) -> bytes:
    raise CodecError("EXI codec not merged yet")


def decode_request(payload: bytes, schema: Schema | None) -> EvMessage:
    raise CodecError("EXI codec not merged yet")


def encode_response(msg: EvseMessage, schema: Schema | None) -> bytes:
    raise CodecError("EXI codec not merged yet")


def decode_response(payload: bytes, schema: Schema | None) -> EvseMessage:
    raise CodecError("EXI codec not merged yet")
