"""Splitting a fleet into contiguous runs of installations that workers emulate on their own.

The emulator's results depend only on (seed, installation index), so installations [a, b) emulated with
``first_installation = first + a`` are exactly rows [a, b) of one run over the whole fleet.
"""

from __future__ import annotations

import numpy as np

from ..emulate.engine import _fleet
from ..errors import ParameterError

# a partition's device rows are about 100 bytes each: 100,000 installations is ~20 MB on a worker
DEFAULT_PARTITION_INSTALLATIONS = 100_000


def normalize_fleet(fleet) -> tuple[int, dict[str, np.ndarray]]:
    """(number of installations, the per-installation PER arrays given), validated as emulate() does."""
    n, han, bridge = _fleet(fleet)
    arrays = {name: arr for name, arr in (("han_per", han), ("bridge_per", bridge)) if arr is not None}
    return n, arrays


def bounds(n: int, partitions: int) -> list[tuple[int, int]]:
    """``partitions`` contiguous [start, stop) ranges covering 0..n as evenly as possible, empty ones left
    out (so asking for more partitions than installations is harmless)."""
    if not isinstance(partitions, (int, np.integer)) or isinstance(partitions, bool) or partitions < 1:
        raise ParameterError(f"partitions must be an integer >= 1, got {partitions!r}")
    edges = [n * i // partitions for i in range(partitions + 1)]
    return [(a, b) for a, b in zip(edges, edges[1:]) if b > a]


def default_partitions(n: int, slots: int = 1) -> int:
    """At least one partition per task slot, and none larger than DEFAULT_PARTITION_INSTALLATIONS."""
    return max(1, slots, -(-n // DEFAULT_PARTITION_INSTALLATIONS))


def fleet_slice(n_or_arrays, start: int, stop: int):
    """What emulate() takes for installations [start, stop): a count, or the arrays sliced."""
    if isinstance(n_or_arrays, dict) and n_or_arrays:
        return {name: arr[start:stop] for name, arr in n_or_arrays.items()}
    return stop - start


def whole_buildings(spans: list[tuple[int, int]], buildings: np.ndarray) -> list[tuple[int, int]]:
    """``spans`` with each inner edge moved forward to where a building starts, so that no building is split
    (its installations must be contiguous: see contiguous_buildings)."""
    n = len(buildings)
    starts = np.flatnonzero(np.concatenate([[True], buildings[1:] != buildings[:-1]]))
    at = np.searchsorted(starts, [b for _, b in spans[:-1]])       # the first building start at or after b
    edges = [0] + [int(starts[i]) if i < len(starts) else n for i in at.tolist()] + [n]
    return [(a, b) for a, b in zip(edges, edges[1:]) if b > a]


def contiguous_buildings(buildings: np.ndarray) -> bool:
    """Whether each building's installations sit next to each other."""
    runs = buildings[np.concatenate([[True], buildings[1:] != buildings[:-1]])]
    return len(np.unique(runs)) == len(runs)
