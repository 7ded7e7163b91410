"""A SimPy reference model of one building with shared air, written from the rules in csrc/emu.h ("Shared
air"), not from the C engine: every link-layer attempt of every installation is a SimPy step, channel access
(802.15.4 unslotted CSMA-CA on the HAN, EN 300 220 listen-before-talk on the bridge link) is simulated as
written, frames are intervals on a channel list, collisions are overlaps with another installation's frame.
No lone-download shortcut, no closed forms, Python's Mersenne Twister instead of Philox: the engine must agree
with it in distribution (tests/test_emulate_buildings.py, and ``althan-ota bench emulate``'s building row).

It builds on the single-installation model (simpy_emulator): the download's exchange and loop are the same,
only the way one frame is sent differs. Needs ``simpy`` (in the ``test`` extra).
"""

from __future__ import annotations

import math
import random

import numpy as np

from ..emulate.engine import engine_config, shared_config
from ..emulate.params import EmulationParams
from . import simpy_emulator as single
from .simpy_emulator import BRIDGE, HAN, HUB, METER


class _Channel:
    """One shared channel of the building: the frames sent on it, and who is downloading on it."""

    def __init__(self, window: int):
        self.frames: list[list] = []          # [start, end, installation, power, interference-holder]
        self.active: dict[int, int] = {}      # installation -> its downloads active on the channel
        self.window = window

    def others_active(self, inst: int) -> bool:
        return any(count for who, count in self.active.items() if who != inst)

    def _prune(self, now: int) -> None:
        self.frames = [f for f in self.frames if f[1] + self.window > now]

    def put(self, start: int, end: int, inst: int, power: float) -> list:
        """A frame going on air now; returns its holder [interference] (strongest overlapping other frame)."""
        self._prune(start)
        mine = [-math.inf]
        for f in self.frames:
            if f[2] != inst and f[0] < end and f[1] > start:
                mine[0] = max(mine[0], f[3])
                f[4][0] = max(f[4][0], power)
        self.frames.append([start, end, inst, power, mine])
        return mine

    def busy(self, start: int, end: int, inst: int) -> bool:
        return any(f[2] != inst and f[0] < end and f[1] > start for f in self.frames)


class _SharedDownload(single._Download):
    def __init__(self, env, cfg, shared, building, inst, side, path, per, rnd, access_rnd, channels, power):
        super().__init__(env, cfg, side, path, per, rnd)
        self.shared, self.building, self.inst = shared, building, inst
        self.access_rnd, self.channels, self.power = access_rnd, channels, power

    def _set_active(self, delta: int) -> None:
        for link in ((HAN, BRIDGE) if self.side == METER else (HAN,)):
            ch = self.channels[link]
            ch.active[self.inst] = ch.active.get(self.inst, 0) + delta

    def run(self, start: int):
        if start >= 2**62:
            yield from super().run(start)
            return
        yield self.env.timeout(max(0, start - self.env.now))
        self._set_active(+1)
        yield from super().run(self.env.now)
        self._set_active(-1)

    def _survived(self, holder: list, link: int) -> bool:
        margin = self.shared["capture_margin_db"]
        return holder[0] == -math.inf or (not math.isnan(margin) and self.power[link] >= holder[0] + margin)

    def send(self, link: int, airtime_and_span, tx: int | None):
        """One frame in link-layer attempts on shared air. Returns 'ok', 'lost' or 'cut'."""
        env = self.env
        name = "bridge" if link == BRIDGE else "han"
        L, A = self.cfg[name], self.shared[name]
        channel = self.channels[link]
        airtime, span = airtime_and_span
        for attempt in range(L["max_retries"] + 1):
            if self.cut:
                return "cut"
            if A["access"] == "aloha" or not channel.others_active(self.inst):
                ready = env.now + L["tx_delay"]
                on_air = ready if tx is None else max(ready, self.dc_free[tx])
                if on_air >= self._cut_at():
                    return "cut"
                self.dc_wait += on_air - ready
            else:
                t0 = env.now if tx is None else max(env.now, self.dc_free[tx])
                self.dc_wait += t0 - env.now
                yield env.timeout(t0 - env.now)
                be, busy_count = A["min_be"], 0
                wait = self.access_rnd.randrange(2 ** be) * A["unit"] if A["access"] == "csma_802154" else 0
                on_air = None
                while True:
                    yield env.timeout(wait)
                    listen_from = env.now
                    yield env.timeout(A["cca"])
                    if not channel.busy(listen_from, env.now, self.inst):
                        on_air = env.now + A["cca_to_tx"]
                        break
                    busy_count += 1
                    if A["access"] == "csma_802154":
                        if busy_count > A["max_backoffs"]:
                            break
                        be = min(be + 1, A["max_be"])
                        wait = self.access_rnd.randrange(2 ** be) * A["unit"]
                    else:
                        if busy_count > A["max_deferrals"]:
                            break
                        wait = (1 + self.access_rnd.randrange(A["max_slots"])) * A["unit"]
                if on_air is None:                       # channel access failure: a failed attempt
                    if attempt < L["max_retries"]:
                        self.link_retries[link] += 1
                    continue
                if on_air >= self._cut_at():
                    return "cut"
            yield env.timeout(on_air - env.now)
            if tx is not None:
                self.dc_free[tx] = on_air + span
            self.airtime[link] += airtime
            self.frames[link] += 1
            data = channel.put(on_air, on_air + airtime, self.inst, self.power[link])
            yield env.timeout(airtime)
            lost = self.loss[link].attempt_fails()
            data_end = env.now
            if not lost and self._survived(data, link):
                ack_on_air = data_end + L["turnaround"]
                if tx is not None:
                    self.dc_free[1 - tx] = max(self.dc_free[1 - tx], ack_on_air) + L["ack"][1]
                self.airtime[link] += L["ack"][0]
                self.frames[link] += 1
                yield env.timeout(L["turnaround"])
                ack = channel.put(ack_on_air, ack_on_air + L["ack"][0], self.inst, self.power[link])
                yield env.timeout(L["ack"][0])
                if self._survived(ack, link):
                    return "ok"
                yield env.timeout(max(0, data_end + L["ack_timeout"] - env.now))
            else:
                yield env.timeout(L["ack_timeout"])
            if attempt < L["max_retries"]:
                self.link_retries[link] += 1
        return "lost"

    def _cut_at(self) -> float:
        # this model has no outages (reference_building refuses them): nothing cuts an exchange
        return math.inf


