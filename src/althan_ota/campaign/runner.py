"""Running a campaign wave by wave, with retries, thresholds and a resumable store. One wave loop serves every
executor (executors.py): the emulator, or live, the DCC over DUIS (althan_ota.live).

Determinism: the randomness of a device's n-th attempt depends only on (seed, attempt, the unit's key),
where a unit is an installation (or a plain PPMID) and its key is its position in the fleet. So a run that
is interrupted and resumed from its store replays the wave in flight exactly, and ends as an uninterrupted
run of the same seed would.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..emulate import EmulationParams
from ..emulate.params import describe as describe_params
from ..errors import CampaignError, CampaignStoreError
from ..fleet import Fleet, read_fleet
from . import control
from .emulation import WaveOutcome, dataclass_from_dict
from .executors import EmulatorExecutor, Executor, WaveJob
from .plan import CampaignPlan, Targeting, WavePlan, make_waves, target
from .building_places import BuildingPlaces, building_codes, busy_ends_from_store, unit_ids
from .slots import RequestBook, first_slot_at, requests_per_unit, supplier_codes
from .store_tables import DEVICES, EVENTS, REQUESTS
from .outcomes import Reason, outcome
from .states import State
from .store import CampaignStore

# a wave is judged, and the next one released, once this share of its devices has reached a final state
WAVE_SETTLE_FRACTION = 0.95


@dataclass
class RunReport:
    campaign_id: str
    status: str
    waves_done: int
    waves_total: int
    state_counts: dict[str, int]


def create_campaign(store: CampaignStore, plan: CampaignPlan, fleet: Fleet, fleet_path: str, seed: int = 0,
                    emulation: EmulationParams | None = None, campaign_id: str | None = None) -> str:
    """Register a campaign in the store: its plan, seed and fleet file, and a row for every device the plan
    will never request (not eligible, with the reason)."""
    campaign_id = campaign_id or f"{plan.name}-{uuid.uuid4().hex[:8]}"
    emulation = emulation or EmulationParams()
    targeting = target(plan, fleet)
    out = np.flatnonzero(targeting.in_scope & ~targeting.eligible)
    devices, events = _final_rows(campaign_id, fleet, out, State.NOT_ELIGIBLE, targeting.reason[out], t=0.0,
                                  wave=-1)
    store.create(campaign_id, plan.name, plan.environment, plan.target_version, plan.image_sha256,
                 plan.to_json(), seed, fleet_path, len(fleet), _params_json(emulation), devices, events,
                 eligible_rows=np.packbits(targeting.eligible).tobytes())
    return campaign_id


def run_campaign(store: CampaignStore, campaign_id: str, fleet: Fleet | None = None,
                 progress: Callable[[int, int], object] | None = None, max_waves: int | None = None,
                 n_threads: int | None = None, executor: Executor | None = None) -> RunReport:
    """Run (or resume) a campaign until it finishes, pauses on a threshold, is paused or aborted from
    outside (``althan-ota campaign pause``), or ``max_waves`` more waves are committed. A store that cannot be
    written (a full disk) stops the run with a CampaignStoreError that says how to resume it. ``executor``
    carries out each wave (default: the emulator on ``n_threads``)."""
    executor = executor if executor is not None else EmulatorExecutor(n_threads)
    try:
        with executor.session(store, campaign_id):
            return _run(store, campaign_id, fleet, progress, max_waves, executor)
    except CampaignStoreError as exc:
        committed = len(store.committed_waves(campaign_id))
        raise CampaignStoreError(
            f"{exc}. Campaign {campaign_id!r} stopped; its {committed} committed wave(s) are intact in the store. "
            f"Free disk space (or move {store.path} and its .wal file to a larger disk) and run: "
            f"althan-ota campaign resume {campaign_id} --store {store.path}") from None


def _run(store: CampaignStore, campaign_id: str, fleet: Fleet | None, progress, max_waves: int | None,
         executor: Executor) -> RunReport:
    info = store.campaign(campaign_id)
    if info["status"] in ("finished", "aborted"):
        return _report(store, campaign_id)
    plan = CampaignPlan.from_json(info["plan_json"])
    fleet = fleet if fleet is not None else read_fleet(info["fleet_path"])
    if len(fleet) != info["fleet_rows"]:
        raise CampaignError(f"campaign {campaign_id!r} was planned on {info['fleet_rows']} devices of "
                            f"{info['fleet_path']}, which now has {len(fleet)}: resume on the same fleet file")
    emulation = _params_from_json(info["emulation_json"])
    seed = int(info["seed"])
    targeting, waves = _planned_waves(store, campaign_id, plan, fleet, seed)
    done = store.committed_waves(campaign_id)
    _check_committed_waves(store, campaign_id, plan, fleet, targeting, waves, len(done))
    clock = done[-1]["t_end"] if done else 0.0
    waves = _withdraw_out_of_scope(store, campaign_id, plan, fleet, targeting, waves, len(done), clock)
    book, next_slot = _request_book(store, campaign_id, plan, fleet, waves)
    places = _building_places(store, campaign_id, plan, fleet)
    store.set_status(campaign_id, "running")
    ran = 0
    for w in range(len(done), waves.n_waves):
        if max_waves is not None and ran >= max_waves:
            break
        action = control.requested(store.path, campaign_id)
        if action is not None:
            control.clear(store.path, campaign_id)
            if action == "abort":
                store.set_status(campaign_id, "aborted")
                _cancel_rest(store, campaign_id, fleet, waves, w, clock)
            else:
                store.set_status(campaign_id, "paused")
            break
        lo, hi = waves.wave_bounds[w], waves.wave_bounds[w + 1]
        # a wave goes once the previous one has settled, after every first request of the earlier waves
        requests = requests_per_unit(waves.hub_row[lo:hi], waves.meter_row[lo:hi])
        slots = book.take_in_order(requests, max(next_slot, first_slot_at(plan, clock)), waves.quota_codes(lo, hi))
        next_slot = int((slots + requests).max()) if len(slots) else next_slot
        release = book.times(slots)
        job = WaveJob(campaign_id, w, plan, emulation, seed, fleet, waves, lo, hi, release, book, places)
        outcome = executor.run_wave(job)
        decision, status = _judge(plan, outcome, last=(w == waves.n_waves - 1))
        wave_row = {"wave": w, "devices": outcome.devices, "failed": outcome.failed,
                    "failure_rate": outcome.failure_rate, "t_start": float(release[0]) if len(release) else clock,
                    "t_end": outcome.settle_time(WAVE_SETTLE_FRACTION, default=clock), "decision": decision}
        devices, events, transfers = outcome.tables(campaign_id, fleet, w)
        store.commit_wave(campaign_id, wave_row, devices, events, transfers, status,
                          _request_records(campaign_id, fleet, waves, lo, hi, events))
        clock = wave_row["t_end"]
        ran += 1
        if progress is not None:
            progress(w + 1, waves.n_waves)
        if decision == "abort":
            _cancel_rest(store, campaign_id, fleet, waves, w + 1, clock)
            break
        if decision == "pause":
            break
    if store.status(campaign_id) == "running" and len(store.committed_waves(campaign_id)) == waves.n_waves:
        store.set_status(campaign_id, "finished")
    return _report(store, campaign_id, waves.n_waves)


def _planned_waves(store: CampaignStore, campaign_id: str, plan: CampaignPlan, fleet: Fleet,
                   seed: int) -> tuple[Targeting, WavePlan]:
    """The plan's targeting on ``fleet`` now, and the waves as the campaign was planned: on the eligible rows
    the store kept when it was created (so a device that left the plan's scope since reshuffles nothing), or,
    for a store written before those were kept, on the targeting now."""
    targeting = target(plan, fleet)
    packed = store.planned_targets(campaign_id)
    if packed is None:
        return targeting, make_waves(plan, fleet, targeting, seed)
    eligible = np.unpackbits(np.frombuffer(packed, np.uint8), count=len(fleet)).astype(bool)
    planned = Targeting(in_scope=eligible, reason=np.zeros(len(fleet), np.uint8))
    return targeting, make_waves(plan, fleet, planned, seed)


def _withdraw_out_of_scope(store: CampaignStore, campaign_id: str, plan: CampaignPlan, fleet: Fleet,
                           targeting: Targeting, waves: WavePlan, committed: int, t: float) -> WavePlan:
    """The waves not run yet without the devices the plan no longer makes eligible on this fleet, each recorded
    once in the store: a device that left the plan's scope (moved to a supplier the plan does not cover, or
    out of its target filter) as withdrawn, one still in scope but no longer eligible (suspended, already
    current, ...) as not eligible with its reason. A unit left with no device leaves its wave."""
    lo = int(waves.wave_bounds[committed])
    hub, meter = waves.hub_row.copy(), waves.meter_row.copy()
    gone = []
    for side in (hub, meter):
        rest = side[lo:]
        out = (rest >= 0) & ~targeting.eligible[np.maximum(rest, 0)]
        gone.append(rest[out])
        rest[out] = -1
    gone = np.sort(np.concatenate(gone))
    if not len(gone):
        return waves
    recorded = store.table("devices", campaign_id)["device_id"].combine_chunks()
    new = gone[~pc.is_in(fleet.table["device_id"].take(pa.array(gone, pa.int64())),
                         value_set=recorded).to_numpy(zero_copy_only=False)]
    if len(new):
        supplier = fleet.column("supplier").astype(object)[new]
        left_suppliers = np.array([plan.suppliers is not None and s not in plan.suppliers for s in supplier], bool)
        out_of_scope = ~targeting.in_scope[new]
        parts = []
        for rows, key in ((new[out_of_scope & left_suppliers], "withdrawn_supplier_changed"),
                          (new[out_of_scope & ~left_suppliers], "withdrawn_left_targets")):
            row = outcome(key)
            parts.append(_final_rows(campaign_id, fleet, rows, row.state, np.full(len(rows), row.reason, np.uint8),
                                     t=t, wave=-1))
        ineligible = new[~out_of_scope]
        parts.append(_final_rows(campaign_id, fleet, ineligible, State.NOT_ELIGIBLE, targeting.reason[ineligible],
                                 t=t, wave=-1))
        # in one transaction: a run stopped here records them all or none (the next resume records the rest)
        store.insert_devices(campaign_id, pa.concat_tables([d for d, _ in parts]),
                             pa.concat_tables([e for _, e in parts]))
    keep = (hub >= 0) | (meter >= 0)
    keep[:lo] = True
    bounds = np.concatenate([[0], np.cumsum(keep)])[waves.wave_bounds]
    quota_code = waves.quota_code
    if quota_code is not None:       # a unit's requests are charged to the supplier of its first targeted bridge
        key_row = np.where(hub >= 0, hub, meter)[lo:]
        quota_code = quota_code.copy()
        quota_code[lo:] = supplier_codes(plan, fleet.column("supplier").astype(object)[np.maximum(key_row, 0)])
        quota_code = quota_code[keep]
    building = None if waves.building is None else waves.building[keep]
    return dataclasses.replace(waves, hub_row=hub[keep], meter_row=meter[keep], unit_key=waves.unit_key[keep],
                               han_per=waves.han_per[keep], bridge_per=waves.bridge_per[keep],
                               wave_bounds=bounds.astype(np.int64), request_offset_s=waves.request_offset_s[keep],
                               building=building, quota_code=quota_code)


def _request_records(campaign_id: str, fleet: Fleet, waves: WavePlan, lo: int, hi: int,
                     events: pa.Table) -> pa.Table:
    """The wave's SRV 11.4 requests (its REQUESTED events), each with the supplier the book charged it to: the
    supplier of its unit's first targeted bridge, as the fleet the run reads names it now."""
    requested = events.filter(pc.equal(events["state"], int(State.REQUESTED)))
    hub, meter = waves.hub_row[lo:hi], waves.meter_row[lo:hi]
    key_row = np.where(hub >= 0, hub, meter)
    rows, charged = np.concatenate([hub, meter]), np.concatenate([key_row, key_row])
    mine = rows >= 0
    ids = fleet.table["device_id"].take(pa.array(rows[mine], pa.int64())).combine_chunks()
    at = pc.index_in(requested["device_id"], value_set=ids)
    if at.null_count:
        raise CampaignError(f"campaign {campaign_id!r}: the wave's requests name devices outside its units")
    supplier = fleet.table["supplier"].take(pa.array(charged[mine][at.to_numpy()], pa.int64()))
    return pa.table({"campaign_id": requested["campaign_id"], "device_id": requested["device_id"],
                     "t": requested["t"], "attempt": requested["attempt"], "supplier": supplier}, schema=REQUESTS)


