"""``ccs2chademo simulate``: a whole charging session — CCS charger, our adapter, a CHAdeMO car —
in virtual time (adapter.md §15; the world is :mod:`ccs2chademo.sim.world`).

By default a live terminal view follows the session (both sides' states, voltages, current, SoC,
LED, button, progress to the target SoC, event lines), refreshed a few times per wall second so
the view costs little virtual speed.  ``--json`` prints one summary object instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from ..adapter.config import AdapterConfig, ConfigError, load_config
from ..drivers.pcapng import PcapngWriter, session_epoch
from ..runtime import CanFrame
from ..runtime.logfile import SessionLogFileHandler
from ..runtime.sessionlog import LOGGER_NAME, JsonLinesFormatter
from ..sim.clara_world import CLARA_FAULTS
from ..sim.faults import FAULT_NAMES as CHARGER_FAULTS
from ..sim.hostile import CHARGERS
from ..sim.pki import make_test_pki
from ..sim.plot import plot_session
from ..sim.profiles import PROFILE_NAMES, ProfileError, load_profile
from ..sim.tls_charger import MAX_VERSIONS, TLS_VARIANTS, ChargerTls, trusting_config
from ..sim.world import SAMPLE_FIELDS, WORLD_FAULTS, Scenario, Summary, World, WorldError, build_world, summarize
from ..sim.zombie_vcu import VARIANTS
from ..web.server import ListenError, WebOptions, WebServer, parse_listen
from ..web.token import TokenError
from ._web_sim import serve_session

REFRESH_S = 0.25  # wall seconds between live-view refreshes
#: Session-log kinds shown as event lines in the live view.
EVENT_KINDS = frozenset({
    "state", "stop", "contactor", "power-off-pending", "fault", "ccs-ended", "welding-detection", "battery-voltage",
    "precharge-stall", "chademo-session", "car-stop", "safe-shutdown", "session-end", "button-press", "ccs-restart",
    "forced-off", "car-dtc", "target-frozen",
})


class _EventLines(logging.Handler):
    """Keeps the last session events for the live view (state changes, stops, faults)."""

    def __init__(self, size: int = 9) -> None:
        super().__init__(logging.INFO)
        self.lines: deque[str] = deque(maxlen=size)

    def emit(self, record: logging.LogRecord) -> None:
        entry = getattr(record, "session", None)
        if entry is None or entry["kind"] not in EVENT_KINDS:
            return
        fields = dict(entry["fields"])
        if entry["kind"] == "state" and entry["source"] not in ("car", "adapter"):
            return
        part = fields.pop("part", None)
        who = f"{entry['source']}.{part}" if part else entry["source"]
        fields.pop("previous", None)
        text = " ".join(f"{k}={v}" for k, v in fields.items())
        self.lines.append(f"{entry['t']:8.1f} {who:<15} {entry['kind']:<12} {text}"[:140])


@contextmanager
def _session_logging(out: Path | None, live: _EventLines | None) -> Iterator[None]:
    logger = logging.getLogger(LOGGER_NAME)
    handlers: list[logging.Handler] = []
    if out is not None:
        file_handler = SessionLogFileHandler(out / "session.jsonl", mode="w", encoding="utf-8")
        file_handler.setFormatter(JsonLinesFormatter())
        file_handler.setLevel(logging.INFO)
        handlers.append(file_handler)
    if live is not None:
        handlers.append(live)
    old = logger.level, logger.propagate
    for handler in handlers:
        logger.addHandler(handler)
    if handlers:
        logger.setLevel(logging.INFO if not old[0] else min(old[0], logging.INFO))
        logger.propagate = False
    try:
        yield
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
        logger.setLevel(old[0])
        logger.propagate = old[1]


def _view(world: World, events: _EventLines, wall: float) -> Group:
    bridge, hw, sc = world.bridge, world.hw, world.scenario
    now = world.sim.now()
    table = Table.grid(padding=(0, 2))
    for _ in range(4):
        table.add_column()
    v = bridge.view()
    table.add_row("[b]CCS[/b]", v.ccs_state, "[b]CHAdeMO[/b]", v.chademo_state)
    table.add_row("car", str(world.car.state), "power", v.power_state)
    table.add_row("charger", f"{world.stage.voltage:6.1f} V", "inlet", f"{world.inlet_v:6.1f} V")
    table.add_row("battery", f"{world.battery.voltage:6.1f} V", "current", f"{world.current_a:6.1f} A")
    table.add_row("car request", f"{world.car.request:4d} A", "EVTargetCurrent",
                  f"{v.ccs_target_current_a or 0:6.1f} A")
    table.add_row("contactor", "closed" if hw.contactor.closed else "open", "d1/d2",
                  f"{'on' if hw.d1 else 'off'}/{'on' if hw.d2 else 'off'}")
    table.add_row("LED", "●" if hw.led else "○", "button", "pressed" if hw.button else "—")
    table.add_row("estimate", f"{v.battery_estimate_v or 0:6.1f} V", "violations",
                  str(len(world.invariants.violations)))
    stop = sc.soc_stop if sc.soc_stop is not None else world.profile.stop_soc
    span = max(1e-6, float(stop) - sc.soc_start)
    done = min(span, max(0.0, world.battery.soc - sc.soc_start))
    progress = Table.grid(padding=(0, 1))
    progress.add_row(f"SoC {world.battery.soc:5.1f} %", ProgressBar(total=span, completed=done, width=50),
                     f"→ {stop} %", f"{world.energy_kwh():6.2f} kWh")
    speed = now / wall if wall > 0 else 0.0
    who = sc.car if world.config.mode == "chademo" else f"{world.config.mode} mode"
    title = (f"{who} on {sc.charger} — t = {now:7.1f} s virtual, {wall:5.1f} s wall (×{speed:,.0f})")
    lines = Text("\n".join(events.lines) or "…", style="dim", no_wrap=True, overflow="ellipsis")
    return Group(Panel(Group(table, progress), title=title), Panel(lines, title="events"))


def _list() -> None:
    click.echo("cars:")
    for name in PROFILE_NAMES:
        click.echo(f"  {name:<16} {load_profile(name).description}")
    click.echo("chargers:")
    for name, personality in CHARGERS.items():
        click.echo(f"  {name:<16} {personality.description}")
    click.echo("charger reply faults (NAME[@STATE]; STATE a DIN message name — or an ISO 15118-20 one at a -20 "
               "charger, e.g. DC_ChargeLoop — default CurrentDemand):")
    for name in CHARGER_FAULTS:
        click.echo(f"  {name}")
    click.echo("world faults (NAME[@STATE][+SECONDS]; STATE a CCS, CHAdeMO or car state):")
    for name, meaning in WORLD_FAULTS.items():
        click.echo(f"  {name:<18} {meaning}")
    click.echo("clara-mode faults (--mode clara; NAME[@STATE][+SECONDS]):")
    for name, meaning in CLARA_FAULTS.items():
        click.echo(f"  {name:<18} {meaning}")


def _config(path: Path | None) -> AdapterConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _samples(world: World) -> list[dict[str, Any]]:
    return [{k: getattr(s, k) for k in SAMPLE_FIELDS} for s in world.samples]


@click.command("simulate")
@click.option("--car", default="leaf-ze1-40", show_default=True, help="Car profile (see --list).")
@click.option("--charger", default="alpitronic", show_default=True, help="Charger personality (see --list).")
@click.option("--soc-start", type=click.FloatRange(0, 100), default=20.0, show_default=True, help="Initial SoC (%).")
@click.option("--soc-stop", type=click.IntRange(1, 100), default=80, show_default=True,
              help="Stop at this SoC (sets stop-charging-soc; 100 lets the car decide).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Adapter configuration (TOML).")
@click.option("--fault", "faults", multiple=True, metavar="NAME[@STATE]",
              help="Inject a fault (repeatable; see --list).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Write session.jsonl, ccs.pcapng, chademo.log (candump) and session.png here.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary at the end (no live view).")
@click.option("--realtime", is_flag=True, help="Pace virtual time to the wall clock.")
@click.option("--list", "list_", is_flag=True, help="List cars, chargers and faults.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the virtual world.")
@click.option("--mode", type=click.Choice(["chademo", "clara", "lightbulb"]),
              help="The side that feeds the car (default: the configuration's mode): a CHAdeMO car, a "
                   "CAN-controlled EV (a VCU and a 96s pack, docs/clara-mode.md) or the light-bulb demo.")
@click.option("--vcu", type=click.Choice([*VARIANTS, "none"]), default="zombieverter", show_default=True,
              help="--mode clara: the VCU (ZombieVerter with its SDO map configuration, or a generic BMS), or none: "
                   "the stand-alone demo charging a pack at demo-voltage with demo-current.")
@click.option("--ac", "ac_amps", type=click.FloatRange(6.0, 80.0), default=None,
              help="--mode clara: basic AC — an AC EVSE offering this many amperes by its CP duty cycle "
                   "(IEC 61851-1) instead of the DC charger; the VCU's on-board charger charges.")
@click.option("--protocol", type=click.Choice(["din", "iso2"]),
              help="Restrict the charger to one schema (default: it picks DIN from what the EV offers).")
@click.option("--speed", type=click.FloatRange(min=0.01), default=None, metavar="N",
              help="--realtime: run N× faster than the wall clock (default 1).")
@click.option("--web", "web", metavar="[ADDR:]PORT",
              help="--realtime: serve the status page (docs/web.md) on ADDR (default 127.0.0.1); it stays up "
                   "after the session until Ctrl-C.")
@click.option("--tls", "tls_variant", type=click.Choice(TLS_VARIANTS),
              help="The charger serves TLS with a test PKI generated for this run (--out DIR/pki/): ok, or a "
                   "hostile wrong-root / expired certificate / handshake stall.  Unless the config's [ccs] "
                   "chose TLS, the adapter requires it and trusts the generated root (key log: "
                   "--out DIR/tls-keys.log).")
@click.option("--no-codec-cache", "no_codec_cache", is_flag=True,
              help="Encode and decode every EXI message as the adapter does, without the simulation's cache "
                   "(slower; the links and logs are the same).")
@click.option("--tls-max", type=click.Choice(sorted(MAX_VERSIONS)), default="1.3", show_default=True,
              help="--tls: the highest TLS version the charger speaks (1.2: an ISO 15118-2 charger).")
def command(car: str, charger: str, soc_start: float, soc_stop: int, config_path: Path | None,
            faults: tuple[str, ...], out: Path | None, as_json: bool, realtime: bool, list_: bool, seed: int,
            mode: str | None, vcu: str, ac_amps: float | None, protocol: str | None, speed: float | None,
            web: str | None, tls_variant: str | None, tls_max: str, no_codec_cache: bool) -> None:
    """Simulate a charging session: CCS charger ↔ adapter ↔ CHAdeMO car (or, --mode clara, a
    CAN-controlled EV), in virtual time."""
    if list_:
        _list()
        return
    if (speed is not None or web is not None) and not realtime:
        raise click.UsageError("--speed and --web go with --realtime")
    listen = _listen(web) if web is not None else None
    config = _config(config_path)
    if mode is not None:
        config = config.model_copy(update={"mode": mode})
    if ac_amps is not None and config.mode != "clara":
        raise click.UsageError("--ac is basic AC charging of the clara mode: add --mode clara")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    pki_dir = None if tls_variant is None or out is not None else tempfile.TemporaryDirectory(prefix="ccs2chademo-pki-")
    tls = None
    if tls_variant is not None:
        pki = make_test_pki(out / "pki" if out is not None else Path(pki_dir.name if pki_dir else "."))
        config = trusting_config(config, pki, keylog_file=out / "tls-keys.log" if out is not None else None)
        tls = ChargerTls(pki, tls_variant, tls_max)
    scenario = Scenario(car=car, charger=charger, soc_start=soc_start, soc_stop=soc_stop,
                        config=config, faults=faults, seed=seed, vcu=vcu, protocol=protocol, ac_amps=ac_amps, tls=tls,
                        codec_cache=not no_codec_cache)
    if out is not None:
        try:
            epoch = session_epoch()
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    events = None if as_json or listen is not None else _EventLines()
    frames: list[tuple[float, CanFrame]] = []
    with ExitStack() as stack:
        stack.enter_context(_session_logging(out, events))
        pcap = None
        if out is not None:
            writer = PcapngWriter(stack.enter_context((out / "ccs.pcapng").open("wb")), epoch=epoch)
            pcap = writer.write
        try:
            world = build_world(scenario, pcap=pcap, on_can=(lambda t, f: frames.append((t, f))) if out else None)
        except (WorldError, ProfileError) as exc:
            raise click.ClickException(str(exc)) from None
        wall0 = time.perf_counter()
        if listen is not None:
            options = WebOptions(host=listen[0], port=listen[1], config_path=config_path, config=config,
                                 session_logs=_session_logs(config, out), files=_capture_files(config, out))

            def end() -> None:
                summary = summarize(world, time.perf_counter() - wall0)
                stack.close()  # the session log and the capture are complete: the page lists them
                _finish(world, frames, out, as_json, summary)
                click.echo("session ended; the status page stays up until Ctrl-C", err=True)

            try:
                asyncio.run(serve_session(world, options, speed or 1.0, on_end=end, announce=_announce))
            except (OSError, TokenError) as exc:
                raise click.ClickException(f"--web {web}: {exc}") from None
            return
        if events is None:
            world.run(pace=_pacer(wall0, speed or 1.0) if realtime else None)
        else:
            _run_live(world, events, wall0, realtime, speed or 1.0)
        summary = summarize(world, time.perf_counter() - wall0)
    _finish(world, frames, out, as_json, summary)


def _finish(world: World, frames: list[tuple[float, CanFrame]], out: Path | None, as_json: bool,
            summary: Summary) -> None:
    if out is not None:
        _write_outputs(world, frames, out)
    if as_json:
        click.echo(json.dumps(summary.as_json()))
    else:
        _print_summary(summary, out)


def _listen(text: str) -> tuple[str, int]:
    try:
        return parse_listen(text)
    except ListenError as exc:
        raise click.BadParameter(str(exc), param_hint="--web") from None


def _announce(server: WebServer) -> None:
    note = " (changes need the access token: `ccs2chademo config show`)" if server.token else ""
    click.echo(f"status page: http://{server.options.host}:{server.port}/{note}", err=True)


def _session_logs(config: AdapterConfig, out: Path | None) -> list[Path]:
    """What the Sessions page reads: this run's ``--out`` log and the configured rotated log."""
    logs = [out / "session.jsonl"] if out is not None else []
    return logs + ([config.hardware.logging.session_log] if config.hardware.logging.session_log else [])


