"""The log readers on small hand-made files: every quirk of the real logs, and bad input."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import can
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccs2chademo.canlog import ARDUINO, SAVVYCAN, CanLog, CanLogError, arduino, detect_format, savvycan, write_log
from ccs2chademo.canlog.lines import MAX_LINE

from ..conftest import shared_data

HEADER = "Time Stamp,ID,Extended,Dir,Bus,LEN,D1,D2,D3,D4,D5,D6,D7,D8\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _rows(*rows: str) -> str:
    return HEADER + "".join(row + "\n" for row in rows)


def test_savvycan_row_quirks(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.csv", _rows(
        "1000000,00000102,true,Rx,0,8,01,B1,00,00,00,08,28,00,",   # Extended=true on an 11-bit ID
        "1000500,18CC07BB,false,Rx,1,3,AA,BB,CC,00,00,00,00,00,",  # 29-bit ID marked false; LEN 3
        "1001000,00000000,false,Tx,0,0,00,00,00,00,00,00,00,00,",  # DLC 0
    ))
    assert detect_format(path) == SAVVYCAN
    a, b, c = CanLog(path)
    assert (a.timestamp, a.arbitration_id, a.is_extended_id, a.dlc) == (1.0, 0x102, False, 8)
    assert bytes(a.data) == bytes.fromhex("01b1000000082800") and a.channel == 0 and a.is_rx
    assert (b.arbitration_id, b.is_extended_id, bytes(b.data), b.channel) == (0x18CC07BB, True, b"\xaa\xbb\xcc", 1)
    assert b.timestamp == pytest.approx(1.0005)
    assert (c.dlc, bytes(c.data), c.is_rx) == (0, b"", False)


def test_savvycan_negative_and_unsigned_64_bit_timestamps(tmp_path: Path) -> None:
    unsigned = [str((1 << 64) - 1_912_022_314), str((1 << 64) - 1_911_947_414)]
    path = _write(tmp_path, "x.csv", _rows(*(f"{t},00000100,false,Rx,0,8,00,00,00,00,90,01,12,00," for t in unsigned),
                                            "-5,00000100,false,Rx,0,8,00,00,00,00,90,01,12,00,"))
    times = [m.timestamp for m in CanLog(path)]
    assert times[0] == pytest.approx(-1912.022314, abs=1e-7) and times[1] - times[0] == pytest.approx(0.0749, abs=1e-7)
    assert times[2] == -5e-6


def test_savvycan_restart_drops_the_rows_before_it(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    row = ",000001D6,false,Rx,1,7,00,30,A8,57,57,0F,D3,00,"
    path = _write(tmp_path, "x.csv", _rows(*(f"{t}{row}" for t in (21_079_019, 21_103_829, 21_153_821, 88_994,
                                                                     113_994, 138_994))))
    with caplog.at_level(logging.WARNING):
        log = CanLog(path)
        times = [m.timestamp for m in log]
    assert times == [0.088994, 0.113994, 0.138994]
    assert log.dropped == 3 and log.skipped == 0
    assert "restarts at line 5" in caplog.text


def test_savvycan_single_row_out_of_order_is_not_a_restart(tmp_path: Path) -> None:
    row = ",00000102,false,Rx,0,8,01,B1,00,00,00,08,28,00,"
    path = _write(tmp_path, "x.csv", _rows(*(f"{t}{row}" for t in (100, 200, 50, 300, 400))))
    log = CanLog(path)
    assert [m.timestamp * 1e6 for m in log] == pytest.approx([100, 200, 50, 300, 400])
    assert log.dropped == 0


BAD_ROWS = [
    "garbage",
    "1000,00000102,false,Rx,0,8,01,B1,00,00,00,08,28,",       # LEN 8, seven bytes
    "1000,00000102,false,Rx,0,9,01,B1,00,00,00,08,28,00,00,",  # LEN 9
    "1000,XYZ,false,Rx,0,8,01,B1,00,00,00,08,28,00,",          # ID not hex
    "1000,40000000,false,Rx,0,8,01,B1,00,00,00,08,28,00,",     # ID beyond 29 bits
    "1000,00000102,false,Rx,0,2,1,B1,00,00,00,08,28,00,",      # one-digit byte
    "zz,00000102,false,Rx,0,8,01,B1,00,00,00,08,28,00,",       # time stamp not a number
    f"{1 << 64},00000102,false,Rx,0,8,01,B1,00,00,00,08,28,00,",
    "1000,00000102,false,Rx,0,8,01,\ufffd1,00,00,00,08,28,00,",
]


@pytest.mark.parametrize("bad", BAD_ROWS)
def test_savvycan_bad_row_is_skipped_and_counted_or_raised_when_strict(tmp_path: Path, bad: str) -> None:
    good = "2000,00000102,false,Rx,0,8,01,B1,00,00,00,08,28,00,"
    path = _write(tmp_path, "x.csv", _rows(good, bad, good))
    log = CanLog(path)
    assert len(list(log)) == 2 and log.skipped == 1
    with pytest.raises(CanLogError) as info:
        list(CanLog(path, strict=True))
    assert info.value.line == 3 and info.value.path == path and f"{path}:3:" in str(info.value)


def test_overlong_line_is_a_bad_line_read_in_bounded_chunks(tmp_path: Path) -> None:
    good = "2000,00000102,false,Rx,0,8,01,B1,00,00,00,08,28,00,"
    path = _write(tmp_path, "x.csv", _rows(good, "9" * (10 * MAX_LINE), good))
    log = CanLog(path)
    assert len(list(log)) == 2 and log.skipped == 1
    with pytest.raises(CanLogError, match="overlong"):
        list(CanLog(path, strict=True))


def test_arduino_text() -> None:
    message = arduino.parse_line("Rcvd msgID: 0x102; 01; B1; 00; 00; 00; 08; 28; 00  00:01:34.652")
    assert (message.arbitration_id, message.is_extended_id, message.dlc) == (0x102, False, 8)
    assert bytes(message.data) == bytes.fromhex("01b1000000082800")
    assert message.timestamp == pytest.approx(94.652)
    short = arduino.parse_line("Rcvd msgID: 0x505; 0A; FF  01:00:00.001")
    assert bytes(short.data) == b"\x0a\xff" and short.timestamp == pytest.approx(3600.001)
    assert arduino.parse_line("Rcvd msgID: 0x18CC07BB  00:00:00.000").is_extended_id


@pytest.mark.parametrize("bad", [
    "Sent msgID: 0x102; 01  00:00:01.000",
    "Rcvd msgID: 0x102; 01; B1",                                   # no time
    "Rcvd msgID: 0x102; 1; B1  00:00:01.000",                      # one-digit byte
    "Rcvd msgID: 0x102; 01; 02; 03; 04; 05; 06; 07; 08; 09  00:00:01.000",  # nine bytes
    "Rcvd msgID: 0x102; 01  00:61:01.000",
    "Rcvd msgID: 0x40000000; 01  00:00:01.000",
])
def test_arduino_bad_lines(tmp_path: Path, bad: str) -> None:
    good = "Rcvd msgID: 0x102; 01; B1; 00; 00; 00; 08; 28; 00  00:01:34.652"
    path = _write(tmp_path, "x.txt", f"{good}\r\n{bad}\r\n\r\n{good}\r\n")
    assert detect_format(path) == ARDUINO
    log = CanLog(path)
    assert len(list(log)) == 2 and log.skipped == 1
    with pytest.raises(CanLogError) as info:
        list(CanLog(path, strict=True))
    assert info.value.line == 2


def test_candump_bad_line_skipped_and_reading_resumes(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.log", "(1.000000) can0 102#01B1000000082800\n(1.1) can0 10Z#01\n"
                                     "not a frame at all\n(1.200000) can0 108#01F4010FB3010000 R\n")
    log = CanLog(path)
    frames = list(log)
    assert [m.arbitration_id for m in frames] == [0x102, 0x108] and log.skipped == 2
    with pytest.raises(CanLogError) as info:
        list(CanLog(path, strict=True))
    assert info.value.line == 2


def test_unknown_missing_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(CanLogError, match="unknown log format"):
        CanLog(_write(tmp_path, "x.bin", "hello"))
    with pytest.raises(CanLogError, match="cannot read"):
        CanLog(tmp_path / "missing.csv")
    blf = tmp_path / "x.blf"
    write_log([can.Message(timestamp=1.7e9 + i, arbitration_id=0x102, data=bytes(8), is_extended_id=False)
               for i in range(50)], blf)
    blf.write_bytes(blf.read_bytes()[:200] + b"\x00garbage" * 40)
    with pytest.raises(CanLogError, match="reader failed"):
        list(CanLog(blf))
    with pytest.raises(CanLogError, match="cannot write"):
        write_log([], tmp_path / "x.xyz")


def test_python_can_csv_is_read_by_python_can(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    message = can.Message(timestamp=5.0, arbitration_id=0x109, data=b"\x02\x00\x00\x00\x00\x20\xff\x3c",
                          is_extended_id=False)
    write_log([message], path)
    assert detect_format(path) == ".csv"
    (back,) = CanLog(path)
    assert back.equals(message, timestamp_delta=1e-6, check_channel=False)


def _frames(log: CanLog) -> list[tuple[float, int, bool, bytes]]:
    return [(m.timestamp, m.arbitration_id, m.is_extended_id, bytes(m.data)) for m in log]


@pytest.mark.parametrize("relative", ["diy-car-v2x-charger-fail.csv", "diy-car-177v-session.txt"])
def test_a_real_log_in_memory_reads_as_its_file(relative: str) -> None:
    """Bytes and a file object give the file's frames, its logger-restart drop included (the
    SavvyCAN log drops 4 rows, data README 2.1)."""
    path = shared_data("chademo", relative)
    from_file = CanLog(path)
    expected = _frames(from_file)
    with path.open("rb") as fh:
        from_object = CanLog(fh)
    from_bytes = CanLog(path.read_bytes())
    assert _frames(from_bytes) == expected and _frames(from_object) == expected
    assert (from_bytes.format, from_bytes.dropped, from_bytes.skipped) == (from_file.format, from_file.dropped, 0)
    assert from_object.path == path and from_bytes.path == Path("<memory>")


@pytest.mark.parametrize("name", ["x.blf", "x.asc", "x.trc", "x.log", "x.csv", "x.log.gz", "x.asc.gz"])
def test_python_can_formats_in_memory_take_the_format_from_the_name(tmp_path: Path, name: str) -> None:
    real = list(CanLog(shared_data("chademo", "zombieverter", "FAILCHAD.csv")))[:40]
    path = tmp_path / name
    write_log(real, path)
    expected = _frames(CanLog(path))
    assert len(expected) == 40
    assert _frames(CanLog(path.read_bytes(), name=f"upload-{name}")) == expected
    with pytest.raises(CanLogError, match="<memory>: unknown log format"):
        CanLog(path.read_bytes())  # no name, no extension


def test_in_memory_errors_name_the_log() -> None:
    text = (HEADER + "1000,00000102,false,Rx,0,8,01,B1,00,00,00,08,28,00,\nbad\n").encode()
    with pytest.raises(CanLogError) as info:
        list(CanLog(io.BytesIO(text), strict=True, name="upload.csv"))
    assert str(info.value).startswith("upload.csv:3: ") and info.value.line == 3
    with pytest.raises(CanLogError, match="uncompressed file only"):
        list(CanLog(b"SQLite format 3\0", name="x.db"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_row_parsers_reject_garbage_with_value_error_only(line: str) -> None:
    for parse in (savvycan.parse_row, arduino.parse_line):
        try:
            message = parse(line)
        except ValueError:
            continue
        assert 0 <= message.arbitration_id <= 0x1FFFFFFF and message.dlc <= 8


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 0x1FFFFFFF), st.binary(max_size=8), st.integers(-(1 << 62), 1 << 62))
def test_savvycan_rows_parse_back(can_id: int, data: bytes, micros: int) -> None:
    cells = [f"{b:02X}" for b in data] + ["00"] * (8 - len(data))
    message = savvycan.parse_row(f"{micros},{can_id:08X},false,Rx,0,{len(data)},{','.join(cells)},")
    assert (message.arbitration_id, bytes(message.data), message.is_extended_id) == (can_id, data, can_id > 0x7FF)
    assert message.timestamp == micros / 1e6