def _check_committed_waves(store: CampaignStore, campaign_id: str, plan: CampaignPlan, fleet: Fleet,
                           targeting, waves: WavePlan, committed: int) -> None:
    """A resumed run must plan the waves it already ran as it did: the same devices in them. A fleet on which
    the plan targets other devices (one moved to a supplier the plan does not cover, a status or version that
    changed) would reshuffle every wave and silently skip or repeat devices: refuse it, naming one."""
    if not committed:
        return
    stored = store.table("devices", campaign_id)
    stored = stored.filter(pc.greater_equal(stored["wave"], 0))["device_id"]
    hi = int(waves.wave_bounds[committed])
    rows = np.concatenate([waves.hub_row[:hi], waves.meter_row[:hi]])
    planned = fleet.table["device_id"].take(pa.array(rows[rows >= 0], pa.int64()))
    missing = pc.filter(stored, pc.invert(pc.is_in(stored, value_set=planned.combine_chunks())))
    extra = pc.filter(planned, pc.invert(pc.is_in(planned, value_set=stored.combine_chunks())))
    if not len(missing) and not len(extra):
        return
    device = (missing if len(missing) else extra)[0].as_py()
    row = pc.index(fleet.table["device_id"], device).as_py()
    if row < 0:
        why = "it is not in this fleet"
    elif len(missing):
        supplier = fleet.table["supplier"][row].as_py()
        if plan.suppliers is not None and supplier not in plan.suppliers:
            why = f"its supplier is now {supplier!r}, which the plan does not cover"
        elif not targeting.in_scope[row]:
            why = "it is outside the plan's target filter now"
        else:
            why = f"the plan no longer targets it (now {Reason(int(targeting.reason[row])).label})"
    else:
        why = "the plan now targets it in a wave already run without it"
    raise CampaignError(
        f"campaign {campaign_id!r}: on this fleet the plan would put other devices in its {committed} committed "
        f"wave(s) ({len(missing)} run there no longer planned, {len(extra)} planned there never run; e.g. "
        f"{device}: {why}). Resume on the fleet file the campaign was planned on ({store.campaign(campaign_id)['fleet_path']}); "
        "report a device's new supplier with 'althan-ota report programme --fleet LATEST'")


