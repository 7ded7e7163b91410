"""The small, exactly mergeable summary a worker returns for one partition of one run.

Every field merges exactly, so a run's summary is the same bits however its installations were split:
counts are integers; time totals are integer nanoseconds (the engine's own unit: each device's seconds are
rounded to the nanosecond, then summed as Python integers, never as floats, whose sum would depend on the
order); completion times go into a :class:`CompletionHistogram`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..emulate import OUTCOMES
from .histogram import DEFAULT_BITS, CompletionHistogram

QUANTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99, "max": 1.0}
TIME_TOTALS = ("airtime_han", "airtime_bridge", "dc_wait")
COUNT_TOTALS = ("exchanges", "exchange_retries", "link_retries_han", "link_retries_bridge", "frames_han",
                "frames_bridge")

# metric -> meaning, in table order; every metric is one float per run
METRICS = {
    **{f"completion_{name}_s": f"{name} of the read-back time of the devices that completed (seconds)"
       for name in QUANTILES},
    "completed_rate": "fraction of devices running the new version",
    **{f"rate_{o}": f"fraction of devices whose outcome is {o}" for o in OUTCOMES},
    "airtime_han_s": "seconds on air on the HAN, all devices",
    "airtime_bridge_s": "seconds on air on the bridge link, all devices",
    "dc_wait_s": "seconds waiting for the bridge duty cycle, all devices",
    "exchange_retries_per_device": "OTA exchanges repeated, per device",
}


def _exact_ns_total(seconds: np.ndarray) -> int:
    """Sum of the values rounded to whole nanoseconds, exactly (as a Python int)."""
    ns = np.rint(np.asarray(seconds, dtype=np.float64) * 1e9).astype(np.int64)
    low = (ns & np.int64(0xFFFFFFFF)).sum(dtype=np.uint64)   # < 2**32 each: no overflow below 2**31 rows
    high = (ns >> np.int64(32)).sum(dtype=np.int64)
    return (int(high) << 32) + int(low)


@dataclass(frozen=True)
class RunSummary:
    """One run (or part of one): a grid point, a seed, some installations."""

    devices: int
    outcomes: tuple[int, ...]
    completion: CompletionHistogram
    time_ns: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, result, bits: int = DEFAULT_BITS, start_s: np.ndarray | None = None) -> "RunSummary":
        """``start_s``: when each device's download started (held by a building cap), 0 if not given."""
        outcomes = np.bincount(result.outcome, minlength=len(OUTCOMES))
        readback = result.t_readback if start_s is None else result.t_readback + start_s
        done = readback[result.new_version == 1]
        return cls(devices=len(result), outcomes=tuple(int(k) for k in outcomes),
                   completion=CompletionHistogram.of(done, bits),
                   time_ns={name: _exact_ns_total(getattr(result, name)) for name in TIME_TOTALS},
                   counts={name: int(getattr(result, name).sum(dtype=np.int64)) for name in COUNT_TOTALS})

    def merge(self, other: "RunSummary") -> "RunSummary":
        return RunSummary(devices=self.devices + other.devices,
                          outcomes=tuple(a + b for a, b in zip(self.outcomes, other.outcomes)),
                          completion=self.completion.merge(other.completion),
                          time_ns={k: v + other.time_ns[k] for k, v in self.time_ns.items()},
                          counts={k: v + other.counts[k] for k, v in self.counts.items()})

    def metrics(self) -> dict[str, float]:
        """The run's METRICS (NaN quantiles when no device completed)."""
        n = self.devices
        out = dict(zip((f"completion_{name}_s" for name in QUANTILES),
                       self.completion.quantiles(QUANTILES.values())))
        out["completed_rate"] = self.completion.count / n if n else float("nan")
        for name, k in zip(OUTCOMES, self.outcomes):
            out[f"rate_{name}"] = k / n if n else float("nan")
        for name in TIME_TOTALS:
            out[f"{name}_s"] = self.time_ns[name] / 10**9     # int / int: correctly rounded
        out["exchange_retries_per_device"] = self.counts["exchange_retries"] / n if n else float("nan")
        return out


def merge_all(parts) -> RunSummary:
    parts = list(parts)
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    return merged