def _installation(env, cfg, shared, params, building, inst, key, row, out, channels):
    rnd = random.Random(f"{cfg['seed']}:{key}")
    access = [random.Random(f"{cfg['seed']}:{key}:access{side}") for side in (HUB, METER)]
    power_rnd = random.Random(f"{cfg['seed']}:{key}:power")
    power = (params.rssi_sigma_db * power_rnd.gauss(0.0, 1.0), params.rssi_sigma_db * power_rnd.gauss(0.0, 1.0))
    per, wan_failed, image_at = single.draw_installation(rnd, cfg, params)
    path = [single._Entity(env)]                     # never goes down: no outages in this model
    dls = [_SharedDownload(env, cfg, shared, building, inst, side, path, tuple(per), rnd, access[side], channels,
                           power) for side in (HUB, METER)]
    yield from single.run_pair(env, cfg, dls, image_at, wan_failed)
    single.write_rows(out, row, cfg, dls, per, rnd, wan_failed, image_at)


def reference_building(n: int, image_size: int, params: EmulationParams, seed: int = 0, first_key: int = 0,
                       han_channel=None, bridge_channel=None) -> dict[str, np.ndarray]:
    """One building of n installations (keys first_key ..), all sharing the air (``params.contention``
    must be on), as the SimPy model runs it: the same columns as :class:`EmulationResult` (a dict of arrays).
    han_channel / bridge_channel: optional channel per installation (default: one channel each). Outages
    are not modelled here (give ``OutageParams.none()``)."""
    import simpy

    from ..emulate.airtime import MAX_BLOCK

    params.validate(MAX_BLOCK)
    if not params.contention:
        raise ValueError("reference_building models shared air: give EmulationParams(contention=True)")
    o = params.outages
    if any((o.ch_mean_down_s, o.hub_mean_down_s, o.meter_mean_down_s, o.ch_windows, o.hub_windows,
            o.meter_windows)):
        raise ValueError("reference_building has no outages: give outages=OutageParams.none()")
    cfg = engine_config(image_size, params, seed)
    shared = shared_config(params)
    han_channel = np.zeros(n, np.int64) if han_channel is None else np.asarray(han_channel)
    bridge_channel = np.zeros(n, np.int64) if bridge_channel is None else np.asarray(bridge_channel)
    han_channels = {c: _Channel(shared["han"]["cca"]) for c in set(han_channel.tolist())}
    bridge_channels = {c: _Channel(shared["bridge"]["cca"]) for c in set(bridge_channel.tolist())}
    out = single.result_arrays(n)
    env = simpy.Environment()
    building = object()
    procs = [env.process(_installation(env, cfg, shared, params, building, row, first_key + row, row, out,
                                       {HAN: han_channels[int(han_channel[row])],
                                        BRIDGE: bridge_channels[int(bridge_channel[row])]}))
             for row in range(n)]
    env.run(until=env.all_of(procs))
    return out
