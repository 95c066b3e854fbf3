"""The reliability campaign (issue 15): thousands of simulated sessions with faults, each judged by
the safety invariants and by the end its faults call for, summarised in a report.

* :mod:`.spec` — one scenario (:class:`~.spec.ScenarioSpec`), the end it must reach
  (:class:`~.spec.Expected`) and its judged outcome (:class:`~.spec.Outcome`);
* :mod:`.matrix` — what to cross (cars, chargers, modes, faults, fault times, SoC windows, seeds):
  the ``smoke`` and ``full`` presets or a TOML file;
* :mod:`.dimensions` — the dimensions: each a function yielding specs from a matrix, registered by
  name (more scenario sources plug in the same way);
* :mod:`.expected` — the end each fault calls for;
* :mod:`.runner` — runs the specs on a process pool or a Dask cluster;
* :mod:`.report` — ``report.json`` and ``report.html``.

The command is ``ccs2chademo campaign`` (:mod:`ccs2chademo.commands.campaign`).
"""
