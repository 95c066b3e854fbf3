"""Coverage-guided fuzzing of one parser with atheris (libFuzzer): ``python tools/fuzz/run.py TARGET``.

Seeds the corpus from ``../shared/data`` (``targets.py``), then runs libFuzzer in a child process
for ``--runs`` inputs with a 1 s timeout per input and an RSS limit 50 MB above the process's
size after the seeds ran (atheris's own interpreter, imports and corpus are the baseline), so
"a hang (> 1 s)" and "more than 50 MB for any input" are libFuzzer's findings as much as an
exception outside the target's documented error.  Prints one JSON line last:
``{"target", "runs", "seconds", "coverage", "features", "corpus", "findings", "artifacts"}``.

The work directory (``build/fuzz/TARGET/``) keeps the grown corpus between runs, so a second
run starts where the first stopped, and any crashing input (``crash-…``, ``timeout-…``,
``oom-…``) as libFuzzer wrote it; ``--reproduce FILE`` runs one such input outside libFuzzer
and prints its traceback; ``--speed S`` measures the target's inputs per second over the corpus
for S seconds, instrumented as when fuzzing.  Coverage is of the pure-Python sources: run it against the
``make test-pure`` tree (the Makefile's ``fuzz`` target does), mypyc-compiled modules are opaque.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import pkgutil
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = Path(os.environ.get("CCS2CHADEMO_DATA", ROOT.parent / "shared" / "data"))
#: memory one input may add to the process (issue 15)
RSS_MARGIN_MB = 50
#: seconds one input may take (issue 15)
TIMEOUT_S = 1
#: restarts after timeouts that were the machine's load, not the input (see main)
MAX_SPURIOUS = 20


#: the packages whose Python branches atheris reports to libFuzzer as coverage
INSTRUMENTED = ["ccs2chademo", "dpkt", "can", "tomllib", "targets"]


def _uninstrumented(target_name: str) -> list[str]:
    """Modules left out of the coverage of one target.  ``pcap``: dpkt's protocol decoders
    (Ethernet, IPv6, TCP … — every frame of every input goes through them, and their branches
    reflect header kinds the extraction skips anyway); instrumented they made each input ≈ 1.5×
    slower.  dpkt's pcap and pcapng readers stay instrumented, and an exception out of a decoder
    is a finding all the same.  Listed without importing dpkt, which must first be imported
    inside ``instrument_imports``."""
    if target_name != "pcap":
        return []
    spec = importlib.util.find_spec("dpkt")
    locations = spec.submodule_search_locations if spec is not None else None
    return [f"dpkt.{m.name}" for m in pkgutil.iter_modules(locations or []) if m.name not in ("pcap", "pcapng")]


def _rss_mb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


def _seed(target_name: str, corpus: Path) -> int:
    from targets import TARGETS

    if not DATA.is_dir():
        raise SystemExit(f"shared data not found at {DATA} (set CCS2CHADEMO_DATA)")
    corpus.mkdir(parents=True, exist_ok=True)
    count = 0
    for data in TARGETS[target_name].seeds(DATA):
        (corpus / f"seed-{hashlib.sha1(data).hexdigest()[:16]}").write_bytes(data)
        count += 1
    return count


def _one(target_name: str) -> object:
    """The libFuzzer callback: the target's parser, its documented errors swallowed."""
    from targets import TARGETS

    target = TARGETS[target_name]

    def test_one_input(data: bytes) -> None:
        with contextlib.suppress(target.allowed):
            target.run(data)

    return test_one_input


def child(args: argparse.Namespace) -> None:
    import atheris

    logging.disable(logging.WARNING)  # the readers' warnings about skipped lines, once per input: noise

    sys.path.insert(0, str(HERE))
    with atheris.instrument_imports(include=INSTRUMENTED, exclude=_uninstrumented(args.target)):
        from targets import TARGETS

    target = TARGETS[args.target]
    callback = _one(args.target)
    corpus = Path(args.workdir) / "corpus"
    if args.speed:
        _speed(args.target, callback, corpus, args.speed)
        return
    for path in sorted(corpus.iterdir()):  # warm caches and imports before measuring the baseline
        callback(path.read_bytes())  # type: ignore[operator]
    rss_limit = _rss_mb() + RSS_MARGIN_MB
    print(f"fuzz: baseline RSS {rss_limit - RSS_MARGIN_MB} MB, limit {rss_limit} MB", file=sys.stderr, flush=True)
    argv = [sys.argv[0], str(corpus), f"-runs={args.runs}", f"-timeout={TIMEOUT_S}",
            f"-rss_limit_mb={rss_limit}", f"-max_len={target.max_len}", "-print_final_stats=1",
            f"-artifact_prefix={args.workdir}/"]
    if args.seconds:
        argv.append(f"-max_total_time={args.seconds}")
    atheris.Setup(argv, callback)
    atheris.Fuzz()


