"""Per-installation link quality from a fleet inventory, as the arrays emulate() and sweep() take.

Each P2P installation of the inventory becomes one emulated installation, its PERs read by
:func:`althan_ota.fleet.links.installation_link_per`, the one rule the campaign uses too. Which installations a campaign targets is
the campaign plan's business; this takes them all. A PER missing from the inventory is filled with the link's
default from the parameters, and the number filled is reported.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..emulate import EmulationParams
from ..errors import ParameterError
from ..fleet.links import installation_link_per


def link_arrays(fleet, params: EmulationParams | None = None) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """(``{"han_per": ..., "bridge_per": ...}`` in installation order, how many of each were filled in).

    ``fleet`` is an :class:`althan_ota.fleet.Fleet` or the path of an inventory file (Parquet or CSV)."""
    from ..fleet import Fleet, read_fleet

    if isinstance(fleet, (str, Path)):
        fleet = read_fleet(fleet)
    if not isinstance(fleet, Fleet):
        raise ParameterError(f"fleet must be a Fleet or an inventory path, got {type(fleet).__name__}")
    params = EmulationParams() if params is None else params
    _, hub, meter = fleet.pairs()
    if hub.size == 0:
        raise ParameterError(f"the inventory {fleet.source} holds no P2P Alt HAN installation")
    arrays = installation_link_per(fleet, hub, meter)
    filled = {}
    for name, default in (("han_per", params.han.per), ("bridge_per", params.bridge.per)):
        missing = np.isnan(arrays[name])
        arrays[name][missing] = default
        filled[name] = int(missing.sum())
    return arrays, filled


def installation_buildings(fleet) -> np.ndarray:
    """A building code per P2P installation, in link_arrays' order (a premises without a building_id is a
    building of its own); ``fleet`` is a Fleet."""
    from ..campaign.building_places import NO_BUILDING, building_codes

    _, hub, _ = fleet.pairs()
    if "building_id" not in fleet.table.column_names:
        return np.arange(len(hub), dtype=np.int64)
    codes = building_codes(fleet.table["building_id"])[hub]
    alone = codes == NO_BUILDING
    codes[alone] = codes.max(initial=-1) + 1 + np.arange(int(alone.sum()))
    return codes


def by_building(arrays: dict[str, np.ndarray], buildings: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The installations reordered so that each building's sit together (stable: the inventory's order within
    a building), as a sweep of building_concurrency needs."""
    order = np.argsort(buildings, kind="stable")
    return {name: arr[order] for name, arr in arrays.items()}, buildings[order]
