"""A campaign plan: which devices take which image, in which waves, at what pace, and when to stop.

The plan follows how MP170 and SRV 11.4 work: the supplier targets PPMID-variant Alt HAN bridges whose
running version the upgrade-path table allows to move to the image's version; devices that cannot take the
image over the air are excluded with a reason (joined as CAD: site visit; suspended; decommissioned; hardware
outside the image's range; no upgrade path). Both bridges of an installation always travel in the same wave,
in the plan's pair order, so that a pair is out of sync for as short a time as possible.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..fleet.links import installation_link_per
from ..errors import ParameterError
from ..fleet import BRIDGE_VARIANTS, HUB_SIDE, JOINED_AS_CAD, METER_SIDE, Fleet
from .building_places import NO_BUILDING, building_codes
from .slots import request_times, requests_per_unit, supplier_codes
from .outcomes import FAILURE_CLASSES, Reason, outcome

PAIR_ORDERS = ("meter_first", "hub_first", "concurrent")


@dataclass(frozen=True)
class RetryPolicy:
    """Per failure class: how many attempts in all, and the wait before each new attempt (doubling)."""

    max_attempts: dict = field(default_factory=lambda: {"transfer": 3, "unreachable": 2, "activation": 2,
                                                        "hash": 1})
    backoff_s: float = 6 * 3600.0

    def attempts_for(self, failure_class: str) -> int:
        return int(self.max_attempts.get(failure_class, 1))


@dataclass(frozen=True)
class CampaignPlan:
    name: str
    target_version: int                    # the image's 4-octet file version
    image_size: int                        # bytes the devices download
    image_sha256: str = ""
    environment: str = "test"
    # target filter (None: any)
    variants: tuple[str, ...] = BRIDGE_VARIANTS
    manufacturers: tuple[str, ...] | None = None
    models: tuple[str, ...] | None = None
    suppliers: tuple[str, ...] | None = None    # energy suppliers whose devices the campaign covers (programme.md)
    # SRV 11.4 requests a day each named supplier may send, inside requests_per_day (None: no quotas); a
    # ceiling, not a reservation, and never lent to another supplier (slots.py)
    supplier_quotas: dict[str, int] | None = None
    hardware_min: int | None = None
    hardware_max: int | None = None
    # upgrade-path table: (running version, target version) pairs that are allowed
    upgrade_paths: tuple[tuple[int, int], ...] = ()
    excluded_devices: tuple[str, ...] = ()
    unsafe_installations: tuple[str, ...] = ()   # pairs no order can upgrade safely (compatibility table)
    # pacing
    pair_order: str = "meter_first"
    canary_installations: int = 100
    wave_growth: float = 4.0
    max_wave_installations: int = 250_000
    requests_per_day: int = 200_000        # SRV 11.4 requests across the fleet, per day
    window_start_h: float = 0.0            # requests go out within this daily window (hours, UTC)
    window_end_h: float = 24.0
    # thresholds on a wave's failure rate (failed devices / devices requested in the wave)
    pause_failure_rate: float = 0.05
    abort_failure_rate: float = 0.20
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    device_timeout_s: float = 7 * 86400.0
    # activate at once (None), or at this fleet-wide instant (seconds from the campaign start, day 0 00:00
    # UTC; the Upgrade End Response carries it): a device whose download ends later activates when it ends
    activate_at_s: float | None = None
    site_visit_cost: float = 150.0           # per site visit (one per premises: site_visits.py)
    # at most this many installations of one building busy downloading at once (None: no cap);
    # building_places.py holds the others until a place of their building frees
    building_concurrency: int | None = None

    def __post_init__(self):
        check = _Checker()
        check(isinstance(self.name, str) and self.name.strip() != "", "name must be a non-empty string")
        check(isinstance(self.target_version, int) and 0 <= self.target_version < 2**32,
              f"target_version must be a 4-octet version (0..0xFFFFFFFF), got {self.target_version!r}")
        check(isinstance(self.image_size, int) and 0 < self.image_size < 2**32,
              f"image_size must be a positive number of bytes, got {self.image_size!r}")
        check(self.environment in ("test", "production"),
              f"environment must be 'test' or 'production', got {self.environment!r}")
        check(self.pair_order in PAIR_ORDERS, f"pair_order must be one of {PAIR_ORDERS}, got {self.pair_order!r}")
        check(self.canary_installations >= 1, "canary_installations must be at least 1")
        check(self.wave_growth >= 1.0, "wave_growth must be at least 1")
        check(self.max_wave_installations >= self.canary_installations,
              "max_wave_installations must be at least canary_installations")
        check(self.requests_per_day >= 1, "requests_per_day must be at least 1")
        check(0 <= self.window_start_h < self.window_end_h <= 24,
              "the request window must satisfy 0 <= window_start_h < window_end_h <= 24")
        check(0 < self.pause_failure_rate <= self.abort_failure_rate <= 1,
              "thresholds must satisfy 0 < pause_failure_rate <= abort_failure_rate <= 1")
        check(self.device_timeout_s > 0, "device_timeout_s must be positive")
        check(self.suppliers is None or (len(self.suppliers) > 0 and all(
            isinstance(s, str) and s.strip() for s in self.suppliers)),
              f"suppliers must be None (every supplier) or non-empty names, got {self.suppliers!r}")
        self._check_quotas(check)
        check(self.site_visit_cost >= 0, "site_visit_cost must be >= 0")
        check(self.building_concurrency is None or (isinstance(self.building_concurrency, int)
                                                    and not isinstance(self.building_concurrency, bool)
                                                    and self.building_concurrency >= 1),
              "building_concurrency must be None (no cap) or a whole number >= 1, "
              f"got {self.building_concurrency!r}")
        check(self.activate_at_s is None or (isinstance(self.activate_at_s, (int, float))
                                             and 0 <= self.activate_at_s <= 10 * 365 * 86400),
              "activate_at_s must be None (activate at once) or an instant within ten years of the start "
              f"(seconds), got {self.activate_at_s!r}")
        for failure_class in self.retry.max_attempts:
            check(failure_class in FAILURE_CLASSES,
                  f"unknown failure class {failure_class!r} in the retry policy; known: {FAILURE_CLASSES}")
        check(self.retry.backoff_s >= 0, "retry backoff must be >= 0")

    def _check_quotas(self, check) -> None:
        quotas = self.supplier_quotas
        if quotas is None:
            return
        check(isinstance(quotas, Mapping) and len(quotas) > 0,
              f"supplier_quotas must be None or a non-empty mapping of supplier to requests a day, got {quotas!r}")
        for name, quota in quotas.items():
            check(isinstance(name, str) and name.strip() != "", f"supplier_quotas: {name!r} is no supplier name")
            check(isinstance(quota, int) and not isinstance(quota, bool) and quota >= 1,
                  f"supplier_quotas: the quota of {name!r} must be a whole number of requests a day >= 1, "
                  f"got {quota!r}")
        if self.suppliers is not None:
            outside = sorted(set(quotas) - set(self.suppliers))
            check(not outside, f"supplier_quotas names {', '.join(map(repr, outside))}, which the plan is not "
                               f"scoped to (suppliers: {', '.join(self.suppliers)})")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "CampaignPlan":
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: Mapping) -> "CampaignPlan":
        """A plan from plain fields, as JSON gives them (lists for tuples, a mapping for the retry policy);
        fields not given take their defaults. Unknown or missing fields are a ParameterError naming them."""
        missing = [f.name for f in fields(cls) if f.name not in data
                   and f.default is MISSING and f.default_factory is MISSING]
        if missing:
            raise ParameterError(f"campaign plan: missing field(s) {', '.join(missing)}")
        return cls(**cls.typed_fields(data))

    @classmethod
    def typed_fields(cls, data: Mapping) -> dict:
        """Plain plan fields as CampaignPlan's keyword arguments: lists become tuples, a mapping the
        RetryPolicy; an unknown field is a ParameterError naming it."""
        data = dict(data)
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ParameterError(f"campaign plan: unknown field(s) {', '.join(unknown)}; known: {', '.join(names)}")
        if isinstance(data.get("retry"), Mapping):
            retry_fields = {f.name for f in fields(RetryPolicy)}
            odd = sorted(set(data["retry"]) - retry_fields)
            if odd:
                raise ParameterError(f"campaign plan: unknown retry field(s) {', '.join(odd)}; known: "
                                     f"{', '.join(sorted(retry_fields))}")
            data["retry"] = RetryPolicy(**data["retry"])
        for key in ("variants", "manufacturers", "models", "suppliers", "excluded_devices", "unsafe_installations"):
            if data.get(key) is not None:
                data[key] = tuple(data[key])
        if "upgrade_paths" in data:
            data["upgrade_paths"] = tuple(tuple(p) for p in data["upgrade_paths"])
        if isinstance(data.get("supplier_quotas"), Mapping):
            data["supplier_quotas"] = dict(data["supplier_quotas"])
        return data


class _Checker:
    def __call__(self, condition: bool, message: str) -> None:
        if not condition:
            raise ParameterError(f"campaign plan: {message}")


@dataclass
class Targeting:
    """The outcome of applying a plan's filter to a fleet: which rows are in the campaign, and why the others
    are not. ``reason`` is Reason.NONE for eligible devices."""

    in_scope: np.ndarray        # bool per fleet row: matched the target filter (variant, manufacturer, model)
    reason: np.ndarray          # uint8 Reason per fleet row (NONE: eligible)

    @property
    def eligible(self) -> np.ndarray:
        return self.in_scope & (self.reason == Reason.NONE)


def target(plan: CampaignPlan, fleet: Fleet) -> Targeting:
    """Apply the target filter and the exclusions, column-wise."""
    t = fleet.table
    n = len(fleet)

    def isin(col: str, values) -> np.ndarray:
        if values is None:
            return np.ones(n, dtype=bool)
        return pc.is_in(t[col], value_set=pc.cast(np.asarray(values, dtype=object), t[col].type)).to_numpy(
            zero_copy_only=False)

    in_scope = isin("ppmid_variant", plan.variants) & isin("manufacturer", plan.manufacturers) & \
        isin("model", plan.models) & isin("supplier", plan.suppliers)
    reason = np.zeros(n, dtype=np.uint8)

    def exclude(mask: np.ndarray, key: str) -> None:
        reason[(reason == Reason.NONE) & mask] = outcome(key).reason

    status = fleet.column("smi_status")
    exclude(np.isin(status, ["Decommissioned", "Withdrawn"]), "decommissioned")
    exclude(status == "Suspended", "suspended")
    exclude(status != "Commissioned", "not_commissioned")
    exclude(fleet.column("join_mode") == JOINED_AS_CAD, "joined_as_cad")
    exclude(isin("device_id", list(plan.excluded_devices)) if plan.excluded_devices else np.zeros(n, bool),
            "excluded")
    exclude(isin("installation_id", list(plan.unsafe_installations)) if plan.unsafe_installations
            else np.zeros(n, bool), "no_safe_pair_order")
    hw = t["hardware_version"]
    hw_known = hw.is_valid().to_numpy(zero_copy_only=False)
    hw_values = pc.fill_null(hw, 0).to_numpy().astype(np.int64)
    outside = np.zeros(n, dtype=bool)
    if plan.hardware_min is not None:
        outside |= hw_known & (hw_values < plan.hardware_min)
    if plan.hardware_max is not None:
        outside |= hw_known & (hw_values > plan.hardware_max)
    exclude(outside, "hardware_mismatch")
    running = fleet.column("firmware_version").astype(np.uint32)
    exclude(running == plan.target_version, "already_current")
    allowed_from = np.array([a for a, b in plan.upgrade_paths if b == plan.target_version], dtype=np.uint32)
    exclude(~np.isin(running, allowed_from), "no_upgrade_path")
    return Targeting(in_scope=in_scope, reason=reason)


@dataclass
class WavePlan:
    """Installations (and plain PPMIDs) in campaign order, cut into waves; one "unit" per installation or
    per plain PPMID, with the fleet rows it covers (hub-side, meter-side; -1 where that side is not
    eligible or absent)."""

    hub_row: np.ndarray        # int64 per unit
    meter_row: np.ndarray      # int64 per unit (-1 for a plain PPMID: its row is in hub_row)
    unit_key: np.ndarray       # uint64 per unit: stable key of the randomness for this unit
    han_per: np.ndarray        # float64 per unit, NaN where the inventory has no figure (installation_link_per)
    bridge_per: np.ndarray
    wave_bounds: np.ndarray    # wave w covers units [wave_bounds[w], wave_bounds[w+1])
    request_offset_s: np.ndarray   # float64 per unit: SRV 11.4 release time from the campaign start
    # int64 building code per unit, with a building cap (building_places.NO_BUILDING: none, or no cap)
    building: np.ndarray | None = None
    # int64 quota code per unit (slots.supplier_codes: the supplier of its first targeted bridge), with
    # supplier quotas; None without
    quota_code: np.ndarray | None = None

    def quota_codes(self, lo: int, hi: int, units: np.ndarray | None = None) -> np.ndarray | None:
        """The quota codes of units lo:hi (of ``units`` among them), or None when the plan has no quotas."""
        if self.quota_code is None:
            return None
        codes = self.quota_code[lo:hi]
        return codes if units is None else codes[units]

    @property
    def n_waves(self) -> int:
        return len(self.wave_bounds) - 1


def make_waves(plan: CampaignPlan, fleet: Fleet, targeting: Targeting, seed: int) -> WavePlan:
    """Shuffle the eligible units (seeded), cut canary then growing waves, and release requests at the
    fleet-wide rate cap within the daily window (counting each targeted device as one request)."""
    eligible = targeting.eligible
    installations, hub, meter = fleet.pairs()
    hub_ok, meter_ok = eligible[hub], eligible[meter]
    keep = hub_ok | meter_ok
    variant = fleet.column("ppmid_variant")
    plain = np.flatnonzero(eligible & ~np.isin(variant, [HUB_SIDE, METER_SIDE]))
    # every row of the unit's installation (for its links), and the rows the campaign requests
    site_hub = np.concatenate([hub[keep], plain])
    site_meter = np.concatenate([meter[keep], np.full(len(plain), -1)])
    unit_hub = np.concatenate([np.where(hub_ok, hub, -1)[keep], plain])
    unit_meter = np.concatenate([np.where(meter_ok, meter, -1)[keep], np.full(len(plain), -1)])
    # a unit's key is its first fleet row's position among all rows: stable for a fleet, whatever the plan
    key_row = np.where(unit_hub >= 0, unit_hub, unit_meter)
    order = np.random.default_rng(np.random.SeedSequence([seed, 0xCA3])).permutation(len(unit_hub))
    unit_hub, unit_meter, key_row = unit_hub[order], unit_meter[order], key_row[order]
    links = installation_link_per(fleet, site_hub[order], site_meter[order])
    site_row = np.where(site_hub[order] >= 0, site_hub[order], site_meter[order])
    building = np.full(len(site_row), NO_BUILDING, np.int64)
    if plan.building_concurrency is not None and "building_id" in fleet.table.column_names:
        building = building_codes(fleet.table["building_id"])[site_row]

    bounds = [0]
    size = plan.canary_installations
    while bounds[-1] < len(unit_hub):
        bounds.append(min(len(unit_hub), bounds[-1] + int(size)))
        size = min(plan.max_wave_installations, math.ceil(size * plan.wave_growth))
    quota_code = None
    if plan.supplier_quotas:
        # a unit is charged to the supplier of its first targeted bridge (a pair's two have one supplier: one
        # premises)
        quota_code = supplier_codes(plan, fleet.table["supplier"].take(pa.array(key_row, pa.int64()))
                                    .to_numpy(zero_copy_only=False))
    return WavePlan(hub_row=unit_hub.astype(np.int64), meter_row=unit_meter.astype(np.int64),
                    unit_key=key_row.astype(np.uint64), han_per=links["han_per"],
                    bridge_per=links["bridge_per"], wave_bounds=np.asarray(bounds, dtype=np.int64),
                    request_offset_s=request_times(plan, requests_per_unit(unit_hub, unit_meter),
                                                   supplier=quota_code),
                    building=building.astype(np.int64), quota_code=quota_code)
