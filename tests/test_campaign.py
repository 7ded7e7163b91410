"""Campaign planning and execution against the emulator: targeting, waves, pacing, thresholds, retries,
the resumable store (interrupt with Ctrl-C or kill -9, resume, same result), and the CLI."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow.compute as pc
import pytest

from althan_ota.campaign import (CampaignPlan, CampaignStore, Reason, State, create_campaign, make_waves,
                                 predict, run_campaign, summarise, target)
from althan_ota.campaign.slots import RequestBook, first_slot_at, request_slots, request_times, slot_times
from althan_ota.emulate import BridgeLink, EmulationParams, OtaParams, OutageParams
from althan_ota.emulate.result import OUTCOMES
from althan_ota.errors import CampaignError, ParameterError
from althan_ota.fleet import generate_fleet

OLD = (0x01020000, 0x01030000, 0x00050003, 0x20190410, 0x20210902)
NEW = 0x01040000


def plan_for(**overrides) -> CampaignPlan:
    fields = dict(name="t", target_version=NEW, image_size=24_000, upgrade_paths=tuple((v, NEW) for v in OLD),
                  canary_installations=20, wave_growth=3.0, max_wave_installations=200,
                  requests_per_day=2000)
    fields.update(overrides)
    return CampaignPlan(**fields)


FAST = EmulationParams(ota=OtaParams(min_block_period_s=0.01), outages=OutageParams.none(),
                       wan_delay_median_s=60.0)


@pytest.fixture(scope="module")
def fleet():
    return generate_fleet(400, seed=11)


@pytest.fixture(scope="module")
def plain_fleet(fleet):
    """The same fleet without measured link quality, so the emulation parameters decide the PERs."""
    from althan_ota.fleet import Fleet

    return Fleet(table=fleet.table.drop_columns(["han_per", "bridge_per"]), source="no-links")


def test_targeting_excludes_with_reasons(fleet):
    t = target(plan_for(hardware_max=4), fleet)
    reason = t.reason
    status = fleet.column("smi_status")
    join = fleet.column("join_mode")
    assert (reason[status == "Suspended"] == Reason.SUSPENDED).all()
    assert (reason[status == "Decommissioned"] == Reason.DECOMMISSIONED).all()
    cad = (join == "CAD") & (status == "Commissioned")
    assert (reason[cad] == Reason.JOINED_AS_CAD).all()
    hw = fleet.column("hardware_version")
    ok_so_far = (status == "Commissioned") & (join == "PPMID")
    assert (reason[ok_so_far & (hw > 4)] == Reason.HARDWARE_MISMATCH).all()
    fw = fleet.column("firmware_version")
    no_path = ok_so_far & (hw <= 4) & ~np.isin(fw, OLD)
    assert no_path.any() and (reason[no_path] == Reason.NO_UPGRADE_PATH).all()
    assert (reason[ok_so_far & (hw <= 4) & np.isin(fw, OLD)] == Reason.NONE).all()
    # plain PPMIDs are out of scope of a bridge campaign
    assert not t.in_scope[fleet.column("ppmid_variant") == "PPMID"].any()


def test_waves_keep_pairs_together_and_grow(fleet):
    plan = plan_for()
    waves = make_waves(plan, fleet, target(plan, fleet), seed=5)
    sizes = np.diff(waves.wave_bounds)
    assert sizes[0] == 20 and sizes[1] == 60 and (sizes[2:-1] <= 200).all()
    inst = fleet.column("installation_id")
    both = (waves.hub_row >= 0) & (waves.meter_row >= 0)
    assert (inst[waves.hub_row[both]] == inst[waves.meter_row[both]]).all()
    again = make_waves(plan, fleet, target(plan, fleet), seed=5)
    assert (again.hub_row == waves.hub_row).all() and (again.unit_key == waves.unit_key).all()


def _requests_per_day(release_s: np.ndarray, requests: np.ndarray) -> np.ndarray:
    return np.bincount(np.floor(release_s / 86400).astype(int), weights=requests).astype(int)


def test_requests_respect_rate_cap_and_window():
    plan = plan_for(requests_per_day=1000, window_start_h=1.0, window_end_h=5.0)
    requests = np.random.default_rng(2).choice([1, 2], size=3000)
    t = request_times(plan, requests)
    assert (np.diff(t) > 0).all()
    per_day = _requests_per_day(t, requests)
    assert per_day.sum() == requests.sum()
    # exact: never above the cap, and a day is left short only by a pair that would not fit
    assert per_day.max() <= 1000 and per_day[:-1].min() >= 999
    hour = (t % 86400) / 3600
    assert (hour >= 1.0).all() and (hour < 5.0).all()
    assert request_times(plan, np.ones(1000, int))[-1] < 86400       # 1000 single requests: one day
    with pytest.raises(ParameterError, match="requests_per_day=1 is below the 2 requests"):
        request_times(plan_for(requests_per_day=1), np.array([1, 2]))


@pytest.mark.parametrize("cap", [49, 50])
def test_waves_pace_each_targeted_device_as_one_request(fleet, cap):
    # plain PPMIDs (one request), pairs with one side eligible (one) and with both (two)
    plan = plan_for(variants=("ALTHAN_P2P_HUB", "ALTHAN_P2P_METER", "PPMID"), requests_per_day=cap)
    waves = make_waves(plan, fleet, target(plan, fleet), seed=5)
    requests = (waves.hub_row >= 0).astype(int) + (waves.meter_row >= 0)
    assert set(np.unique(requests).tolist()) == {1, 2}
    assert ((waves.meter_row < 0) & (fleet.column("ppmid_variant")[waves.hub_row] == "PPMID")).any()
    per_day = _requests_per_day(waves.request_offset_s, requests)
    assert per_day.max() <= cap and per_day[:-1].min() >= cap - 1


def test_a_delayed_wave_keeps_to_the_window_and_the_daily_cap(fleet, tmp_path):
    # waves wait for the previous one to settle, often past the window: they take the next free slots
    plan = plan_for(window_start_h=8.0, window_end_h=10.0, requests_per_day=100)
    with CampaignStore(tmp_path / "w.duckdb") as store:
        create_campaign(store, plan, fleet, "mem", seed=5, emulation=FAST, campaign_id="w")
        run_campaign(store, "w", fleet=fleet)
        ev = store.table("events", "w").to_pydict()
        wave_rows = store.committed_waves("w")
    first = [(t, w) for t, s, w, a in zip(ev["t"], ev["state"], ev["wave"], ev["attempt"])
             if s == State.REQUESTED and a == 1]
    t = np.array([t for t, _ in first])
    hour = (t % 86400) / 3600
    assert ((hour >= 8.0) & (hour < 10.0)).all()
    assert np.bincount((t // 86400).astype(int)).max() <= 100             # one event per requested device
    assert len(wave_rows) >= 3
    for before, after in zip(wave_rows, wave_rows[1:]):
        assert after["t_start"] >= before["t_end"]
        assert min(t for t, w in first if w == after["wave"]) >= max(t for t, w in first if w == before["wave"])


def test_request_slots_continue_from_a_given_slot():
    plan = plan_for(requests_per_day=10, window_start_h=6.0, window_end_h=8.0)
    assert request_slots(plan, [1, 2, 2], first_slot=7).tolist() == [7, 8, 10]   # the pair opens day 1
    assert request_slots(plan, [2], first_slot=9).tolist() == [10]
    times = slot_times(plan, np.arange(25))
    assert [first_slot_at(plan, x) for x in times] == list(range(25))          # a slot's time maps back
    assert first_slot_at(plan, 0.0) == 0 and first_slot_at(plan, 9 * 3600.0) == 10
    assert first_slot_at(plan, times[3] + 1.0) == 4


def test_the_request_book_gives_each_slot_once_and_rebuilds_from_request_times():
    plan = plan_for(requests_per_day=10, window_start_h=6.0, window_end_h=8.0)
    book = RequestBook(plan)
    assert book.take_in_order([1, 2, 2], 7).tolist() == [7, 8, 10]
    # retries: the first free slots at or after the due time, a pair's two in a row within one day
    due = slot_times(plan, [7, 7, 9, 0])
    assert book.take_at_or_after([1, 2, 1, 2], due).tolist() == [12, 13, 15, 0]   # in order of due time
    assert book.take_at_or_after([2], slot_times(plan, [8])).tolist() == [16]
    assert book.take_at_or_after([1], slot_times(plan, [3]) + 1.0).tolist() == [4]   # never before it is due
    # a wave in order skips what retries took, and a pair does not split over a one-slot gap (3) ...
    assert book.take_in_order([1, 2, 1], 2).tolist() == [2, 5, 18]
    assert book.take_at_or_after([2], slot_times(plan, [9])).tolist() == [20]       # ... nor over a day's end
    assert book.take_at_or_after([1], slot_times(plan, [0])).tolist() == [3]
    taken = book.taken_runs()
    # the same set of slots, rebuilt from each unit's request time and count, as a store holds them
    rebuilt = RequestBook(plan)
    slots = [7, 8, 10, 12, 13, 15, 0, 16, 4, 2, 5, 18, 20, 3]
    counts = [1, 2, 2, 1, 2, 1, 2, 2, 1, 1, 2, 1, 2, 1]
    rebuilt.mark_requested(slot_times(plan, slots), counts)
    assert rebuilt.taken_runs() == taken == [(0, 19), (20, 22)]               # slot 19 was too short a gap
    with pytest.raises(CampaignError, match="already taken"):
        RequestBook(plan).mark_requested(slot_times(plan, [3, 2]), [1, 2])
    with pytest.raises(CampaignError, match="past the day's cap"):
        RequestBook(plan).mark_requested(slot_times(plan, [9]), [2])
    with pytest.raises(CampaignError, match="no request slot"):
        RequestBook(plan).mark_requested(slot_times(plan, [3]) + 1.0, [1])
    with pytest.raises(ParameterError, match="requests_per_day=1 is below the 2 requests"):
        RequestBook(plan_for(requests_per_day=1)).take_at_or_after([2], [0.0])


def test_plan_validation_is_specific():
    with pytest.raises(ParameterError, match="pair_order"):
        plan_for(pair_order="random")
    with pytest.raises(ParameterError, match="thresholds"):
        plan_for(pause_failure_rate=0.5, abort_failure_rate=0.1)
    with pytest.raises(ParameterError, match="retry policy"):
        plan_for(retry=dataclasses.replace(plan_for().retry, max_attempts={"nonsense": 2}))


def _final(store, cid):
    devices = store.table("devices", cid).drop_columns(["campaign_id"]).sort_by("device_id")
    events = store.table("events", cid).drop_columns(["campaign_id"]).sort_by(
        [("device_id", "ascending"), ("t", "ascending"), ("state", "ascending")])
    return devices, events


def test_run_reaches_a_final_state_for_every_device(fleet, tmp_path):
    plan = plan_for()
    with CampaignStore(tmp_path / "s.duckdb") as store:
        cid = create_campaign(store, plan, fleet, fleet_path="mem", seed=3, emulation=FAST, campaign_id="c1")
        report = run_campaign(store, cid, fleet=fleet)
        assert report.status == "finished"
        devices, events = _final(store, cid)
        t = target(plan, fleet)
        assert devices.num_rows == int(t.in_scope.sum())
        states = devices["state"].to_numpy()
        final = {int(s) for s in (State.VERIFIED, State.NOT_ELIGIBLE, State.TRANSFER_FAILED,
                                  State.ACTIVATION_FAILED, State.UNREACHABLE)}
        assert set(np.unique(states).tolist()) <= final
        verified = states == State.VERIFIED
        assert verified.sum() > 0.8 * t.eligible.sum()
        assert (devices["version_after"].to_numpy()[verified] == NEW).all()
        assert (devices["version_after"].to_numpy()[~verified] == devices["version_before"].to_numpy()[~verified]).all()
        # each verified device went requested -> ... -> verified, in time order
        ev = events.to_pydict()
        per_device: dict[str, list] = {}
        for d, tt, s in zip(ev["device_id"], ev["t"], ev["state"]):
            per_device.setdefault(d, []).append((tt, s))
        for d, state in zip(devices["device_id"].to_pylist(), states):
            if state == State.VERIFIED:
                seq = per_device[d]
                assert [s for _, s in seq][-1] == State.VERIFIED
                assert all(a[0] <= b[0] for a, b in zip(seq, seq[1:]))
                assert seq[0][1] == State.REQUESTED
        s = summarise(store, cid)
        assert s["states"]["verified"] == int(verified.sum())
        # one visit per premises (tests/test_site_visits.py), so fewer than one per verified device
        avoided = s["site_visits"]["avoided"]
        assert 0 < avoided < verified.sum()
        assert s["site_visits"]["cost_avoided"] == pytest.approx(avoided * plan.site_visit_cost)
        assert s["airtime_hours"]["bridge"] > 0


def test_same_seed_same_result_and_resume_after_interrupt(fleet, tmp_path):
    plan = plan_for()
    with CampaignStore(tmp_path / "a.duckdb") as store:
        create_campaign(store, plan, fleet, "mem", seed=9, emulation=FAST, campaign_id="c")
        run_campaign(store, "c", fleet=fleet)
        whole = _final(store, "c")
    with CampaignStore(tmp_path / "b.duckdb") as store:
        create_campaign(store, plan, fleet, "mem", seed=9, emulation=FAST, campaign_id="c")

        def interrupt(done, total):
            if done == 2:
                raise KeyboardInterrupt
        with pytest.raises(KeyboardInterrupt):
            run_campaign(store, "c", fleet=fleet, progress=interrupt)
        assert len(store.committed_waves("c")) == 2
        run_campaign(store, "c", fleet=fleet)
        resumed = _final(store, "c")
    assert whole[0].equals(resumed[0])
    assert whole[1].equals(resumed[1])


def test_failure_thresholds_pause_then_abort(plain_fleet, tmp_path):
    fleet = plain_fleet
    bad = dataclasses.replace(FAST, bridge=BridgeLink(per=0.9), ota=OtaParams(min_block_period_s=0.01,
                                                                               max_consecutive_failures=2))
    plan = plan_for(pause_failure_rate=0.05, abort_failure_rate=0.99)
    with CampaignStore(tmp_path / "p.duckdb") as store:
        create_campaign(store, plan, fleet, "mem", seed=1, emulation=bad, campaign_id="p")
        report = run_campaign(store, "p", fleet=fleet)
        assert report.status == "paused" and report.waves_done == 1
        assert store.committed_waves("p")[0]["decision"] == "pause"
    plan = plan_for(pause_failure_rate=0.05, abort_failure_rate=0.1)
    with CampaignStore(tmp_path / "a.duckdb") as store:
        create_campaign(store, plan, fleet, "mem", seed=1, emulation=bad, campaign_id="a")
        report = run_campaign(store, "a", fleet=fleet)
        assert report.status == "aborted" and report.waves_done == 1
        devices = store.table("devices", "a")
        cancelled = pc.equal(devices["state"], int(State.CANCELLED))
        assert pc.sum(cancelled).as_py() > 0
        assert set(pc.filter(devices["reason"], cancelled).to_pylist()) == {int(Reason.ABORTED)}


def test_retries_follow_the_policy(plain_fleet, tmp_path):
    fleet = plain_fleet
    lossy = dataclasses.replace(FAST, bridge=BridgeLink(per=0.5), ota=OtaParams(min_block_period_s=0.01,
                                                                                 max_consecutive_failures=3))
    plan = plan_for(abort_failure_rate=1.0, pause_failure_rate=1.0,
                    retry=dataclasses.replace(plan_for().retry, max_attempts={"transfer": 3}, backoff_s=600.0))
    with CampaignStore(tmp_path / "r.duckdb") as store:
        create_campaign(store, plan, fleet, "mem", seed=2, emulation=lossy, campaign_id="r")
        run_campaign(store, "r", fleet=fleet)
        d = store.table("devices", "r")
        failed = pc.equal(d["state"], int(State.TRANSFER_FAILED)).to_numpy(zero_copy_only=False)
        attempts = d["attempts"].to_numpy()
        reasons = d["reason"].to_numpy()
        link_failures = failed & np.isin(reasons, [Reason.HAN_LINK, Reason.BRIDGE_LINK])
        assert link_failures.any() and (attempts[link_failures] == 3).all()
        assert (attempts[d["state"].to_numpy() == State.VERIFIED] <= 3).all()


def test_predict_summarises_a_dry_run(fleet):
    s = predict(plan_for(site_visit_cost=200.0), fleet, seed=4, emulation=FAST)
    assert s["status"] == "finished"
    assert s["site_visits"]["needed_cad_joined"] > 0
    assert s["completion_days"]["0.5"] is not None and s["completion_days"]["0.5"] <= s["completion_days"]["1.0"]
    assert s["site_visits"]["cost_avoided"] == s["site_visits"]["avoided"] * 200.0


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "althan_ota", *args], capture_output=True, text=True, **kw)


def test_cli_kill_9_then_resume_equals_uninterrupted(tmp_path):
    fleet_path = tmp_path / "fleet.parquet"
    generate_fleet(3000, seed=21).write(fleet_path)
    common = ["--fleet", str(fleet_path), "--target-version", "0x01040000", "--image-size", "60000",
              "--seed", "5", "--canary", "30", "--requests-per-day", "4000", "--threads", "1"]
    for v in OLD:
        common += ["--upgrade-path", f"0x{v:08X}:0x01040000"]
    ref = _cli("campaign", "run", *common, "--store", str(tmp_path / "ref.duckdb"), "--campaign-id", "k", "--json",
               check=True)
    assert json.loads(ref.stdout)["status"] == "finished"

    store = tmp_path / "kill.duckdb"
    proc = subprocess.Popen([sys.executable, "-m", "althan_ota", "campaign", "run", *common, "--store", str(store),
                             "--campaign-id", "k", "--json"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    killed_after = None
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
        try:
            with CampaignStore(store, read_only=True) as s:
                if "k" in s.campaigns() and len(s.committed_waves("k")) >= 1:
                    os.kill(proc.pid, signal.SIGKILL)
                    killed_after = len(s.committed_waves("k"))
                    break
        except Exception:
            continue            # the writer holds the file; try again
    proc.wait()
    if killed_after is None:
        pytest.skip("the run finished before it could be killed")
    resumed = _cli("campaign", "resume", "k", "--store", str(store), "--json", check=True)
    assert json.loads(resumed.stdout)["status"] == "finished"
    with CampaignStore(tmp_path / "ref.duckdb", read_only=True) as a, CampaignStore(store, read_only=True) as b:
        ra, rb = _final(a, "k"), _final(b, "k")
    assert ra[0].equals(rb[0]) and ra[1].equals(rb[1])


def test_cli_status_and_pause(tmp_path):
    fleet_path = tmp_path / "fleet.parquet"
    generate_fleet(100, seed=2).write(fleet_path)
    args = ["--fleet", str(fleet_path), "--target-version", "0x01040000", "--image-size", "20000",
            "--store", str(tmp_path / "s.duckdb"), "--campaign-id", "x"]
    for v in OLD:
        args += ["--upgrade-path", f"0x{v:08X}:0x01040000"]
    out = _cli("campaign", "run", *args, check=True).stdout
    assert "campaign x" in out and "site visits avoided" in out
    status = json.loads(_cli("campaign", "status", "x", "--store", str(tmp_path / "s.duckdb"), "--json",
                             check=True).stdout)
    assert status[0]["campaign_id"] == "x" and status[0]["status"] == "finished"
    refused = _cli("campaign", "pause", "x", "--store", str(tmp_path / "s.duckdb"))
    assert refused.returncode == 1 and "finished" in refused.stderr
    missing = _cli("campaign", "status", "nope", "--store", str(tmp_path / "s.duckdb"))
    assert missing.returncode == 1 and "no campaign 'nope'" in missing.stderr


def test_campaign_from_release_never_leaves_a_pair_incompatible(tmp_path):
    """The release's compatibility table decides the pair order, and a pair whose one side cannot be upgraded
    is left alone when upgrading the other would break it: no pair that worked before is broken after."""
    from althan_ota.campaign import plan_from_release
    from althan_ota.errors import CampaignError
    from althan_ota.release import verify_bundle
    from althan_ota.testing.release_bundles import make_test_release

    fleet = generate_fleet(3000, seed=8)
    bundle = make_test_release(tmp_path / "r.zip", environment="test")
    release = verify_bundle(bundle.path, "test", bundle.trusted_keys)
    plan = plan_from_release(release, fleet, name="nb", environment="test", canary_installations=50,
                             requests_per_day=10_000)
    assert plan.pair_order == "hub_first" and plan.target_version == release.images[0].file_version
    with pytest.raises(CampaignError, match="test environment"):
        plan_from_release(release, fleet, name="nb", environment="production")
    with CampaignStore(tmp_path / "s.duckdb") as store:
        create_campaign(store, plan, fleet, "mem", seed=2, emulation=FAST, campaign_id="nb")
        run_campaign(store, "nb", fleet=fleet)
        devices = store.table("devices", "nb")
    after = dict(zip(devices["device_id"].to_pylist(), devices["version_after"].to_pylist()))
    inst, hub, meter = fleet.pairs()
    ids_ = fleet.column("device_id")
    before = fleet.column("firmware_version")
    compat = release.compatibility
    broken = 0
    for h, m in zip(hub, meter):
        hv0, mv0 = int(before[h]), int(before[m])
        hv1, mv1 = after.get(ids_[h], hv0), after.get(ids_[m], mv0)
        if compat.is_compatible(hv0, mv0) and not compat.is_compatible(hv1, mv1):
            broken += 1
    assert broken == 0
    assert any(v == plan.target_version for v in after.values())


def _first_attempt(outcome, state: State) -> dict[int, float]:
    """Device slot -> time it reached ``state`` on its first attempt, from an emulated wave's events."""
    return {int(slot): float(t) for slots, times, s, _, attempt in outcome.events if s == state and attempt == 1
            for slot, t in zip(slots, times)}