def request_book(store: CampaignStore, campaign_id: str, fleet: Fleet | None = None) -> RequestBook:
    """The campaign's request book as its committed waves left it (what a resumed run starts from), on
    ``fleet`` (default: the fleet file it was planned on)."""
    info = store.campaign(campaign_id)
    plan = CampaignPlan.from_json(info["plan_json"])
    fleet = fleet if fleet is not None else read_fleet(info["fleet_path"])
    _, waves = _planned_waves(store, campaign_id, plan, fleet, int(info["seed"]))
    return _request_book(store, campaign_id, plan, fleet, waves)[0]


def _request_book(store: CampaignStore, campaign_id: str, plan: CampaignPlan, fleet: Fleet,
                  waves: WavePlan) -> tuple[RequestBook, int]:
    """The request book as the committed waves left it, and the slot after their last first request."""
    book = RequestBook(plan)
    if waves.quota_code is None:
        sent = store.requests_sent(campaign_id)
        supplier = None
    else:
        sent, supplier = _requests_sent_by_supplier(store, campaign_id, plan, fleet, waves)
    t, attempt, count = (sent[name].to_numpy() for name in ("t", "attempt", "requests"))
    book.mark_requested(t, count, supplier)
    first = attempt == 1
    next_slot = int((book.slots_of(t[first]) + count[first]).max()) if first.any() else 0
    return book, next_slot


