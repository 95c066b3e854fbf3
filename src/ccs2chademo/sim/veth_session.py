"""The two-process proof on real kernel networking: ``charger-sim`` and ``run`` in two network
namespaces joined by a veth pair, plus a capture of the veth (tests, ``make veth-demo``,
``bench/run.py``).

Why processes and not threads: each side must own its network stack (namespace), its signal
handlers and its exit status, exactly as the adapter runs on a Raspberry Pi next to a charger.
The adapter's config is written here: PLC on its veth end, GPIO ``sim`` (with a trace file of
every output change), CAN ``sim`` (the CHAdeMO car in the adapter process), the session log,
the adapter's own pcapng and a CAN log under ``artifacts``.  :meth:`VethSession.close` ends
every process it started (by its PID) and deletes both namespaces, on every way out.

``mode = "clara"``: the adapter is the clara mode's charge controller and the car a DIY
conversion with a ZombieVerter-like VCU on the adapter's private python-can ``virtual`` channel
(:mod:`.clara_rig`); the sim GPIO wires the clara roles too (lock, its feedback switch, the
inlet contactor line) and ``lock-feedback`` is on.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..drivers.hardware_config import ALL_INPUT_ROLES, ALL_OUTPUT_ROLES
from ..drivers.linux.netns import VethPair
from .stalled_disk import StalledFifo

PY = [sys.executable, "-m", "ccs2chademo"]
#: the priority the session's processes run at as root (``Nice=`` of deploy/ccs2chademo.service)
REALTIME_NICE = -10


@dataclass
class ProcessResult:
    returncode: int | None
    stdout: str
    stderr: str

    def summary(self) -> dict[str, Any] | None:
        """The last stdout line as JSON (both commands print their summary last)."""
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        if not lines:
            return None
        try:
            value = json.loads(lines[-1])
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None


@dataclass
class VethSession:
    """One charger, one adapter, one capture; a context manager."""

    artifacts: Path
    personality: str = "tesla-sc"
    car: str = "leaf-ze1-40"
    soc: float = 60.0
    stop_after_s: float | None = 5.0
    adapter_config: str = ""  # extra top-level TOML lines (adapter parameters)
    charger: bool = True
    fault: str | None = None  # charger-sim --fault NAME@STATE
    charger_timeout_s: float = 300.0
    #: the charger's output loaded with the car's own pack model at ``soc`` (``charger-sim --load``)
    #: instead of the flat stand-in: a long session (the veth soak) needs the reported voltage to rise
    #: with the car's battery, or the car stops on the deviation (sim/bench_charger.py)
    charger_load: bool = False
    adapter_env: dict[str, str] = field(default_factory=dict)  # e.g. NOTIFY_SOCKET for a systemd check
    mode: str = "chademo"  # or "clara": a VCU instead of the CHAdeMO car (module docstring)
    #: the adapter's command before ``--config …`` (a benchmark's probe wraps ``run``); default ``ccs2chademo run``
    adapter_command: tuple[str, ...] = ()
    adapter_args: tuple[str, ...] = ()  # more `run` options (e.g. `--web PORT`, bench/web.py)
    #: the charger serves TLS (``charger-sim --tls``, a test PKI made in ``artifacts/pki``): the variant
    #: (``ok``, ``wrong-root``, ``expired``, ``stall``); the adapter's ``[ccs] tls`` is ``adapter_tls``,
    #: trusting that PKI's root, its key log in ``artifacts/tls-keys.log``
    tls: str | None = None
    tls_max: str = "1.3"
    adapter_tls: str = "require"
    #: more ``[ccs]`` lines of the adapter's config (e.g. ``iso20-priority = 1``)
    ccs_config: str = ""
    #: the session log goes to a FIFO whose reader reads nothing for this many seconds from the
    #: session's start (sim/stalled_disk.py: a stalling SD card); :attr:`session_log` is its copy
    session_log_stall_s: float = 0.0
    veth: VethPair = field(init=False)
    procs: dict[str, subprocess.Popen[str]] = field(init=False, default_factory=dict)
    #: the nice value each process was given (None: refused, it runs at the caller's) — what a
    #: failing timing assertion reports beside :meth:`story`
    niceness: dict[str, int | None] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.veth = VethPair(prefix="c2c")  # a unique tag per session: parallel runs never collide
        self.charger_ns, self.charger_if = self.veth.ns_a, self.veth.if_a
        self.adapter_ns, self.adapter_if = self.veth.ns_b, self.veth.if_b
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self.config_path = self.artifacts / "adapter.toml"
        self.session_log = self.artifacts / "session.jsonl"
        self.stalled_log: StalledFifo | None = None
        self.gpio_trace = self.artifacts / "gpio.jsonl"
        self.capture = self.artifacts / "veth.pcapng"
        self.keylog = self.artifacts / "tls-keys.log"

    def __enter__(self) -> VethSession:
        try:
            self.veth.__enter__()
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- processes --------------------------------------------------------------------------
    def _spawn(self, name: str, ns: str, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        """Output goes to ``<name>.stdout``/``.stderr`` in the artefacts (kept; and a pipe nobody
        reads while a test polls would fill up and stall the process)."""
        with (self.artifacts / f"{name}.stdout").open("w") as out, (self.artifacts / f"{name}.stderr").open("w") as err:
            proc = subprocess.Popen(self.veth.command(ns, *argv), stdout=out, stderr=err, text=True,
                                    env={**os.environ, **env} if env else None)
        self.procs[name] = proc
        # The session's processes keep real-time protocol timings (SLAC's 50 ms windows, the
        # 100 ms CAN cycle): on a small machine that is also running a busy test worker they get
        # the CPU first, as a deployed adapter's service would (deploy/).  Only root (with
        # CAP_SYS_NICE) may raise it; :attr:`niceness` says what each process got.
        try:
            os.setpriority(os.PRIO_PROCESS, proc.pid, REALTIME_NICE)
        except OSError:
            self.niceness[name] = None
        else:
            self.niceness[name] = REALTIME_NICE

    def _start(self) -> None:
        for path in (self.session_log, self.gpio_trace):
            path.unlink(missing_ok=True)
        if self.session_log_stall_s > 0:
            self.stalled_log = StalledFifo(self.artifacts / "session.fifo", self.session_log,
                                           self.session_log_stall_s)
        ready = self.artifacts / ".capture-ready"
        ready.unlink(missing_ok=True)
        self._spawn("capture", self.adapter_ns, [sys.executable, "-m", "ccs2chademo.drivers.linux.sniff",
                                                 self.adapter_if, str(self.capture), str(ready)])
        if not wait_for(ready.exists, 10.0):
            raise RuntimeError("the veth capture did not start")
        self.config_path.write_text(self._config(), encoding="utf-8")
        if self.charger:
            self._spawn("charger", self.charger_ns, [*PY, "charger-sim", "--iface", self.charger_if,
                                                     "--personality", self.personality,
                                                     "--timeout", str(self.charger_timeout_s), "--json",
                                                     *(["--fault", self.fault] if self.fault else []),
                                                     *(["--load", self.car, "--load-soc", str(self.soc)]
                                                       if self.charger_load else []),
                                                     *self._tls_args()])
        argv = [*(self.adapter_command or (*PY, "run")), "--config", str(self.config_path), "-v", "--car", self.car,
                "--soc", str(self.soc), "--gpio-trace", str(self.gpio_trace), "--seed", "1"]
        if self.stop_after_s is not None:
            argv += ["--stop-after", str(self.stop_after_s)]
        self._spawn("adapter", self.adapter_ns, [*argv, *self.adapter_args], self.adapter_env)

    def _tls_args(self) -> list[str]:
        if self.tls is None:
            return []
        return ["--tls", str(self.artifacts / "pki"), "--tls-variant", self.tls, "--tls-max", self.tls_max]

    def _ccs_config(self) -> str:
        """``[ccs]``: TLS trusting the test PKI (made here, before either process starts), and
        ``ccs_config``."""
        if self.tls is None:
            return f"[ccs]\n{self.ccs_config}\n" if self.ccs_config else ""
        from .pki import make_test_pki  # cryptography: only for a TLS session

        pki = make_test_pki(self.artifacts / "pki")
        self.keylog.unlink(missing_ok=True)
        return (f"[ccs]\ntls = \"{self.adapter_tls}\"\nv2g-root-certs = [\"{pki.root}\"]\n"
                f"tls-keylog-file = \"{self.keylog}\"\n{self.ccs_config}\n")

    def _config(self) -> str:
        a = self.artifacts
        return (f"{self.adapter_config}\n{self._clara_config()}{self._ccs_config()}"
                f"[hardware.gpio]\nbackend = \"sim\"\n"
                f"[hardware.can]\ninterface = \"sim\"\n"
                f"[hardware.plc]\ninterface = \"{self.adapter_if}\"\n"
                f"[hardware.logging]\nsession_log = \"{self._log_path()}\"\npcapng = \"{a / 'adapter.pcapng'}\"\n"
                f"can_log = \"{a / 'can.log'}\"\n")

    def _log_path(self) -> Path:
        return self.stalled_log.fifo if self.stalled_log is not None else self.session_log

    def _clara_config(self) -> str:
        """Clara mode: the mode, the lock's feedback, and sim GPIO lines for every role (a sim
        backend given lines wires exactly those)."""
        if self.mode == "chademo":
            return ""
        roles = (*ALL_OUTPUT_ROLES, *ALL_INPUT_ROLES)
        lines = "".join(f"{role} = {{ line = {i} }}\n" for i, role in enumerate(roles))
        return f"mode = \"{self.mode}\"\n[clara]\nlock-feedback = true\n[hardware.gpio.lines]\n{lines}"

    def signal(self, name: str, sig: int = signal.SIGTERM) -> None:
        """Send ``sig`` to the command inside ``ip netns exec`` (which execs it: same PID)."""
        self.procs[name].send_signal(sig)

    def wait(self, name: str, timeout: float) -> ProcessResult:
        proc = self.procs[name]
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return self._result(name, None)
        return self._result(name, proc.returncode)

    def _result(self, name: str, returncode: int | None) -> ProcessResult:
        out, err = ((self.artifacts / f"{name}.{kind}").read_text(encoding="utf-8", errors="replace")
                    for kind in ("stdout", "stderr"))
        return ProcessResult(returncode, out, err)

    def close(self) -> dict[str, ProcessResult]:
        """Stop what still runs (SIGTERM, then SIGKILL), delete the namespaces; the outputs of
        processes that had to be stopped here."""
        left: dict[str, ProcessResult] = {}
        for name in ("adapter", "charger", "capture"):
            proc = self.procs.get(name)
            if proc is None or proc.returncode is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            left[name] = self.wait(name, 10.0)
        if self.stalled_log is not None:
            self.stalled_log.close()
        self.veth.cleanup()
        return left

    # -- observing the adapter ----------------------------------------------------------------
    def records(self) -> list[dict[str, Any]]:
        if not self.session_log.exists():
            return []
        out = []
        for line in self.session_log.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # the line being written right now
        return out

    def ccs_reached(self, state: str, part: str = "ccs") -> bool:
        """The bridge's part (``ccs``: the connection and EV session; ``slac``, ``sdp``, …) reached ``state``."""
        return any(r.get("kind") == "state" and r.get("part") == part and r.get("state") == state
                   for r in self.records())

    def story(self) -> list[str]:
        """The adapter's progress in short lines (states, restarts, stops): what a failing wait
        shows instead of the last few records."""
        lines = []
        for r in self.records():
            kind = r.get("kind")
            if kind == "state" or kind in ("ccs-restart", "stop", "ccs-ended", "safe-shutdown", "timeout"):
                what = r.get("state") if kind == "state" else kind
                why = r.get("reason") or r.get("cause") or ""
                lines.append(f"{r.get('t', 0):.2f} {r.get('part') or r.get('source')} {what} {why}".rstrip())
        return lines

    def gpio_changes(self) -> list[dict[str, Any]]:
        if not self.gpio_trace.exists():
            return []
        return [json.loads(line) for line in self.gpio_trace.read_text(encoding="utf-8").splitlines() if line]


