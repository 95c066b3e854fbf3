"""The iso15118 package's SECC with an EVSE controller of ours (run by .venv-peer's Python).

The stock simulated controller reports a present voltage stuck at 1 V and 40 V / 40 A limits, so
no real EV would ever leave PreCharge; this one ramps the output toward the EV's target at
``RAMP`` V/s from the first PreChargeReq, holds it in CurrentDemand, lets it fall after
PowerDelivery(OFF) and advertises a 450 V / 125 A / 50 kW charger.  Started like
``python -m iso15118.secc.main`` (environment NETWORK_INTERFACE, PROTOCOLS, AUTH_MODES, and for
TLS PKI_PATH, ENABLE_TLS_1_3).

Offering ISO 15118-20, it first runs one message of each -20 message set through its codec: the
JVM's first -20 encode loads that schema's grammar, which took over 4 s on the loaded 2-core test
machine — past the EV's 2 s SessionSetup timeout — while a warm codec answers in milliseconds.
"""

import asyncio
import json
import time

from iso15118.secc import SECCHandler
from iso15118.secc.controller.interface import ServiceStatus
from iso15118.secc.controller.simulator import SimEVSEController
from iso15118.secc.secc_settings import Config
from iso15118.shared.exificient_exi_codec import ExificientEXICodec
from iso15118.shared.messages.datatypes import (
    DCEVSEChargeParameter,
    DCEVSEStatus,
    DCEVSEStatusCode,
    EVSENotification,
    PVEVSEMaxCurrentLimit,
    PVEVSEMaxPowerLimit,
    PVEVSEMaxVoltageLimit,
    PVEVSEMinCurrentLimit,
    PVEVSEMinVoltageLimit,
    PVEVSEPeakCurrentRipple,
)
from iso15118.shared.messages.enums import IsolationLevel, Namespace

RAMP = 150.0  # V/s


class RampingEVSEController(SimEVSEController):
    def __init__(self):
        super().__init__()
        self.target = 0.0
        self.started = None
        self.off_at = None

    def _voltage(self):
        now = time.monotonic()
        if self.off_at is not None:
            return max(0.0, self.target * (0.2 ** (now - self.off_at)))
        if self.started is None:
            return 0.0
        return min(self.target, RAMP * (now - self.started))

    async def send_charging_command(self, ev_target_voltage=None, ev_target_current=None, is_precharge=False,
                                    is_session_bpt=False):
        if ev_target_voltage:
            self.target = float(ev_target_voltage)
            if self.started is None:
                self.started = time.monotonic()
            self.off_at = None
        self.evse_data_context.present_current = 0 if is_precharge else int(ev_target_current or 0)

    async def stop_charger(self):
        self.off_at = time.monotonic()
        self.evse_data_context.present_current = 0

    async def get_evse_present_voltage(self, protocol):
        self.evse_data_context.present_voltage = int(self._voltage())
        return await super().get_evse_present_voltage(protocol)

    async def get_dc_charge_parameters(self):
        status = DCEVSEStatus(notification_max_delay=0, evse_notification=EVSENotification.NONE,
                              evse_isolation_status=IsolationLevel.VALID, evse_status_code=DCEVSEStatusCode.EVSE_READY)
        return DCEVSEChargeParameter(
            dc_evse_status=status,
            evse_maximum_power_limit=PVEVSEMaxPowerLimit(multiplier=1, value=5000, unit="W"),
            evse_maximum_current_limit=PVEVSEMaxCurrentLimit(multiplier=0, value=125, unit="A"),
            evse_maximum_voltage_limit=PVEVSEMaxVoltageLimit(multiplier=0, value=450, unit="V"),
            evse_minimum_current_limit=PVEVSEMinCurrentLimit(multiplier=0, value=1, unit="A"),
            evse_minimum_voltage_limit=PVEVSEMinVoltageLimit(multiplier=0, value=150, unit="V"),
            evse_peak_current_ripple=PVEVSEPeakCurrentRipple(multiplier=0, value=5, unit="A"))


_HEADER = {"SessionID": "00", "TimeStamp": 0}
WARM_UP = [  # (namespace, a request and a response of that -20 message set)
    (Namespace.ISO_V20_COMMON_MSG, {"SessionSetupReq": {"Header": _HEADER, "EVCCID": "WARM"}}),
    (Namespace.ISO_V20_COMMON_MSG, {"SessionSetupRes": {"Header": _HEADER, "ResponseCode": "OK", "EVSEID": "WARM"}}),
    (Namespace.ISO_V20_DC, {"DC_PreChargeReq": {"Header": _HEADER, "EVProcessing": "Ongoing",
                                                "EVPresentVoltage": {"Exponent": 0, "Value": 0},
                                                "EVTargetVoltage": {"Exponent": 0, "Value": 0}}}),
    (Namespace.ISO_V20_DC, {"DC_PreChargeRes": {"Header": _HEADER, "ResponseCode": "OK",
                                                "EVSEPresentVoltage": {"Exponent": 0, "Value": 0}}}),
]


async def main():
    config = Config()
    config.load_envs()
    codec = ExificientEXICodec()
    if any(p.name.startswith("ISO_15118_20") for p in config.supported_protocols):
        for namespace, message in WARM_UP:
            codec.decode(codec.encode(json.dumps(message), namespace.value), namespace.value)
    controller = RampingEVSEController()
    await controller.set_status(ServiceStatus.STARTING)
    await SECCHandler(exi_codec=codec, evse_controller=controller, config=config).start(config.iface)


if __name__ == "__main__":
    asyncio.run(main())
