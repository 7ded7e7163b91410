"""A SimPy reference model of the emulator's timing rules (csrc/emu.h), written the way one would without
the C engine: one event per link-layer attempt, one Bernoulli draw per attempt (a per-attempt Markov chain for
Gilbert-Elliott bursts), outages as processes that go down and up and tell the downloads on their path.
No closed forms, no geometric skips, no step cache, a different random generator (Python's Mersenne
Twister): the emulator must agree with it in distribution. Used by the tests and as the speed baseline.

The command set is modelled from emu.h's "The command set": each download is the CH's Image Notify (its frame
hops only), a Query Next Image exchange, the block exchanges (a block request reaching the CH before it is
ready is answered WAIT_FOR_DATA, and the client comes back after the delay asked for) and Upgrade End.

Needs ``simpy`` (in the ``test`` extra).
"""

from __future__ import annotations

import math
import random

import numpy as np

from ..emulate.engine import engine_config
from ..emulate.params import EmulationParams
from ..emulate.result import OUTCOMES

COMPLETED, ABORTED, WAN_FAILED, ACTIVATION_FAILED, TIMEOUT = (
    OUTCOMES.index(name) for name in ("completed", "aborted", "wan_failed", "activation_failed", "timeout"))
HAN, BRIDGE = 0, 1
HUB, METER = 0, 1
NS = 1_000_000_000


class _Entity:
    """Something that goes offline: tells the downloads on its path when it goes down."""

    def __init__(self, env):
        self.env = env
        self.down = False
        self.up_event = env.event()
        self.listeners: list[_Download] = []

    def go_down(self):
        self.down = True
        for dl in self.listeners:
            dl.path_went_down()

    def go_up(self):
        self.down = False
        self.up_event.succeed()
        self.up_event = self.env.event()


def _random_outages(env, entity: _Entity, rnd: random.Random, mean_up_s: float, mean_down_s: float):
    if mean_down_s <= 0:
        return
    while True:
        yield env.timeout(int(rnd.expovariate(1.0 / mean_up_s) * NS))
        entity.go_down()
        yield env.timeout(1 + int(rnd.expovariate(1.0 / mean_down_s) * NS))
        entity.go_up()


def _scheduled_outages(env, entity: _Entity, windows: np.ndarray):
    for start, end in windows.reshape(-1, 2):
        yield env.timeout(int(start) - env.now)
        entity.go_down()
        yield env.timeout(int(end) - env.now)
        entity.go_up()


class _Loss:
    """Per-attempt loss of one link for one download."""

    def __init__(self, rnd: random.Random, per: float, link: dict):
        self.rnd = rnd
        self.p = (per, link["per_bad"])
        self.bursty = link["mean_bad_len"] > 0
        if self.bursty:
            g, b = link["mean_good_len"], link["mean_bad_len"]
            self.leave = (1.0 / g, 1.0 / b)
            self.state = int(rnd.random() < b / (g + b))
        else:
            self.state = 0

    def attempt_fails(self) -> bool:
        lost = self.rnd.random() < self.p[self.state]
        if self.bursty and self.rnd.random() < self.leave[self.state]:
            self.state ^= 1
        return lost


