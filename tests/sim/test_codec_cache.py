"""The simulation's EXI cache (sim/codec_cache.py): it changes nothing on any link or in any log
(issue 17), remembers what it should and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ccs2chademo.cli import cli
from ccs2chademo.sim.codec_cache import CachedCodec
from ccs2chademo.sim.world import Scenario, World
from ccs2chademo.v2g import codec
from ccs2chademo.v2g.messages import EvMessage, EvseMessage, Kind, Schema

OUTPUTS = ("ccs.pcapng", "chademo.log", "session.jsonl")


def _simulate(out: Path, *options: str) -> None:
    """A short session (20 → 21 %: every phase, ≈1 minute of CurrentDemand) with all its files."""
    result = CliRunner(env={"SOURCE_DATE_EPOCH": "0"}).invoke(
        cli, ["simulate", "--soc-start", "20", "--soc-stop", "21", "--json", "--out", str(out), *options])
    assert result.exit_code == 0, result.output


def test_the_links_and_logs_are_those_of_the_uncached_codec(tmp_path: Path) -> None:
    _simulate(tmp_path / "cached")
    _simulate(tmp_path / "uncached", "--no-codec-cache")
    for name in OUTPUTS:
        cached, uncached = (tmp_path / "cached" / name).read_bytes(), (tmp_path / "uncached" / name).read_bytes()
        assert cached == uncached, f"{name} differs with the cache"


def test_the_world_caches_unless_told_not_to() -> None:
    assert isinstance(World(Scenario()).exi, CachedCodec)
    assert World(Scenario(codec_cache=False)).exi is codec.EXI


class Counting:
    """The product's codec, counting the calls that reach it."""

    def __init__(self) -> None:
        self.calls = 0

    def encode_request(self, msg: EvMessage, schema: Schema | None, /) -> bytes:
        self.calls += 1
        return codec.encode_request(msg, schema)

    def decode_request(self, payload: bytes, schema: Schema | None, /) -> EvMessage:
        self.calls += 1
        return codec.decode_request(payload, schema)

    def encode_response(self, msg: EvseMessage, schema: Schema | None, /) -> bytes:
        self.calls += 1
        return codec.encode_response(msg, schema)

    def decode_response(self, payload: bytes, schema: Schema | None, /) -> EvseMessage:
        self.calls += 1
        return codec.decode_response(bytes(payload), schema)  # the compiled codec takes exactly bytes


def _demand(soc: int) -> EvMessage:
    return EvMessage(Kind.CURRENT_DEMAND, session_id=b"\x06\xef\x00\x71", ev_ready=True, soc=soc,
                     error_code="NO_ERROR", cabin_conditioning=False, ress_conditioning=False, target_voltage=380.0,
                     target_current=100.0, max_voltage=410.0, max_current=125.0, max_power=50_000.0,
                     bulk_charging_complete=False, remaining_full_s=1200.0)


def test_an_equal_input_is_answered_from_the_cache() -> None:
    inner = Counting()
    cache = CachedCodec(inner)
    first = cache.encode_request(_demand(50), Schema.DIN)
    assert cache.encode_request(_demand(50), Schema.DIN) == first == codec.encode_request(_demand(50), Schema.DIN)
    assert cache.decode_request(first, Schema.DIN) == cache.decode_request(first, Schema.DIN) == _demand(50)
    assert inner.calls == 2
    assert cache.stats()["encode_request"] == (1, 1, 1) and cache.stats()["decode_request"] == (1, 1, 1)


def test_a_failure_is_never_remembered() -> None:
    inner = Counting()
    cache = CachedCodec(inner)
    for _ in range(2):
        with pytest.raises(codec.CodecError):
            cache.decode_response(b"\x80\x9a", Schema.DIN)
    assert inner.calls == 2 and cache.stats()["decode_response"][2] == 0


def test_an_unhashable_payload_bypasses_the_cache() -> None:
    inner = Counting()
    cache = CachedCodec(inner)
    payload = bytearray(codec.encode_response(EvseMessage(Kind.SESSION_STOP, response_code="OK"), Schema.DIN))
    for _ in range(2):
        assert cache.decode_response(payload, Schema.DIN).kind is Kind.SESSION_STOP  # type: ignore[arg-type]
    assert inner.calls == 2 and cache.stats()["decode_response"][2] == 0


def test_the_cache_is_bounded() -> None:
    inner = Counting()
    cache = CachedCodec(inner, size=2)
    for soc in (1, 2, 3, 1):
        cache.encode_request(_demand(soc), Schema.DIN)
    assert cache.stats()["encode_request"] == (0, 4, 2)  # 1 was pushed out by 3, so computed again
    assert inner.calls == 4
