"""One shared radio channel and its stations: the contention model of a building (rules in csrc/emu_channel.h).

Example: how much of a sub-GHz channel is left when 40 meter-side bridges of a block of flats each offer a
frame every 2 s::

    from althan_ota.emulate.channel import channel_config, simulate_channel
    stats = simulate_channel(channel_config(40, airtime_s=0.02, access="lbt", load=40 * 0.02 / 2.0,
                                            duty_cycle=0.1), duration_s=3600)
    stats.throughput, stats.collision_probability

``load`` is the offered load G: new frames per airtime over all stations (None: every station saturated).
The checks (tests/test_emulate_building_channel.py) hold it to pure ALOHA's S = G·e^{−2G}, to Kleinrock and
Tobagi's non-persistent CSMA, to the duty-cycle bound, and to an independent SimPy model of the same rules
(althan_ota.testing.simpy_channel).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError
from .params import Csma802154, ListenBeforeTalk, _check, _count, _finite

ACCESS_MODES = ("aloha", "nonpersistent", "csma_802154", "lbt")
_NS = 1_000_000_000


def _ns(seconds: float) -> int:
    return round(seconds * _NS)


def channel_config(n_stations: int, airtime_s: float, *, access: str = "csma_802154", load: float | None = None,
                   duty_cycle: float = 1.0, csma: Csma802154 | None = None, lbt: ListenBeforeTalk | None = None,
                   mean_deferral_s: float = 0.1, capture_margin_db: float | None = None, seed: int = 0,
                   key: int = 0) -> dict:
    """The C engine's channel parameters (ns), validated. ``csma`` / ``lbt``: the access rules of
    "csma_802154" / "lbt" (defaults from params.py); ``mean_deferral_s``: the exponential re-sensing delay of
    "nonpersistent"; ``duty_cycle`` per transmitter (1.0: no limit)."""
    _check(access in ACCESS_MODES, f"access must be one of {ACCESS_MODES}, got {access!r}")
    _count("n_stations", n_stations, 1, 2**30)
    _finite("airtime_s", airtime_s, 1e-9, 60.0)
    _check(airtime_s > 0, "airtime_s must be > 0")
    if load is not None:
        _finite("load", load, 1e-9, 1e6)
    _finite("duty_cycle", duty_cycle, 1e-4, 1.0)
    _finite("mean_deferral_s", mean_deferral_s, 1e-9, 1000.0)
    if capture_margin_db is not None:
        _finite("capture_margin_db", capture_margin_db, 0.0, 100.0)
    _check(isinstance(seed, int) and 0 <= seed < 2**64, f"seed must be an integer in [0, 2**64), got {seed!r}")
    _check(isinstance(key, int) and 0 <= key < 2**64, f"key must be an integer in [0, 2**64), got {key!r}")
    csma = csma or Csma802154()
    lbt = lbt or ListenBeforeTalk()
    csma.validate("csma")
    lbt.validate("lbt")
    airtime = _ns(airtime_s)
    cfg = {"access": access, "n_stations": n_stations, "airtime": airtime,
           "dc_span": math.ceil(airtime / duty_cycle - 1e-9),
           "mean_interarrival": 0.0 if load is None else n_stations * airtime / load,
           "capture_margin_db": math.nan if capture_margin_db is None else float(capture_margin_db),
           "seed": seed, "key": key, "cca": 0, "cca_to_tx": 0, "unit": 1,
           "min_be": csma.min_be, "max_be": csma.max_be, "max_backoffs": csma.max_backoffs,
           "max_slots": lbt.max_slots, "max_deferrals": lbt.max_deferrals}
    if access == "csma_802154":
        cfg.update(cca=_ns(csma.cca_s), cca_to_tx=_ns(csma.cca_to_tx_s), unit=_ns(csma.unit_backoff_s))
    elif access == "lbt":
        cfg.update(cca=_ns(lbt.listen_s), cca_to_tx=_ns(lbt.listen_to_tx_s), unit=_ns(lbt.slot_s))
    elif access == "nonpersistent":
        cfg.update(cca_to_tx=_ns(csma.cca_to_tx_s), unit=_ns(mean_deferral_s))
    return cfg


@dataclass(frozen=True)
class ChannelStats:
    """What one channel run counted. Loads are in frames per airtime (G, S of the textbooks)."""

    n_stations: int
    airtime_s: float
    duration_s: float
    offered: int
    assessments: int
    busy_assessments: int
    sent: int
    delivered: int
    collided: int
    access_failures: int
    busy_fraction: float
    mean_access_delay_s: float
    station_airtime_s: np.ndarray
    access_delays_s: np.ndarray

    @property
    def attempt_rate(self) -> float:
        """Transmissions per airtime (G of pure ALOHA)."""
        return self.sent * self.airtime_s / self.duration_s

    @property
    def sensing_rate(self) -> float:
        """Channel assessments per airtime (G of Kleinrock and Tobagi's CSMA: new and rescheduled)."""
        return self.assessments * self.airtime_s / self.duration_s

    @property
    def throughput(self) -> float:
        """Delivered frames per airtime (S)."""
        return self.delivered * self.airtime_s / self.duration_s

    @property
    def collision_probability(self) -> float:
        """Share of finished transmissions lost to an overlap (NaN when none finished)."""
        done = self.delivered + self.collided
        return self.collided / done if done else math.nan


def simulate_channel(cfg: dict, duration_s: float, power_db=None, record_delays: int = 0) -> ChannelStats:
    """Runs the channel of ``channel_config`` for ``duration_s`` seconds. ``power_db``: received power per
    station (for capture); ``record_delays``: keep the access delays of the first that many frames sent."""
    _finite("duration_s", duration_s, 0.0, 1e8)
    _count("record_delays", record_delays, 0, 100_000_000)
    n = cfg["n_stations"]
    if power_db is not None:
        power_db = np.ascontiguousarray(power_db, dtype=np.float64)
        if power_db.shape != (n,) or not np.all(np.isfinite(power_db)):
            raise ParameterError(f"power_db must hold {n} finite received powers (dB), got shape {power_db.shape}")
    from .._native import _emu_channel

    run = dict(cfg, duration=_ns(duration_s))
    airtime = np.zeros(n, dtype=np.int64)
    delays = np.zeros(record_delays, dtype=np.int64)
    counts, n_delays = _emu_channel.run_channel(run, power_db, airtime, delays)
    sent = counts["sent"]
    return ChannelStats(
        n_stations=n, airtime_s=cfg["airtime"] / _NS, duration_s=duration_s, offered=counts["offered"],
        assessments=counts["assessments"], busy_assessments=counts["busy_assessments"], sent=sent,
        delivered=counts["delivered"], collided=counts["collided"], access_failures=counts["access_failures"],
        busy_fraction=counts["busy_ns"] / run["duration"] if run["duration"] else math.nan,
        mean_access_delay_s=counts["access_delay_ns"] / sent / _NS if sent else math.nan,
        station_airtime_s=airtime / _NS, access_delays_s=delays[:min(n_delays, record_delays)] / _NS)
