"""Fleet emulation of OTA rollouts over P2P Alt HAN installations (C engine, block level, deterministic).

Example::

    from althan_ota.emulate import EmulationParams, emulate
    result = emulate(10_000, image_size=240_000, params=EmulationParams(), seed=1)
    result.summary().outcomes      # {'completed': ..., 'aborted': ..., ...}
    table = result.to_arrow()      # one row per bridge

The rules are stated in csrc/emu.h; the parameters and the sources of their defaults in params.py; the
bytes-to-airtime frame model in airtime.py; a SimPy model of the same rules in althan_ota.testing.simpy_emulator;
the bytes fidelity (real frames, CCM*, FCS, SHA-256 of the reassembled image) in bytes.py and csrc/emu_bytes.h;
per-exchange traces of a few installations (``emulate(..., trace=True)``) in trace.py; one shared channel of a
building (802.15.4 CSMA-CA, EN 300 220 listen-before-talk, collisions, capture) in channel.py; installations of
a building sharing those channels (``EmulationParams(contention=True)``, ``emulate(..., buildings=...)``: the
per-building engine, "Shared air" in csrc/emu.h) with who shares what in buildings.py, and its SimPy model in
althan_ota.testing.simpy_building.
"""

from .buildings import ChannelAssignment, assign_channels
from .bytes import ByteParams
from .engine import FIDELITIES, contention_table, emulate
from .airtime import MAX_BLOCK
from .params import (BridgeLink, Csma802154, EmulationParams, GilbertElliott, HanLink, ListenBeforeTalk, OtaParams,
                     OutageParams)
from .result import DEVICE_COLUMNS, OUTCOMES, SIDES, EmulationResult, FleetSummary

__all__ = ["BridgeLink", "ByteParams", "ChannelAssignment", "contention_table", "Csma802154", "DEVICE_COLUMNS", "EmulationParams", "EmulationResult",
           "FIDELITIES", "FleetSummary", "GilbertElliott", "HanLink", "ListenBeforeTalk", "MAX_BLOCK", "OUTCOMES",
           "OtaParams", "OutageParams", "SIDES", "assign_channels", "emulate"]