def _speed(target_name: str, callback: Any, corpus: Path, seconds: float) -> None:
    """Inputs per second of the target alone, instrumented as when fuzzing: every corpus file in
    turn, again and again for ``seconds`` (no mutation, no libFuzzer bookkeeping)."""
    inputs = [p.read_bytes() for p in sorted(corpus.iterdir())]
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for data in inputs:
            callback(data)
        count += len(inputs)
    elapsed = time.perf_counter() - start
    print(json.dumps({"target": target_name, "corpus": len(inputs), "mean_bytes": sum(map(len, inputs)) // len(inputs),
                      "inputs": count, "seconds": round(elapsed, 1), "inputs_per_s": round(count / elapsed)}))


def reproduce(target_name: str, path: Path) -> int:
    sys.path.insert(0, str(HERE))
    from targets import TARGETS

    target = TARGETS[target_name]
    start = time.perf_counter()
    try:
        target.run(path.read_bytes())
    except target.allowed as exc:
        print(f"documented error ({type(exc).__name__}): {exc}")
    print(f"{time.perf_counter() - start:.3f} s, RSS {_rss_mb()} MB")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target")
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=0, help="stop after this long (0: only --runs)")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reproduce", type=Path, default=None)
    parser.add_argument("--speed", type=float, default=0,
                        help="measure inputs/s over the corpus for this many seconds instead of fuzzing")
    args = parser.parse_args()
    workdir = Path(args.workdir or ROOT / "build" / "fuzz" / args.target)
    args.workdir = str(workdir)
    if args.child:  # before anything imports the package: atheris instruments it as it is imported
        child(args)
        return 0
    sys.path.insert(0, str(HERE))
    from targets import TARGETS

    if args.target not in TARGETS:
        parser.error(f"unknown target {args.target!r}; known: {', '.join(TARGETS)}")
    if args.reproduce is not None:
        return reproduce(args.target, args.reproduce)
    seeds = _seed(args.target, workdir / "corpus")
    if args.speed:
        return subprocess.run([sys.executable, __file__, args.target, "--child", f"--speed={args.speed}",
                               f"--workdir={workdir}"], check=False).returncode
    start, deadline = time.perf_counter(), time.perf_counter() + (args.seconds or 1e9)
    runs, spurious, exit_code, cov = 0, 0, 0, []
    artifacts: list[str] = []
    log_path = workdir / "fuzz.log"
    while runs < args.runs and time.perf_counter() < deadline and spurious <= MAX_SPURIOUS:
        wall = time.time()
        seconds = max(1, int(deadline - time.perf_counter())) if args.seconds else 0
        command = [sys.executable, __file__, args.target, "--child", f"--runs={args.runs - runs}",
                   f"--seconds={seconds}", f"--workdir={workdir}"]
        with log_path.open("a") as log:
            exit_code = subprocess.run(command, stderr=log, stdout=log, check=False).returncode
        text = log_path.read_text(errors="replace")
        runs += int(dict(re.findall(r"^stat::(\w+):\s+(\d+)", text, re.M)).get("number_of_executed_units", 0))
        cov = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)", text) or cov
        log_path.rename(workdir / "fuzz.last.log")
        found = [p for p in workdir.glob("*-*")
                 if p.name.split("-")[0] in ("crash", "timeout", "oom", "leak") and p.stat().st_mtime >= wall]
        if exit_code == 0 or not found:
            break
        if all(p.name.startswith("timeout-") and _cpu_seconds(args.target, p) < TIMEOUT_S for p in found):
            # libFuzzer's timeout is wall time: on a shared, loaded machine an input can wait for the
            # CPU for a second.  One that takes under TIMEOUT_S of CPU when run again is no hang.
            spurious += 1
            for p in found:
                p.rename(p.with_name("spurious-" + p.name))
            continue
        artifacts = sorted(str(p) for p in found)
        break
    summary = {"target": args.target, "seeds": seeds, "runs": runs, "seconds": round(time.perf_counter() - start, 1),
               "coverage": int(cov[-1][0]) if cov else None, "features": int(cov[-1][1]) if cov else None,
               "corpus": int(cov[-1][2]) if cov else None, "exit": exit_code, "spurious_timeouts": spurious,
               "findings": len(artifacts), "artifacts": artifacts}
    print(json.dumps(summary))
    return 1 if artifacts else 0


def _cpu_seconds(target_name: str, path: Path) -> float:
    """CPU time one input takes in this process (the parent: its imports are done)."""
    from targets import TARGETS

    target = TARGETS[target_name]
    start = time.process_time()
    try:
        target.run(path.read_bytes())
    except target.allowed:
        pass
    except Exception:  # a crash found by the timeout: a finding either way
        return float("inf")
    return time.process_time() - start

if __name__ == "__main__":
    sys.exit(main())