class _Download:
    def __init__(self, env, cfg: dict, side: int, path: list[_Entity], per: tuple[float, float], rnd):
        self.env, self.cfg, self.side, self.path = env, cfg, side, path
        self.loss = (_Loss(rnd, per[HAN], cfg["han"]), _Loss(rnd, per[BRIDGE], cfg["bridge"]))
        self.dc_free = [0, 0]                 # bridge transmitters: hub-side, meter-side
        self.cut_event = None                 # fires when the path goes down during an exchange
        self.cut = False
        self.airtime = [0, 0]
        self.frames = [0, 0]
        self.link_retries = [0, 0]
        self.dc_wait = 0
        self.exchanges = self.exchange_retries = 0
        self.outcome = TIMEOUT
        self.t_start = self.t_end = self.t_service_end = None
        self.ready_at = None                  # block requests reaching the CH before this get WAIT_FOR_DATA
        self.waited = False                   # the exchange in progress was answered WAIT_FOR_DATA
        for e in path:
            e.listeners.append(self)

    def path_went_down(self):
        if self.cut_event is not None and not self.cut:
            self.cut = True
            self.cut_event.succeed()

    def wait_path_up(self):
        while any(e.down for e in self.path):
            yield self.env.any_of([e.up_event for e in self.path if e.down])

    def send(self, link: int, airtime_and_span, tx: int | None):
        """One frame in link-layer attempts. Returns 'ok', 'lost' or 'cut'."""
        env, L = self.env, self.cfg["bridge" if link == BRIDGE else "han"]
        airtime, span = airtime_and_span
        for attempt in range(L["max_retries"] + 1):
            if self.cut:
                return "cut"
            ready = env.now + L["tx_delay"]
            on_air = ready if tx is None else max(ready, self.dc_free[tx])
            yield env.timeout(on_air - env.now) | self.cut_event
            if self.cut:
                return "cut"
            self.dc_wait += on_air - ready
            if tx is not None:
                self.dc_free[tx] = on_air + span
            self.airtime[link] += airtime
            self.frames[link] += 1
            if not self.loss[link].attempt_fails():
                ack_on_air = on_air + airtime + L["turnaround"]
                if tx is not None:
                    self.dc_free[1 - tx] = max(self.dc_free[1 - tx], ack_on_air) + L["ack"][1]
                self.airtime[link] += L["ack"][0]
                self.frames[link] += 1
                yield env.timeout(airtime + L["turnaround"] + L["ack"][0])
                return "ok"
            yield env.timeout(airtime + L["ack_timeout"])
            if attempt < L["max_retries"]:
                self.link_retries[link] += 1
        return "lost"

    def exchange(self, kind: str):
        """One exchange of `kind`: request hops (none for an Image Notify, the CH's frame alone), the CH, then
        the response hops, whose frames the CH chooses on the request's arrival (WAIT_FOR_DATA or not)."""
        cfg, env = self.cfg, self.env
        requested = env.now
        self.waited = False
        request = [] if kind == "image_notify" else [(HAN, 0), "ch"]
        if self.side == METER and kind != "image_notify":
            request = [(BRIDGE, 0)] + request
        response = [(HAN, 1)] + ([(BRIDGE, 1)] if self.side == METER else [])
        answer = kind
        for hop in request + response:
            if hop == "ch":
                if kind in ("block", "last_block") and self.ready_at is not None and env.now < self.ready_at:
                    self.waited, answer = True, "wait_for_data"
                yield env.timeout(cfg["ch_response_delay"])
                continue
            link, direction = hop
            frame = cfg["han" if link == HAN else "bridge"]["frames"][answer if direction else kind][direction]
            tx = None if link == HAN else (METER if direction == 0 else HUB)
            result = yield from self.send(link, frame, tx)
            if result != "ok":
                if result == "lost":
                    yield env.timeout(max(0, requested + cfg["response_timeout"] - env.now))
                return result
        return "ok"

    def run(self, start: int):
        cfg, env = self.cfg, self.env
        yield env.timeout(max(0, start - env.now)) if start < 2**62 else env.timeout(cfg["deadline"] + 1)
        full, rest = divmod(cfg["image_size"], cfg["block_size"])
        blocks = full + (rest != 0)
        done = failures = preamble = 0       # preamble: 0 notify next, 1 query next, 2 the blocks
        while done <= blocks:
            if env.now > cfg["deadline"]:
                return
            yield from self.wait_path_up()
            if env.now > cfg["deadline"]:
                return
            if self.t_start is None:
                self.t_start = env.now
            if preamble < 2:
                kind = ("image_notify", "query_next_image")[preamble]
            else:
                kind = "block" if done < full else "last_block" if done < blocks else "upgrade_end"
            self.cut, self.cut_event = False, env.event()
            result = yield from self.exchange(kind)
            self.cut_event = None
            # only data exchanges count (blocks and Upgrade End not answered WAIT_FOR_DATA)
            counted = kind in ("block", "last_block", "upgrade_end") and not self.waited
            self.exchanges += counted
            if result == "ok" and not counted:
                failures = 0
                if self.waited:
                    yield env.timeout(max(cfg["wait_for_data_delay"], cfg["min_block_period"]))
                else:
                    preamble += 1
                continue
            if result == "ok":
                done += 1
                failures = 0
                if done == blocks:
                    self.t_end = env.now
                if done > blocks:
                    self.t_service_end = env.now
                    self.outcome = COMPLETED
                    return
                yield env.timeout(cfg["min_block_period"])
            else:
                self.exchange_retries += counted
                if result == "lost":
                    failures += 1
                    if failures >= cfg["max_consecutive_failures"]:
                        self.outcome = ABORTED
                        self.t_service_end = env.now
                        return


def _installation(env, cfg: dict, params: EmulationParams, inst: int, row: int, out: dict):
    rnd = random.Random(f"{cfg['seed']}:{inst}")
    per, wan_failed, image_at = draw_installation(rnd, cfg, params)
    ch, hub, meter = (_Entity(env) for _ in range(3))
    planned = [_Entity(env) for _ in range(3)]      # scheduled windows, per entity
    for entity, k in ((ch, 0), (hub, 1), (meter, 2)):
        env.process(_random_outages(env, entity, random.Random(f"{cfg['seed']}:{inst}:outage{k}"),
                                    cfg["mean_up_s"][k], cfg["mean_down_s"][k]))
        if len(cfg["scheduled"][k]):
            env.process(_scheduled_outages(env, planned[k], cfg["scheduled"][k]))
    dls = [_Download(env, cfg, HUB, [ch, planned[0], hub, planned[1]], tuple(per), rnd),
           _Download(env, cfg, METER, [ch, planned[0], hub, planned[1], meter, planned[2]], tuple(per), rnd)]
    yield from run_pair(env, cfg, dls, image_at, wan_failed)
    write_rows(out, row, cfg, dls, per, rnd, wan_failed, image_at)