def test_activation_at_a_set_instant_is_the_same_instant_for_the_fleet(fleet):
    from althan_ota.campaign.emulation import emulate_wave

    at_once_plan = plan_for()
    waves = make_waves(at_once_plan, fleet, target(at_once_plan, fleet), seed=5)
    lo, hi = waves.wave_bounds[0], waves.wave_bounds[1]
    release = waves.request_offset_s[lo:hi]

    def first_wave(plan):
        book = RequestBook(plan)
        book.take_in_order((waves.hub_row[lo:hi] >= 0).astype(int) + (waves.meter_row[lo:hi] >= 0), 0)
        return emulate_wave(plan, FAST, waves, lo, hi, release, seed=5, book=book)
    at_once = first_wave(at_once_plan)
    act0, read0 = _first_attempt(at_once, State.ACTIVATED), _first_attempt(at_once, State.VERIFIED)
    instant = float(np.median(list(act0.values())))     # some devices are done before it, some after
    at_instant = first_wave(plan_for(activate_at_s=instant))
    act, read = _first_attempt(at_instant, State.ACTIVATED), _first_attempt(at_instant, State.VERIFIED)
    assert act.keys() == act0.keys() and read.keys() == read0.keys()
    waited = [slot for slot in act if act0[slot] < instant]
    assert len({release[slot // 2] for slot in waited}) >= 5        # released at different times ...
    for slot in waited:
        assert act[slot] == pytest.approx(instant, abs=1e-6)         # ... activated at the same one
    late = [slot for slot in act if act0[slot] >= instant]
    assert late and all(act[slot] == act0[slot] for slot in late)    # done after it: at once
    for slot in read:                                                # read back as long after activation
        assert read[slot] - act[slot] == pytest.approx(read0[slot] - act0[slot], abs=1e-6)


def test_the_instant_follows_the_engines_own_activation_rule():
    """Applied after an at-once run, the instant gives what the engine gives when it takes the instant itself
    (which it can only do for units requested at one time)."""
    from althan_ota.campaign.emulation import _activate_at
    from althan_ota.emulate import emulate

    params = dataclasses.replace(FAST, activation_failure_prob=0.2, deadline_s=86400.0)
    at_once = emulate(200, 24_000, params, seed=3)
    instant = float(np.nanmedian(at_once.t_activation))
    engine = emulate(200, 24_000, dataclasses.replace(params, activation_time_s=instant), seed=3)
    col = {name: getattr(at_once, name).copy() for name in ("outcome", "t_end", "t_activation", "t_readback")}
    _activate_at(col, np.full(len(col["outcome"]), instant))
    assert np.array_equal(col["outcome"], engine.outcome)
    assert {"completed", "activation_failed"} <= {OUTCOMES[o] for o in engine.outcome}
    assert (at_once.t_activation < instant).any() and (at_once.t_activation > instant).any()
    for name in ("t_end", "t_activation", "t_readback"):
        np.testing.assert_allclose(col[name], getattr(engine, name), rtol=0, atol=1e-6, err_msg=name)


def test_waves_after_the_instant_activate_at_once(fleet, tmp_path):
    instant = 2 * 86400.0
    plan = plan_for(activate_at_s=instant)
    with CampaignStore(tmp_path / "a.duckdb") as store:
        create_campaign(store, plan, fleet, "mem", seed=5, emulation=FAST, campaign_id="a")
        run_campaign(store, "a", fleet=fleet)
        ev = store.table("events", "a").to_pydict()
    downloaded, activated = {}, {}
    for d, t, s, w, a in zip(ev["device_id"], ev["t"], ev["state"], ev["wave"], ev["attempt"]):
        if s == State.DOWNLOADED:
            downloaded[d, a] = t
        elif s == State.ACTIVATED:
            activated[d, a] = (t, w)
    first_wave = [t for t, w in activated.values() if w == 0]
    assert first_wave and all(t == pytest.approx(instant, abs=1e-6) for t in first_wave)
    later = {k: t for k, (t, w) in activated.items() if w > 0}
    assert later and all(t > instant and t - downloaded[k] < 600.0 for k, t in later.items())


def test_a_plan_with_an_unknown_field_is_refused():
    data = json.loads(plan_for().to_json()) | {"activation_delay_s": 60.0}
    with pytest.raises(ParameterError, match="unknown field.*activation_delay_s"):
        CampaignPlan.from_json(json.dumps(data))
    with pytest.raises(ParameterError, match="activate_at_s"):
        plan_for(activate_at_s=-1.0)


def test_campaign_and_inventory_take_an_installations_links_by_one_rule(fleet):
    """A real extract's hub-side and meter-side rows can state different bridge-link PERs: the worse one
    counts, whichever row it is on (a row without a figure defers to the other), and the HAN PER is the
    hub-side row's, in the campaign as in the inventory arrays the emulator and sweeps take."""
    import pyarrow as pa

    from althan_ota.distributed.inventory_links import link_arrays
    from althan_ota.fleet import Fleet

    _, hub, meter = fleet.pairs()
    rng = np.random.default_rng(8)
    bridge = fleet.column("bridge_per").astype(np.float64)
    han = fleet.column("han_per").astype(np.float64)
    bridge[meter] = bridge[hub] + rng.choice([-0.05, 0.05], size=len(hub))      # either row the worse
    bridge[meter[:10]] = np.nan                                                  # meter row silent
    han[meter] = 0.9                                                             # never the HAN figure
    table = fleet.table.set_column(fleet.table.schema.get_field_index("bridge_per"), "bridge_per",
                                   pa.array(bridge, pa.float32()))
    table = table.set_column(table.schema.get_field_index("han_per"), "han_per", pa.array(han, pa.float32()))
    extract = Fleet(table=table, source="extract")
    stated = extract.column("bridge_per").astype(np.float64)

    arrays, filled = link_arrays(extract)
    assert filled == {"han_per": 0, "bridge_per": 0}
    assert np.array_equal(arrays["bridge_per"], np.fmax(stated[hub], stated[meter]))
    assert (arrays["bridge_per"][:10] == stated[hub[:10]]).all()
    assert (stated[hub] > stated[meter]).any() and (stated[meter] > stated[hub]).any()
    assert np.array_equal(arrays["han_per"], extract.column("han_per").astype(np.float64)[hub])

    # leave some installations with only their meter side targeted: their links still come from both rows
    plan = plan_for(excluded_devices=tuple(extract.column("device_id")[hub[::3]]))
    waves = make_waves(plan, extract, target(plan, extract), seed=5)
    row_of = {int(h): i for i, h in enumerate(hub)} | {int(m): i for i, m in enumerate(meter)}
    installation = np.array([row_of[int(h if h >= 0 else m)] for h, m in zip(waves.hub_row, waves.meter_row)])
    assert ((waves.hub_row < 0) & (waves.meter_row >= 0)).any()
    assert np.array_equal(waves.bridge_per, arrays["bridge_per"][installation])
    assert np.array_equal(waves.han_per, arrays["han_per"][installation])


def _retry_heavy_run(fleet, path, interrupt_after: int | None = None):
    """A campaign where many devices fail and retry, under a small cap and a narrow window."""
    flaky = dataclasses.replace(FAST, wan_failure_prob=0.4)
    plan = plan_for(requests_per_day=60, window_start_h=8.0, window_end_h=10.0, pause_failure_rate=1.0,
                    abort_failure_rate=1.0,
                    retry=dataclasses.replace(plan_for().retry, max_attempts={"unreachable": 3}, backoff_s=600.0))
    with CampaignStore(path) as store:
        create_campaign(store, plan, fleet, "mem", seed=7, emulation=flaky, campaign_id="h")
        if interrupt_after is not None:
            def interrupt(done, total):
                if done == interrupt_after:
                    raise KeyboardInterrupt
            with pytest.raises(KeyboardInterrupt):
                run_campaign(store, "h", fleet=fleet, progress=interrupt)
            assert len(store.committed_waves("h")) == interrupt_after
        assert run_campaign(store, "h", fleet=fleet).status == "finished"
        return plan, _final(store, "h")


def test_retries_draw_from_the_same_daily_cap_and_window(fleet, tmp_path):
    plan, (_, events) = _retry_heavy_run(fleet, tmp_path / "h.duckdb")
    ev = events.to_pydict()
    requested = [(d, t, a) for d, t, s, a in zip(ev["device_id"], ev["t"], ev["state"], ev["attempt"])
                 if s == State.REQUESTED]
    t = np.array([t for _, t, _ in requested])
    attempt = np.array([a for _, _, a in requested])
    assert (attempt >= 2).sum() > 50                                      # retries are a real share
    hour = (t % 86400) / 3600
    assert ((hour >= 8.0) & (hour < 10.0)).all()                          # first requests and retries alike
    per_day = np.bincount((t // 86400).astype(int))
    assert per_day.max() <= plan.requests_per_day
    assert (per_day == plan.requests_per_day).sum() >= 2                  # the cap binds, it is not just slack
    # a retry goes no earlier than its back-off after the failure that caused it
    failed_states = {int(s) for s in (State.TRANSFER_FAILED, State.ACTIVATION_FAILED, State.UNREACHABLE,
                                      State.HASH_MISMATCH)}
    failed_at = {(d, a): t for d, t, s, a in zip(ev["device_id"], ev["t"], ev["state"], ev["attempt"])
                 if s in failed_states}
    for device, t_request, n in requested:
        if n >= 2:
            due = failed_at[(device, n - 1)] + plan.retry.backoff_s * 2 ** (n - 2)
            assert t_request >= due - 1e-6


def test_retry_pacing_resumes_exactly(fleet, tmp_path):
    _, whole = _retry_heavy_run(fleet, tmp_path / "whole.duckdb")
    _, resumed = _retry_heavy_run(fleet, tmp_path / "resumed.duckdb", interrupt_after=2)
    assert whole[0].equals(resumed[0])
    assert whole[1].equals(resumed[1])
