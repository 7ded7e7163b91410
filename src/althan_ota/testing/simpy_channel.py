"""A SimPy reference model of one shared channel (the rules of csrc/emu_channel.h), written independently of
the C event loop: one process per station, frames in a SimPy store, the channel a list of frames on air that
marks overlaps as they happen, Python's Mersenne Twister for the draws. The C engine must agree with it in
distribution (collision rate, access delays). Used by the tests and as the speed baseline of the building
model in ``althan-ota bench emulate``.

Needs ``simpy`` (in the ``test`` extra).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field


@dataclass
class _Frame:
    power: float
    strongest_other: float = -math.inf


@dataclass
class _Air:
    on_air: list = field(default_factory=list)
    last_end: float = -math.inf

    def busy_during(self, start: int) -> bool:
        return bool(self.on_air) or self.last_end > start


@dataclass
class ReferenceCounts:
    sent: int = 0
    delivered: int = 0
    collided: int = 0
    access_failures: int = 0
    assessments: int = 0
    busy_assessments: int = 0
    access_delays_ns: list = field(default_factory=list)
    station_airtime_ns: list = field(default_factory=list)

    @property
    def collision_probability(self) -> float:
        done = self.delivered + self.collided
        return self.collided / done if done else math.nan


def simulate_channel_reference(cfg: dict, duration_s: float, power_db=None, seed: int = 0) -> ReferenceCounts:
    """Runs the channel described by ``althan_ota.emulate.channel.channel_config`` (same dict) in SimPy."""
    import simpy

    env = simpy.Environment()
    air = _Air()
    counts = ReferenceCounts(station_airtime_ns=[0] * cfg["n_stations"])
    duration = round(duration_s * 1e9)
    capture = not math.isnan(cfg["capture_margin_db"])
    margin = cfg["capture_margin_db"]
    saturated = cfg["mean_interarrival"] <= 0

    def transmit(station: int, power: float):
        frame = _Frame(power)
        for other in air.on_air:
            frame.strongest_other = max(frame.strongest_other, other.power)
            other.strongest_other = max(other.strongest_other, power)
        air.on_air.append(frame)
        counts.sent += 1
        counts.station_airtime_ns[station] += cfg["airtime"]
        yield env.timeout(cfg["airtime"])
        air.on_air.remove(frame)
        air.last_end = env.now
        lost = frame.strongest_other > -math.inf and not (capture and power >= frame.strongest_other + margin)
        if lost:
            counts.collided += 1
        else:
            counts.delivered += 1

    def assess(rnd_wait: int):
        """Waits rnd_wait, senses for the CCA time; True when the channel was idle throughout."""
        yield env.timeout(rnd_wait)
        start = env.now
        yield env.timeout(cfg["cca"])
        counts.assessments += 1
        busy = air.busy_during(start)
        counts.busy_assessments += busy
        return not busy

    def access(rnd: random.Random):
        """Channel access for one frame; True when the frame may go on air (after the turnaround)."""
        mode = cfg["access"]
        if mode == "aloha":
            return True
        if mode == "nonpersistent":
            wait = 0
            while not (yield from assess(wait)):
                wait = int(rnd.expovariate(1.0 / cfg["unit"]))
        elif mode == "csma_802154":
            be = cfg["min_be"]
            for _ in range(cfg["max_backoffs"] + 1):
                if (yield from assess(rnd.randrange(2 ** be) * cfg["unit"])):
                    break
                be = min(be + 1, cfg["max_be"])
            else:
                return False
        else:   # lbt
            wait = 0
            for _ in range(cfg["max_deferrals"] + 1):
                if (yield from assess(wait)):
                    break
                wait = rnd.randint(1, cfg["max_slots"]) * cfg["unit"]
            else:
                return False
        yield env.timeout(cfg["cca_to_tx"])
        return True

    def station(i: int):
        rnd = random.Random(seed * 1_000_003 + i)
        power = 0.0 if power_db is None else float(power_db[i])
        frames = simpy.Store(env)
        free_at = 0

        def arrivals():
            while True:
                yield env.timeout(int(rnd.expovariate(1.0 / cfg["mean_interarrival"])))
                frames.put(env.now)

        if saturated:
            yield env.timeout(rnd.randrange(cfg["dc_span"]))      # a random phase, as the engine does
        else:
            env.process(arrivals())
        while True:
            if not saturated:
                yield frames.get()
            if free_at > env.now:
                yield env.timeout(free_at - env.now)
            head = env.now
            if (yield from access(rnd)):
                counts.access_delays_ns.append(env.now - head)
                free_at = env.now + cfg["dc_span"]
                yield from transmit(i, power)
            else:
                counts.access_failures += 1

    for i in range(cfg["n_stations"]):
        env.process(station(i))
    env.run(until=duration)
    return counts