def wait_for(predicate: Callable[[], bool], timeout: float, poll: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll)
    return predicate()


def main(argv: list[str]) -> int:
    """``python -m ccs2chademo.sim.veth_session ARTIFACTS [MODE]`` — ``make veth-demo`` (``make
    veth-demo-clara``: MODE ``clara``): one session, the adapter's summary JSON printed last."""
    artifacts = Path(argv[0] if argv else "test-artifacts/veth-demo")
    with VethSession(artifacts, mode=argv[1] if len(argv) > 1 else "chademo") as session:
        adapter = session.wait("adapter", 180.0)
        charger = session.wait("charger", 30.0)
        left = session.close()
    capture = left.get("capture")
    for name, result in (("charger", charger), ("capture", capture)):
        if result is not None:
            sys.stderr.write(f"== {name} (exit {result.returncode})\n{result.stdout}{result.stderr}")
    sys.stderr.write(f"== artefacts in {artifacts}/: veth.pcapng adapter.pcapng session.jsonl can.log gpio.jsonl\n")
    sys.stderr.write(f"== adapter (exit {adapter.returncode})\n")
    sys.stdout.write(adapter.stdout)
    ok = adapter.returncode == 0 and charger.returncode == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


def exit_on_termination() -> None:
    """Make SIGTERM and SIGHUP end the calling tool like Ctrl-C does, through ``SystemExit``.

    Python's default for SIGTERM kills the process without unwinding, so a long tool killed by
    its supervisor (``timeout``, systemd, a CI job's cancel) would leave a :class:`VethSession`'s
    namespaces and child processes behind; raised as an exception, ``close`` runs on the way out.
    """
    def _exit(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGHUP, _exit)
