"""Running a campaign wave by wave, with retries, thresholds and a resumable store. One wave loop serves every
executor (executors.py): the emulator, or live, the DCC over DUIS (althan_ota.live).

Determinism: the randomness of a device's n-th attempt depends only on (seed, attempt, the unit's key),
where a unit is an installation (or a plain PPMID) and its key is its position in the fleet. So a run that
is interrupted and resumed from its store replays the wave in flight exactly, and ends as an uninterrupted
run of the same seed would.
"""

from __future__ import annotations

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
from .plan import CampaignPlan, WavePlan, make_waves, target
from .building_places import BuildingPlaces, building_codes, busy_ends_from_store, unit_ids
from .slots import RequestBook, first_slot_at, requests_per_unit
from .store_tables import DEVICES, EVENTS
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
                 plan.to_json(), seed, fleet_path, len(fleet), _params_json(emulation), devices, events)
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
    targeting = target(plan, fleet)
    waves = make_waves(plan, fleet, targeting, seed)
    done = store.committed_waves(campaign_id)
    _check_committed_waves(store, campaign_id, plan, fleet, targeting, waves, len(done))
    clock = done[-1]["t_end"] if done else 0.0
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
        store.commit_wave(campaign_id, wave_row, devices, events, transfers, status)
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


def _request_book(store: CampaignStore, campaign_id: str, plan: CampaignPlan, fleet: Fleet,
                  waves: WavePlan) -> tuple[RequestBook, int]:
    """The request book as the committed waves left it, and the slot after their last first request."""
    book = RequestBook(plan)
    if waves.quota_code is None:
        sent = store.requests_sent(campaign_id)
        supplier = None
    else:
        sent, supplier = _requests_sent_by_supplier(store, campaign_id, fleet, waves)
    t, attempt, count = (sent[name].to_numpy() for name in ("t", "attempt", "requests"))
    book.mark_requested(t, count, supplier)
    first = attempt == 1
    next_slot = int((book.slots_of(t[first]) + count[first]).max()) if first.any() else 0
    return book, next_slot


def _requests_sent_by_supplier(store: CampaignStore, campaign_id: str, fleet: Fleet,
                               waves: WavePlan) -> tuple[pa.Table, np.ndarray]:
    """store.requests_sent, with the quota code each group of requests was charged to: its unit's (the
    requests of one (t, attempt) are one unit's)."""
    events = store.table("events", campaign_id).filter(pc.equal(pc.field("state"), int(State.REQUESTED)))
    row = pc.fill_null(pc.index_in(events["device_id"], value_set=fleet.table["device_id"].combine_chunks()),
                       -1).to_numpy().astype(np.int64)
    unit_of_row = np.full(len(fleet) + 1, -1, np.int64)         # the last entry: a device not in the fleet
    for side in (waves.hub_row, waves.meter_row):
        unit_of_row[side[side >= 0]] = np.flatnonzero(side >= 0)
    unit = unit_of_row[row]
    if (unit < 0).any():
        raise CampaignError(f"campaign {campaign_id!r}: the store holds requests of devices this plan does not "
                            "request on this fleet: resume on the fleet file it was planned on")
    grouped = pa.table({"t": events["t"], "attempt": events["attempt"], "code": waves.quota_code[unit]}).group_by(
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
    waves = make_waves(plan, fleet, target(plan, fleet), int(info["seed"]))
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
