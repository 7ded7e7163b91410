"""Which DUIS messages each device of an SRV 11.4 gets, and when: the C engine, called exactly as the campaign's
emulator executor calls it (``campaign/emulation.py``), so a device's n-th 11.4 ends as its n-th emulated
attempt does for the same fleet, plan, emulation parameters and seed.

Randomness is keyed by (seed, attempt, unit key) (``campaign/runner.py``): a unit is an installation or a plain
PPMID and its key is the fleet row of its first requested bridge (the hub-side one when the campaign requests
it). The stand-in does not know the plan's targeting, so it takes the hub-side row as the key whenever an 11.4
has named the hub-side bridge of that installation, now or before; a campaign requests both bridges of a
pair in its first attempt, so this is the runner's key.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..campaign.emulation import _activate_at, attempt_seed, wave_params
from ..campaign.plan import CampaignPlan
from ..duis.identifiers import eui
from ..emulate import EmulationParams, emulate
from ..emulate.result import OUTCOMES
from ..fleet import Fleet
from ..fleet.links import installation_link_per
from ..fleet.schema import HUB_SIDE, METER_SIDE, PPMID, JOINED_AS_CAD

# the result columns a device's messages are timed from
_TIMES = ("t_image", "t_download_start", "t_download_end", "t_activation", "t_readback", "t_end")


@dataclass(frozen=True)
class DeviceRun:
    """One device's emulated attempt, times in seconds after its request."""

    device_id: str
    row: int
    attempt: int
    outcome: str
    times: dict[str, float]


class FleetIndex:
    """The inventory as the DCC sees it: a device's row, its installation's two bridges, its status."""

    def __init__(self, fleet: Fleet):
        self.fleet = fleet
        ids = [eui(d) for d in fleet.column("device_id")]
        self.row_of = {d: i for i, d in enumerate(ids)}
        self.device_ids = ids
        self.variant = fleet.column("ppmid_variant")
        self.status = fleet.column("smi_status")
        self.join_mode = fleet.column("join_mode")
        self.version = fleet.column("firmware_version").astype(np.int64)
        self.ch_id = fleet.column("ch_id")
        self.manufacturer = fleet.column("manufacturer")
        self.model = fleet.column("model")
        _, hub, meter = fleet.pairs()
        n = len(ids)
        self.hub_of = np.full(n, -1, np.int64)      # per row: its installation's hub-side row
        self.meter_of = np.full(n, -1, np.int64)
        for rows in (hub, meter):
            self.hub_of[rows], self.meter_of[rows] = hub, meter
        plain = np.flatnonzero(self.variant == PPMID)
        self.hub_of[plain] = plain                  # a plain PPMID is emulated in the hub-side slot

    def problem(self, device_id: str) -> str | None:
        """Why the DSP would not update this device: a DSPUpdatePPMIDFirmwareWarning list name, or None."""
        row = self.row_of.get(device_id)
        if row is None or self.variant[row] not in (PPMID, HUB_SIDE, METER_SIDE) or self.hub_of[row] < 0:
            return "InvalidDeviceIDList"
        if self.status[row] != "Commissioned":
            return "NotCommissionedDeviceIDList"
        if self.join_mode[row] == JOINED_AS_CAD:
            return "NotApplicableFirmwareDeviceIDList"
        return None


class Emulation:
    """The engine call for the devices of one 11.4, per attempt."""

    def __init__(self, index: FleetIndex, plan: CampaignPlan, params: EmulationParams, seed: int):
        self.index, self.plan, self.seed = index, plan, seed
        self.params = wave_params(plan, params)

    def run(self, device_attempts: dict[str, int], t0: float, named_before) -> list[DeviceRun]:
        """``device_attempts``: device -> its attempt number (1 for the first 11.4 naming it); ``t0``: the
        request's emulated time; ``named_before(device_ids)`` -> {device: 11.4s that named it before} (for the
        unit key rule above)."""
        index = self.index
        by_attempt: dict[int, list[int]] = {}
        for device, attempt in device_attempts.items():
            by_attempt.setdefault(attempt, []).append(index.row_of[device])
        runs = []
        for attempt, rows in sorted(by_attempt.items()):
            rows = np.asarray(rows, np.int64)
            hub = index.hub_of[rows]
            side = np.where(rows == hub, 0, 1)
            units, unit_of = np.unique(hub, return_inverse=True)
            sides = np.zeros(len(units), np.uint8)
            np.bitwise_or.at(sides, unit_of, (1 << side).astype(np.uint8))
            meters = index.meter_of[units]
            meters = np.where(index.variant[units] == PPMID, -1, meters)
            hub_ids = [index.device_ids[u] for u in units]
            before = named_before(hub_ids)
            hub_named = np.array([before[h] > 0 for h in hub_ids], bool) | (sides & 1).astype(bool)
            keys = np.where(hub_named, units, meters)
            links = installation_link_per(index.fleet, units, meters)
            per = {"han_per": _fill(links["han_per"], self.params.han.per),
                   "bridge_per": _fill(links["bridge_per"], self.params.bridge.per)}
            result = emulate(per, self.plan.image_size, self.params, seed=attempt_seed(self.seed, attempt),
                             installation_keys=keys.astype(np.uint64), sides=sides)
            at = 2 * unit_of + side
            col = {name: getattr(result, name)[at].astype(np.float64) for name in _TIMES}
            col["outcome"] = getattr(result, "outcome")[at]
            if self.plan.activate_at_s is not None:
                _activate_at(col, np.full(len(rows), self.plan.activate_at_s - t0))
            for k, row in enumerate(rows):
                runs.append(DeviceRun(index.device_ids[row], int(row), attempt, OUTCOMES[int(col["outcome"][k])],
                                      {name: float(col[name][k]) for name in _TIMES}))
        return runs


def _fill(values: np.ndarray, default: float) -> np.ndarray:
    return np.where(np.isnan(values), default, values).astype(np.float64)
