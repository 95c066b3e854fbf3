"""Running the specs: a local process pool, or a Dask distributed cluster (``--dask``).

A spec runs the same wherever it runs (the virtual world is seeded and knows no wall clock), so
the outcomes of a cluster and of the pool agree but for the wall time.  Outcomes come back in
the order of the specs.  Dask is an optional extra (``pip install ccs2chademo[cluster]``),
imported only when a scheduler address is given.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .spec import Outcome, Spec

#: told of every outcome as it arrives (the command appends it to ``outcomes.jsonl`` and shows progress)
OnOutcome = Callable[[Outcome], None]


class ClusterError(RuntimeError):
    """No Dask (the ``cluster`` extra is not installed) or no scheduler at the address."""


def run_spec(spec: Spec) -> Outcome:
    """One scenario (the function the workers run)."""
    return spec.run()


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def run_local(specs: Sequence[Spec], workers: int, on_outcome: OnOutcome | None = None) -> list[Outcome]:
    """On ``workers`` processes (1: in this process, no pool)."""
    outcomes: list[Outcome] = []
    if workers <= 1:
        results: Iterator[Outcome] = map(run_spec, specs)
        for outcome in results:
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
        return outcomes
    chunk = max(1, min(8, len(specs) // (workers * 8)))
    pool = ProcessPoolExecutor(workers)
    try:
        for outcome in pool.map(run_spec, specs, chunksize=chunk):
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    finally:  # interrupted: what has not started never will
        pool.shutdown(wait=True, cancel_futures=True)
    return outcomes


def run_dask(specs: Sequence[Spec], address: Any, on_outcome: OnOutcome | None = None) -> tuple[list[Outcome], int]:
    """On the Dask cluster whose scheduler is at ``address`` (``tcp://HOST:8786``, or an existing
    ``distributed.Client``); returns the outcomes and the number of worker threads it offered."""
    try:
        distributed: Any = importlib.import_module("distributed")  # untyped, optional: used as Any
    except ImportError:
        raise ClusterError("--dask needs the cluster extra: pip install 'ccs2chademo[cluster]'") from None
    own = not isinstance(address, distributed.Client)
    try:
        client = distributed.Client(address, timeout="20s") if own else address
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"no Dask scheduler at {address}: {exc}") from None
    try:
        workers = int(sum(client.nthreads().values()))
        futures = client.map(run_spec, list(specs), pure=False, batch_size=64)
        index = {f.key: i for i, f in enumerate(futures)}
        outcomes: list[Outcome | None] = [None] * len(futures)
        for future in distributed.as_completed(futures):
            outcome = future.result()
            outcomes[index[future.key]] = outcome
            if on_outcome is not None:
                on_outcome(outcome)
        return [o for o in outcomes if o is not None], workers
    finally:
        if own:
            client.close()
