"""Our EV side for the interop tests: run inside the EV's network namespace, prints one JSON line.

``ev_side.py IFNAME DEMAND_SECONDS SCHEMA [tls]``: SCHEMA ``din`` or ``iso2`` offers that alone;
``iso20`` / ``iso20-dynamic`` offers ISO 15118-20 DC first (DIN after it) in that control mode
(``iso20-bpt`` / ``iso20-dynamic-bpt``: a car that lets 20 A out down to 10 %, so DC_BPT is
selected where the charger lists it) —
over plain TCP with ``iso20-without-tls``, or with ``tls`` over TLS, the charger's certificate not
checked (``tls-accept-unverified``: the peer's PKI is not ours to trust).

The -20 runs give the peer :data:`PEER_SLACK` on top of every ISO 15118-20 timeout: its JVM codec
takes ≈0.1–0.3 s per -20 CommonMessages encode or decode on the shared 2-core test machine and
over 2 s for one SessionSetup when the machine is starved (two busy loops beside it: seen as
``timeout:SessionSetup``), past the standard's 1.5 s performance time — its speed, not its
messages, which are what these tests check.  The standard timeouts themselves are tested in
tests/v2g/test_evcc20.py.
"""

import asyncio
import json
import sys

from ccs2chademo.drivers.linux.ev_direct import run_ev_direct
from ccs2chademo.v2g.evcc import EvccConfig, EvRequest
from ccs2chademo.v2g.messages import DIN_PROTOCOL, ISO2_PROTOCOL
from ccs2chademo.v2g.tls import client_context

PEER_SLACK = 3.0  # s


def config(schema: str, tls: bool) -> EvccConfig:
    if schema.startswith("iso20"):
        mode = "dynamic" if "dynamic" in schema else "scheduled"
        patient = {kind: timeout + PEER_SLACK for kind, timeout in EvccConfig().iso20_timeouts.items()}
        return EvccConfig(protocols=(DIN_PROTOCOL,), iso20_priority=1, iso20_without_tls=not tls,
                          iso20_control_mode=mode, iso20_timeouts=patient)
    return EvccConfig(protocols=(ISO2_PROTOCOL if schema == "iso2" else DIN_PROTOCOL,))


if __name__ == "__main__":
    with_tls = sys.argv[4:] == ["tls"]
    bpt = sys.argv[3].endswith("-bpt")
    request = EvRequest(target_voltage=400.0, target_current=20.0, precharge_voltage=380.0, max_voltage=401.0,
                        soc=50, discharge_current_limit=20.0 if bpt else 0.0, discharge_floor_soc=10 if bpt else None,
                        battery_capacity_wh=40_000.0 if bpt else 0.0)
    print(json.dumps(asyncio.run(run_ev_direct(
        sys.argv[1], request, demand_seconds=float(sys.argv[2]), config=config(sys.argv[3], with_tls),
        timeout=120.0, tls=client_context(accept_unverified=True) if with_tls else None))))
