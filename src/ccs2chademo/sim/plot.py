"""The session figure (``session.png``): voltages, currents, SoC and both sides' state timelines.

Drawn from the ``sample`` records the simulated world writes once per virtual second (the same
records are in the JSON-lines session log), so ``ccs2chademo simulate --out`` and
``ccs2chademo plot LOG`` produce the same picture.  matplotlib runs on the Agg backend: no
display is needed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any


class PlotError(ValueError):
    """A log that cannot be plotted (unreadable, not JSON lines, no samples)."""


def read_samples(path: Path) -> list[dict[str, Any]]:
    """The ``sample`` records of a JSON-lines session log."""
    samples: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PlotError(f"{path}: cannot read: {exc}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PlotError(f"{path}:{number}: not a JSON line: {exc.msg}") from None
        if isinstance(record, dict) and record.get("kind") == "sample" and isinstance(record.get("t"), int | float):
            samples.append(record)
    if not samples:
        raise PlotError(f"{path}: no 'sample' records (is this a session log of `ccs2chademo simulate`?)")
    return samples


def _spans(times: Sequence[float], states: Sequence[str]) -> list[tuple[str, float, float]]:
    """Runs of equal state as (state, start, width)."""
    out: list[tuple[str, float, float]] = []
    for i, state in enumerate(states):
        end = times[i + 1] if i + 1 < len(times) else times[i] + 1.0
        if out and out[-1][0] == state:
            name, start, _ = out[-1]
            out[-1] = (name, start, end - start)
        else:
            out.append((state, times[i], end - times[i]))
    return out


def _series(samples: Iterable[Mapping[str, Any]], key: str) -> list[float]:
    return [float(s.get(key) or 0.0) for s in samples]


def plot_session(samples: Sequence[Mapping[str, Any]], path: Path, title: str = "ccs2chademo session") -> None:
    """Write the figure for ``samples`` (dicts with the :class:`~ccs2chademo.sim.world.Sample` keys)."""
    if not samples:
        raise PlotError("no samples to plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [float(s["t"]) for s in samples]
    fig, axes = plt.subplots(5, 1, figsize=(11, 10), sharex=True,
                             gridspec_kw={"height_ratios": [3, 3, 2, 1.2, 1.2]})
    volts, amps, soc, ccs, chademo = axes
    for key, label in (("charger_v", "charger output"), ("inlet_v", "car inlet"), ("battery_v", "battery")):
        volts.plot(t, _series(samples, key), label=label)
    volts.set_ylabel("V")
    volts.legend(loc="lower right", fontsize="small")
    for key, label in (("current_a", "delivered"), ("request_a", "car request (0x102)"),
                       ("ccs_target_a", "EVTargetCurrent")):
        amps.plot(t, _series(samples, key), label=label)
    amps.set_ylabel("A")
    amps.legend(loc="upper right", fontsize="small")
    soc.plot(t, _series(samples, "soc"), color="tab:green")
    soc.set_ylabel("SoC %")
    for ax, key, label in ((ccs, "ccs_state", "CCS"), (chademo, "chademo_state", "CHAdeMO")):
        spans = _spans(t, [str(s.get(key, "")) for s in samples])
        colours = plt.get_cmap("tab20")
        names = list(dict.fromkeys(name for name, _, _ in spans))
        for name, start, width in spans:
            ax.broken_barh([(start, width)], (0, 1), color=colours(names.index(name) % 20))
            if width > (t[-1] - t[0]) / 40:
                ax.text(start + width / 2, 0.5, name, ha="center", va="center", fontsize=6, clip_on=True)
        ax.set_yticks([])
        ax.set_ylabel(label)
    chademo.set_xlabel("session time (s)")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
