"""One name per physical signal a machine drives or reads.

Why: a machine says ``SetOutput(Output.D2, True)`` and a driver turns it into a pin level (on a
board, ``drivers/gpio.py``; in the simulation, ``sim/hardware.py``).  Before these names existed,
three different contactors answered to the same free string ``"contactor"``: the adapter's own,
the contactors of a CCS car that the EV session closes after PreCharge, and the charger's output
contactors.  Each physical thing now has exactly one name here; names that pass values between
machines (a status record, a demand) belong to the machine that defines them, not here.

The values are the GPIO role names of ``[hardware.gpio]`` where a role exists (the TOML is a
contract, so ``"contactor"`` stays the adapter contactor's role name).  ``StrEnum`` members
compare and hash as their values, so a driver keyed by role strings needs no change.
"""

from __future__ import annotations

from enum import StrEnum


class Output(StrEnum):
    """A physical output (the logical value a machine sets; the driver maps it to a level)."""

    #: the adapter's DC contactor between the CCS inlet and the CHAdeMO plug (bool: closed)
    ADAPTER_CONTACTOR = "contactor"
    #: the contactors of a CCS *car* (bool: closed) — the EV session closes them after PreCharge
    #: and opens them before WeldingDetection.  The adapter has none (its contactor follows its
    #: own rule, docs/bridge.md); a simulated CCS car and a CAN-controlled EV have them.
    EV_CONTACTOR = "ev_contactor"
    #: the control pilot state the car side presents to the charger: ``"B"`` or ``"C"``
    CP = "cp"
    #: CHAdeMO sequence signals 1 and 2 toward the car (bool: on)
    D1 = "d1"
    D2 = "d2"
    #: keeps the adapter powered (False cuts the power: the last output a shutdown drops)
    POWER_HOLD = "power_hold"
    #: both status LEDs (bool: lit)
    LED = "led"
    #: clara mode (docs/clara-mode.md): the CCS inlet's lock (bool: locked) and the light-bulb
    #: demo's load relay (bool: closed); GPIO roles of the same names
    LOCK = "lock"
    LOAD_RELAY = "load_relay"


class Input(StrEnum):
    """A physical input (the logical value a driver reports to the machines)."""

    #: the car's charge permission switch k, seen through the adapter's j opto-coupler (bool)
    K = "k"
    #: the stop button (bool: pressed)
    BUTTON = "button"
    #: the internal 4 V battery and the 12 V rail (float, volts, from the ADC)
    VCC4 = "vcc4"
    VCC12 = "vcc12"
    #: the voltmeter on the CCS inlet, if fitted (float, volts)
    INLET = "inlet"
    #: clara mode (docs/clara-mode.md): the inlet lock's feedback switch (bool: locked), the
    #: inlet's pin temperatures (float, °C) and the CP PWM duty cycle (float, %, basic AC)
    LOCK_FEEDBACK = "lock_feedback"
    INLET_TEMP1 = "inlet_temp1"
    INLET_TEMP2 = "inlet_temp2"
    CP_DUTY = "cp_duty"