def _capture_files(config: AdapterConfig, out: Path | None) -> list[Path]:
    files = [out / "ccs.pcapng", out / "chademo.log"] if out is not None else []
    log = config.hardware.logging
    return files + [p for p in (log.pcapng, log.can_log) if p is not None]


def _pacer(wall0: float, speed: float = 1.0) -> Any:
    def pace(now: float) -> None:
        ahead = now / speed - (time.perf_counter() - wall0)
        if ahead > 0:
            time.sleep(ahead)

    return pace


def _run_live(world: World, events: _EventLines, wall0: float, realtime: bool, speed: float) -> None:
    console = Console()
    pacer = _pacer(wall0, speed) if realtime else None
    last = [0.0]
    with Live(_view(world, events, 0.0), console=console, auto_refresh=False, transient=False) as live:
        def pace(now: float) -> None:
            if pacer is not None:
                pacer(now)
            wall = time.perf_counter() - wall0
            if wall - last[0] >= REFRESH_S:
                last[0] = wall
                live.update(_view(world, events, wall), refresh=True)

        world.run(pace=pace)
        live.update(_view(world, events, time.perf_counter() - wall0), refresh=True)


def _write_outputs(world: World, frames: list[tuple[float, CanFrame]], out: Path) -> None:
    import can

    from ..canlog import write_log

    messages = [can.Message(timestamp=t, arbitration_id=f.arbitration_id, data=f.data,
                            is_extended_id=f.is_extended_id, channel="can0") for t, f in frames]
    write_log(messages, out / "chademo.log")
    sc = world.scenario
    # the SoC reached, not the target: a discharge (V2X) or an early stop ends elsewhere
    plot_session(_samples(world), out / "session.png", title=f"{sc.car} on {sc.charger}, SoC {sc.soc_start:g} → "
                 f"{world.battery.soc:.1f} %")


def _print_summary(s: Summary, out: Path | None) -> None:
    click.echo(f"result: {s.result}   stop reason: {s.stop_reason}")
    click.echo(f"SoC {s.soc_start:.1f} % → {s.soc_end:.1f} %, {s.energy_kwh:.2f} kWh in {s.virtual_s:.0f} s "
               f"virtual ({s.wall_s:.1f} s wall)")
    if s.invariant_violations:
        click.echo(f"{len(s.invariant_violations)} safety invariant violation(s):")
        for v in s.invariant_violations:
            click.echo(f"  {v['t']:9.2f} s  {v['invariant']}: {v['detail']}")
    else:
        click.echo("safety invariants: no violation")
    if out is not None:
        click.echo(f"wrote {out}/session.jsonl, ccs.pcapng, chademo.log, session.png")
