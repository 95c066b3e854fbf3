"""The CCS capture of a long run is rotated by size; every file is a pcapng on its own."""

from __future__ import annotations

from pathlib import Path

import dpkt
import pytest

from ccs2chademo.drivers.pcapng import RotatingPcapngWriter


def _frames(path: Path) -> list[bytes]:
    with path.open("rb") as f:
        return [bytes(data) for _, data in dpkt.pcapng.Reader(f)]


def test_rotates_by_size_keeps_count_and_every_file_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "ccs.pcapng"
    writer = RotatingPcapngWriter(path, max_bytes=2000, keep=3, epoch=1_700_000_000.0)
    frames = [bytes([n % 256]) * 60 for n in range(200)]
    for n, frame in enumerate(frames):
        writer.write(n * 0.03, frame)
    writer.close()
    files = sorted(tmp_path.iterdir())
    assert [p.name for p in files] == ["ccs.1.pcapng", "ccs.2.pcapng", "ccs.3.pcapng", "ccs.pcapng"]
    kept = [_frames(tmp_path / name) for name in ("ccs.3.pcapng", "ccs.2.pcapng", "ccs.1.pcapng", "ccs.pcapng")]
    assert all(kept) and all(p.stat().st_size < 2000 + 200 for p in files)
    joined = [f for chunk in kept for f in chunk]
    assert joined == frames[-len(joined):]  # the newest frames, in order, none lost inside the kept files
    assert writer.frames == 200


def test_rejects_nonsense_limits(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        RotatingPcapngWriter(tmp_path / "x.pcapng", max_bytes=0, keep=1)