def _requests_sent_by_supplier(store: CampaignStore, campaign_id: str, plan: CampaignPlan, fleet: Fleet,
                               waves: WavePlan) -> tuple[pa.Table, np.ndarray]:
    """store.requests_sent, with the quota code each group of requests was charged to (the requests of one
    (t, attempt) are one unit's): the supplier its request records name, and for requests of a store written
    before those were kept, the supplier of its unit's first targeted bridge on this fleet."""
    sent = store.requests_charged(campaign_id)
    recorded = sent["recorded"].to_numpy(zero_copy_only=False)
    code = supplier_codes(plan, sent["supplier"].to_numpy(zero_copy_only=False))
    if not recorded.all():
        row = pc.fill_null(pc.index_in(sent["device_id"], value_set=fleet.table["device_id"].combine_chunks()),
                           -1).to_numpy().astype(np.int64)
        unit_of_row = np.full(len(fleet) + 1, -1, np.int64)     # the last entry: a device not in the fleet
        for side in (waves.hub_row, waves.meter_row):
            unit_of_row[side[side >= 0]] = np.flatnonzero(side >= 0)
        unit = unit_of_row[row[~recorded]]
        if (unit < 0).any():
            raise CampaignError(f"campaign {campaign_id!r}: the store holds requests of devices this plan does "
                                "not request on this fleet: resume on the fleet file it was planned on")
        code[~recorded] = waves.quota_code[unit]
    grouped = pa.table({"t": sent["t"], "attempt": sent["attempt"], "code": code}).group_by(
        ["t", "attempt"]).aggregate([("code", "min"), ("code", "count")]).sort_by("t")
    return (pa.table({"t": grouped["t"], "attempt": grouped["attempt"], "requests": grouped["code_count"]}),
            grouped["code_min"].to_numpy())


