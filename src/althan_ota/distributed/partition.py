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


def fleet_buildings(fleet, n: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(a building code per installation, the fleet's channel per installation) from a fleet mapping's
    ``building_id`` (text) and ``channel`` columns, each None when not given. An installation without a
    building (null or blank) gets a code of its own: a building of one, which never shares the air."""
    from collections.abc import Mapping

    from ..emulate.buildings import NO_BUILDING, assign_channels
    from ..emulate.params import EmulationParams

    if not isinstance(fleet, Mapping) or fleet.get("building_id") is None:
        if isinstance(fleet, Mapping) and fleet.get("channel") is not None:
            raise ParameterError("a fleet channel column needs building_id beside it")
        return None, None
    assignment = assign_channels(fleet["building_id"], EmulationParams(), fleet.get("channel"))
    codes = assignment.building.copy()
    if codes.shape != (n,):
        raise ParameterError(f"building_id has {codes.shape[0]} installations, the fleet {n}")
    alone = codes == NO_BUILDING
    codes[alone] = codes.max(initial=-1) + 1 + np.arange(int(alone.sum()))
    channels = assignment.han_channel if fleet.get("channel") is not None else None
    return codes, channels


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
