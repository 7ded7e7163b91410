"""Mergeable histogram of completion times with a stated error bound on its quantiles.

A sweep over a large fleet must not ship every device's completion time to the client, yet the partitions
of one run have to combine *exactly*: whatever the number of partitions, the merged result must be the same
bits. The histogram buckets a non-negative double by the top bits of its IEEE-754 representation: the
exponent and the first ``bits`` bits of the mantissa (as HDR Histogram does). So

* bucketing is integer arithmetic on the value's bits: identical on every machine (no ``log()``);
* a bucket [L, U) has U - L <= 2**-bits * L: reporting its midpoint is off by at most 2**-(bits + 1) of the
  true value (0.049% with the default 10 bits), and clamping to the exact minimum and maximum keeps that;
* merging adds integer counts, which is exact, associative and commutative.

Quantiles follow numpy's default (linear interpolation between the order statistics at ranks floor and
ceil of q·(n−1)): each order statistic is replaced by its bucket's estimate, so the interpolated result
is within the same relative bound of ``np.quantile`` over the raw values, and q = 0 and q = 1 are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError

DEFAULT_BITS = 10
_MANTISSA = 52


@dataclass(frozen=True)
class CompletionHistogram:
    bits: int
    buckets: np.ndarray        # uint64 bucket ids (value bits >> (52 - bits)), sorted, unique
    counts: np.ndarray         # int64, one per bucket
    minimum: float             # exact; NaN when empty
    maximum: float

    @classmethod
    def empty(cls, bits: int = DEFAULT_BITS) -> "CompletionHistogram":
        _check_bits(bits)
        return cls(bits, np.empty(0, np.uint64), np.empty(0, np.int64), float("nan"), float("nan"))

    @classmethod
    def of(cls, values: np.ndarray, bits: int = DEFAULT_BITS) -> "CompletionHistogram":
        _check_bits(bits)
        values = np.ascontiguousarray(values, dtype=np.float64)
        if values.size == 0:
            return cls.empty(bits)
        if not np.all(np.isfinite(values) & (values >= 0.0)):
            raise ParameterError("completion times must be finite and >= 0")
        # +0.0 only: -0.0 would land in a bucket of its own
        ids = (values + 0.0).view(np.uint64) >> np.uint64(_MANTISSA - bits)
        buckets, counts = np.unique(ids, return_counts=True)
        return cls(bits, buckets, counts.astype(np.int64), float(values.min()), float(values.max()))

    @property
    def count(self) -> int:
        return int(self.counts.sum())

    @property
    def relative_error(self) -> float:
        """Largest relative error of a quantile estimate against the exact one."""
        return 2.0 ** -(self.bits + 1)

    def merge(self, other: "CompletionHistogram") -> "CompletionHistogram":
        if other.bits != self.bits:
            raise ParameterError(f"cannot merge histograms of {self.bits} and {other.bits} mantissa bits")
        if other.counts.size == 0:
            return self
        if self.counts.size == 0:
            return other
        ids = np.concatenate([self.buckets, other.buckets])
        counts = np.concatenate([self.counts, other.counts])
        buckets, where = np.unique(ids, return_inverse=True)
        merged = np.zeros(buckets.size, np.int64)
        np.add.at(merged, where, counts)
        return CompletionHistogram(self.bits, buckets, merged, min(self.minimum, other.minimum),
                                   max(self.maximum, other.maximum))

    def _estimates(self) -> np.ndarray:
        """Each bucket's midpoint, clamped to the exact range of the values."""
        shift = np.uint64(_MANTISSA - self.bits)
        lo = (self.buckets << shift).view(np.float64)
        hi = ((self.buckets + np.uint64(1)) << shift).view(np.float64)
        return np.clip(lo + (hi - lo) / 2, self.minimum, self.maximum)

    def quantiles(self, qs) -> list[float]:
        n = self.count
        if n == 0:
            return [float("nan") for _ in qs]
        estimates = self._estimates()
        last_rank = np.cumsum(self.counts) - 1          # rank of each bucket's last value

        def at(rank: int) -> float:
            if rank == 0:
                return self.minimum
            if rank == n - 1:
                return self.maximum
            return float(estimates[np.searchsorted(last_rank, rank)])

        out = []
        for q in qs:
            if not 0.0 <= q <= 1.0:
                raise ParameterError(f"quantile {q!r} is outside [0, 1]")
            pos = q * (n - 1)
            below = int(np.floor(pos))
            frac = pos - below
            lo = at(below)
            out.append(lo if frac == 0.0 else lo + frac * (at(below + 1) - lo))
        return out


def _check_bits(bits: int) -> None:
    if not isinstance(bits, int) or isinstance(bits, bool) or not 1 <= bits <= 20:
        raise ParameterError(f"histogram bits must be an integer in [1, 20], got {bits!r}")