def _building_places(store: CampaignStore, campaign_id: str, plan: CampaignPlan, fleet: Fleet) -> BuildingPlaces:
    """The building places as the committed waves left them (building_places.py)."""
    places = BuildingPlaces(plan.building_concurrency)
    if plan.building_concurrency is None or "building_id" not in fleet.table.column_names:
        return places
    unit, end = busy_ends_from_store(store.table("events", campaign_id), store.table("devices", campaign_id))
    if len(unit):
        row = pc.index_in(pa.array(unit, pa.string()), value_set=unit_ids(
            fleet.table["installation_id"], fleet.table["device_id"]).combine_chunks()).to_numpy(zero_copy_only=False)
        codes = building_codes(fleet.table["building_id"])
        places.mark_busy(codes[row.astype(np.int64)], end)
    return places


def _judge(plan: CampaignPlan, outcome: WaveOutcome, last: bool) -> tuple[str, str]:
    if outcome.devices and outcome.failure_rate >= plan.abort_failure_rate:
        return "abort", "aborted"
    if outcome.devices and outcome.failure_rate >= plan.pause_failure_rate:
        return "pause", "paused"
    return "continue", "finished" if last else "running"


def _cancel_rest(store: CampaignStore, campaign_id: str, fleet: Fleet, waves: WavePlan, first_wave: int,
                 t: float) -> None:
    lo = waves.wave_bounds[first_wave]
    rows = np.concatenate([waves.hub_row[lo:], waves.meter_row[lo:]])
    rows = np.sort(rows[rows >= 0])
    recorded = store.table("devices", campaign_id)["device_id"].combine_chunks()   # e.g. withdrawn before
    rows = rows[~pc.is_in(fleet.table["device_id"].take(pa.array(rows, pa.int64())),
                          value_set=recorded).to_numpy(zero_copy_only=False)]
    cancelled = outcome("cancelled")
    devices, events = _final_rows(campaign_id, fleet, rows, cancelled.state,
                                  np.full(len(rows), cancelled.reason, np.uint8), t=t, wave=-1)
    store.insert_devices(campaign_id, devices, events)


