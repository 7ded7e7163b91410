"""Fleet emulation of OTA rollouts over P2P Alt HAN installations (C engine, block level, deterministic).

>>> from althan_ota.emulate import emulate, EmulationParams
>>> result = emulate(10_000, image_size=240_000, params=EmulationParams(), seed=1)
>>> result.summary().outcomes
"""

from .engine import FIDELITIES, emulate
from .frames import MAX_BLOCK
from .params import BridgeLink, EmulationParams, GilbertElliott, HanLink, OtaParams, OutageParams
from .result import DEVICE_COLUMNS, OUTCOMES, SIDES, EmulationResult, FleetSummary

__all__ = ["BridgeLink", "DEVICE_COLUMNS", "EmulationParams", "EmulationResult", "FIDELITIES", "FleetSummary",
           "GilbertElliott", "HanLink", "MAX_BLOCK", "OUTCOMES", "OtaParams", "OutageParams", "SIDES", "emulate"]
