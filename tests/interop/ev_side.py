"""Our EV side for the interop test: run inside the EV's network namespace, prints one JSON line."""

import asyncio
import json
import sys

from ccs2chademo.drivers.linux.ev_direct import run_ev_direct
from ccs2chademo.v2g.evcc import EvccConfig, EvRequest
from ccs2chademo.v2g.messages import DIN_PROTOCOL, ISO2_PROTOCOL

if __name__ == "__main__":
    request = EvRequest(target_voltage=400.0, target_current=20.0, precharge_voltage=380.0, max_voltage=401.0,
                        soc=50)
    config = EvccConfig(protocols=(ISO2_PROTOCOL if sys.argv[3] == "iso2" else DIN_PROTOCOL,))
    print(json.dumps(asyncio.run(run_ev_direct(sys.argv[1], request, demand_seconds=float(sys.argv[2]),
                                               config=config))))