def result_arrays(n: int) -> dict[str, np.ndarray]:
    """Zeroed result columns for n installations (their 2n devices), as EmulationResult holds them."""
    from ..emulate.result import DEVICE_COLUMNS

    dtypes = {"outcome": np.uint8, "new_version": np.uint8}
    out = {name: np.zeros(2 * n, dtype=dtypes.get(name, np.float64 if name.startswith(("t_", "air", "dc"))
                                                   else np.uint32)) for name in DEVICE_COLUMNS}
    out["han_per"] = np.zeros(n)
    out["bridge_per"] = np.zeros(n)
    return out


def draw_installation(rnd: random.Random, cfg: dict, params: EmulationParams):
    """An installation's first draws: each link's PER, whether the image reaches its CH, and when."""
    per = []
    for link in (params.han, params.bridge):
        c = link.per_concentration
        per.append(min(rnd.betavariate(c * link.per, c * (1 - link.per)), 0.999999)
                   if c and link.per > 0 else link.per)
    wan_failed = rnd.random() < cfg["wan_failure_prob"]
    image_at = int(cfg["wan_delay_median_s"] * math.exp(cfg["wan_delay_sigma"] * rnd.gauss(0.0, 1.0)) * NS)
    return per, wan_failed, image_at


def run_pair(env, cfg: dict, dls, image_at: int, wan_failed: bool):
    """Both bridges' downloads in the plan's order (a SimPy process body)."""
    if wan_failed:
        return
    for dl in dls:
        dl.ready_at = image_at + cfg["ch_ready_delay"] if cfg["ch_ready_delay"] > 0 else None
    if cfg["order"] == "concurrent":
        yield env.all_of([env.process(dls[0].run(image_at)), env.process(dls[1].run(image_at))])
    else:
        first = METER if cfg["order"] == "meter_first" else HUB
        yield env.process(dls[first].run(image_at))
        nxt = dls[first].t_service_end
        yield env.process(dls[1 - first].run(nxt if nxt is not None else 2**62))


def write_rows(out: dict, row: int, cfg: dict, dls, per, rnd: random.Random, wan_failed: bool, image_at: int):
    """The installation's row and its two devices' rows, activation drawn per device."""
    out["han_per"][row], out["bridge_per"][row] = per
    for side, dl in enumerate(dls):
        i = 2 * row + side
        outcome = WAN_FAILED if wan_failed else dl.outcome
        act = read = None
        activation_fails = rnd.random() < cfg["activation_failure_prob"]
        if outcome == COMPLETED:
            act = dl.t_service_end if cfg["activation_time"] < 0 else max(dl.t_service_end, cfg["activation_time"])
            read = act + cfg["readback_delay"]
            if activation_fails:
                outcome = ACTIVATION_FAILED
        sec = (lambda t: np.nan if t is None or wan_failed else t / NS)
        out["outcome"][i] = outcome
        out["new_version"][i] = outcome == COMPLETED
        out["t_image"][i] = np.nan if wan_failed else image_at / NS
        out["t_download_start"][i] = sec(dl.t_start)
        out["t_download_end"][i] = sec(dl.t_end)
        out["t_activation"][i] = sec(act)
        out["t_readback"][i] = sec(read)
        out["exchanges"][i] = dl.exchanges
        out["exchange_retries"][i] = dl.exchange_retries
        out["link_retries_han"][i], out["link_retries_bridge"][i] = dl.link_retries
        out["frames_han"][i], out["frames_bridge"][i] = dl.frames
        out["airtime_han"][i], out["airtime_bridge"][i] = (a / NS for a in dl.airtime)
        out["dc_wait"][i] = dl.dc_wait / NS


def reference_emulate(n: int, image_size: int, params: EmulationParams | None = None, seed: int = 0,
                      first_installation: int = 0) -> dict[str, np.ndarray]:
    """The same columns as :class:`EmulationResult` (as a dict of arrays), from the SimPy model."""
    import simpy

    from ..emulate.airtime import MAX_BLOCK

    params = params or EmulationParams()
    params.validate(MAX_BLOCK)
    cfg = engine_config(image_size, params, seed)
    out = result_arrays(n)
    env = simpy.Environment()
    procs = [env.process(_installation(env, cfg, params, first_installation + row, row, out)) for row in range(n)]
    env.run(until=env.all_of(procs))
    return out