def _final_rows(campaign_id: str, fleet: Fleet, rows: np.ndarray, state: State, reason: np.ndarray, t: float,
                wave: int) -> tuple[pa.Table, pa.Table]:
    n = len(rows)
    take = pa.array(rows.astype(np.int64))
    version = fleet.table["firmware_version"].take(take)
    device_id = fleet.table["device_id"].take(take)
    devices = pa.table({
        "campaign_id": pa.array([campaign_id] * n, pa.string()), "device_id": device_id,
        "installation_id": fleet.table["installation_id"].take(take),
        "ppmid_variant": fleet.table["ppmid_variant"].take(take),
        "wave": pa.array(np.full(n, wave, np.int32)), "state": pa.array(np.full(n, int(state), np.uint8)),
        "reason": pa.array(reason.astype(np.uint8)), "attempts": pa.array(np.zeros(n, np.int32)),
        "t": pa.array(np.full(n, t)), "version_before": version, "version_after": version}, schema=DEVICES)
    events = pa.table({
        "campaign_id": devices["campaign_id"], "device_id": device_id, "t": devices["t"], "state": devices["state"],
        "reason": devices["reason"], "wave": devices["wave"], "attempt": devices["attempts"]}, schema=EVENTS)
    return devices, events


def _report(store: CampaignStore, campaign_id: str, waves_total: int | None = None) -> RunReport:
    counts = {State(s).label: c for s, c in sorted(store.state_counts(campaign_id).items())}
    return RunReport(campaign_id=campaign_id, status=store.status(campaign_id),
                     waves_done=len(store.committed_waves(campaign_id)),
                     waves_total=waves_total if waves_total is not None else -1, state_counts=counts)


def _params_json(params: EmulationParams) -> str:
    import json

    return json.dumps(describe_params(params), sort_keys=True)


def _params_from_json(text: str) -> EmulationParams:
    import json

    return dataclass_from_dict(EmulationParams, json.loads(text))


def pause_campaign(store: CampaignStore, campaign_id: str) -> None:
    """Pause a campaign that no process is running (a running one is asked through control.request)."""
    if store.status(campaign_id) in ("finished", "aborted"):
        raise CampaignError(f"campaign {campaign_id!r} is {store.status(campaign_id)}; it cannot be paused")
    store.set_status(campaign_id, "paused")


def abort_campaign(store: CampaignStore, campaign_id: str, fleet: Fleet | None = None) -> None:
    """Abort a campaign that no process is running: every device of an uncommitted wave is cancelled."""
    info = store.campaign(campaign_id)
    if info["status"] in ("finished", "aborted"):
        raise CampaignError(f"campaign {campaign_id!r} is {info['status']}; it cannot be aborted")
    plan = CampaignPlan.from_json(info["plan_json"])
    fleet = fleet if fleet is not None else read_fleet(info["fleet_path"])
    _, waves = _planned_waves(store, campaign_id, plan, fleet, int(info["seed"]))
    done = store.committed_waves(campaign_id)
    store.set_status(campaign_id, "aborted")
    if len(done) < waves.n_waves:
        _cancel_rest(store, campaign_id, fleet, waves, len(done), done[-1]["t_end"] if done else 0.0)


def predict(plan: CampaignPlan, fleet: Fleet, seed: int = 0, emulation: EmulationParams | None = None,
            progress: Callable[[int, int], object] | None = None, n_threads: int | None = None) -> dict:
    """Dry-run the whole campaign on the emulator in memory and summarise it. Threshold pauses are recorded
    and resumed (as an operator would after looking), aborts end the run as they would for real."""
    from .summary import summarise

    with CampaignStore(":memory:") as store:
        cid = create_campaign(store, plan, fleet, fleet_path="<memory>", seed=seed, emulation=emulation,
                              campaign_id=plan.name)
        while True:
            report = run_campaign(store, cid, fleet=fleet, progress=progress, n_threads=n_threads)
            if report.status != "paused":
                break
        return summarise(store, cid)
