"""The live executor in wall-clock mode against ``althan-ota dcc serve --time-scale S`` (a real process on
127.0.0.1 running its own clock): each SRV 11.4 is held until the run's clock reaches its request-book time,
no emulated-time header goes either way, messages are dated by their ResponseDateTime and devices time out by
the plan's timeout on the same clock. The campaign's outcome rates must agree with the emulator executor's
for the same fleet, plan, emulation and seed within sampling error: a chi-square test of homogeneity at
ALPHA over the final (state, reason) and over attempt counts. Equality is not required: on the wall clock a
request can go out late, and a loaded machine delays deliveries and read-backs."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from althan_ota.campaign import CampaignStore, create_campaign, run_campaign
from althan_ota.campaign.journal import Journal
from althan_ota.campaign.states import State
from althan_ota.errors import ParameterError
from althan_ota.live import DccExecutor

from dcc_harness import StandIn
from live_peer import EMULATION, Setup, final_states, plan

SCALE = 5760.0          # emulated seconds per wall second: one emulated day in 15 s
ALPHA = 0.001           # the tests' false-alarm rate per comparison
POOL_BELOW = 10         # categories with fewer devices (both runs together) are pooled into one


def wall_plan(fleet):
    """The live tests' plan, faster: a campaign of 200 installations takes under an emulated day."""
    base = plan(fleet)
    return dataclasses.replace(base, requests_per_day=3000, device_timeout_s=8 * 3600.0,
                               retry=dataclasses.replace(base.retry, backoff_s=3600.0))


@pytest.fixture
def setup(tmp_path):
    s = Setup(tmp_path, installations=200, emulation=EMULATION)
    s.plan_path.write_text(wall_plan(s.fleet).to_json())
    s.stand_ins = []
    yield s
    for server in s.stand_ins:
        server.stop()


def _emulator_states(setup) -> dict:
    with CampaignStore(":memory:") as store:
        cid = create_campaign(store, wall_plan(setup.fleet), setup.fleet, str(setup.fleet_path), seed=setup.seed,
                              emulation=EMULATION, campaign_id="e")
        run_campaign(store, cid, fleet=setup.fleet, n_threads=1)
        return final_states(store, cid)


def _homogeneous(a: list, b: list) -> float:
    """p-value of a chi-square test that samples ``a`` and ``b`` come from one distribution. Categories with
    fewer than POOL_BELOW members in both together are pooled (and the pool left out if it is still that
    small), so that no expected count is tiny; 1.0 when fewer than two categories remain."""
    counts: dict = {}
    for column, sample in enumerate((a, b)):
        for value in sample:
            counts.setdefault(value, [0, 0])[column] += 1
    table = [c for c in counts.values() if sum(c) >= POOL_BELOW]
    pool = [sum(c[k] for c in counts.values() if sum(c) < POOL_BELOW) for k in (0, 1)]
    if sum(pool) >= POOL_BELOW:
        table.append(pool)
    if len(table) < 2:
        return 1.0
    return float(chi2_contingency(np.array(table)).pvalue)


def test_homogeneity_test_can_fail():
    same = [("verified", 0)] * 300 + [("failed", 20)] * 30
    assert _homogeneous(same, same) == 1.0
    assert _homogeneous(same, [("verified", 0)] * 250 + [("failed", 20)] * 80) < ALPHA


def test_a_wall_clock_campaign_has_the_emulators_outcome_rates(setup, tmp_path):
    expected = _emulator_states(setup)
    server = StandIn(setup.fleet_path, tmp_path / "dcc.sqlite", f"http://{setup.listen[0]}:{setup.listen[1]}",
                     "--plan", str(setup.plan_path), "--seed", str(setup.seed), "--emulation",
                     str(setup.emulation_path), "--time-scale", repr(SCALE), schema=False)
    setup.stand_ins.append(server)
    setup.peer_port = server.port
    options = dataclasses.replace(setup.options(quiet_s=5.0), time_scale=SCALE)
    with CampaignStore(tmp_path / "live.duckdb") as store:
        cid = create_campaign(store, wall_plan(setup.fleet), setup.fleet, str(setup.fleet_path), seed=setup.seed,
                              emulation=EMULATION, campaign_id="live")
        started = time.time()
        report = run_campaign(store, cid, fleet=setup.fleet, executor=DccExecutor(options))
        took = time.time() - started
        live = final_states(store, cid)
        requests = [r for r in Journal(store, cid).requests().to_pylist() if r["srv"] == "11.4"]
    assert report.status == "finished"
    assert live.keys() == expected.keys()

    # held to the book: none went out before its time on the run's clock, and the run lasted at least until
    # the clock reached the last one (in wall seconds, measured here)
    assert requests and all(r["sent_t"] is not None and r["sent_t"] >= r["t"] for r in requests)
    assert took >= max(r["t"] for r in requests) / SCALE - 0.1

    final = {name: [(s, r) for s, r, _ in states.values()] for name, states in (("live", live), ("emu", expected))}
    attempts = {name: [n for _, _, n in states.values()] for name, states in (("live", live), ("emu", expected))}
    verified = sum(1 for s, _ in final["emu"] if s == int(State.VERIFIED))
    assert verified > 0.5 * len(expected) and len(set(final["emu"])) >= 3, "the reference shows too few outcomes"
    assert _homogeneous(final["live"], final["emu"]) > ALPHA, (sorted(final["live"]), sorted(final["emu"]))
    assert _homogeneous(attempts["live"], attempts["emu"]) > ALPHA


def test_a_campaign_keeps_its_clock_and_mode(setup, tmp_path):
    setup.peer_port = 9            # never reached: the clock is checked before anything is sent
    with CampaignStore(tmp_path / "live.duckdb") as store:
        cid = create_campaign(store, wall_plan(setup.fleet), setup.fleet, str(setup.fleet_path), seed=setup.seed,
                              emulation=EMULATION, campaign_id="live")
        Journal(store, cid).start_clock(time.time(), SCALE)
        for scale, match in ((None, "resume it with the same --time-scale"), (SCALE / 2, "not 2880")):
            options = dataclasses.replace(setup.options(), time_scale=scale)
            with pytest.raises(ParameterError, match=match):
                with DccExecutor(options).session(store, cid):
                    pass
        other = create_campaign(store, wall_plan(setup.fleet), setup.fleet, str(setup.fleet_path), seed=setup.seed,
                                campaign_id="deterministic")
        journal = Journal(store, other)
        journal.record_request("r", 1, "11.4", 0, 1, 0.0, "00-00-00-00-00-00-00-01")
        with pytest.raises(ParameterError, match="without --time-scale"):
            with DccExecutor(dataclasses.replace(setup.options(), time_scale=SCALE)).session(store, other):
                pass
    with pytest.raises(ParameterError, match="time_scale must be a positive"):
        dataclasses.replace(setup.options(), time_scale=0.0)
