"""The live executor (althan_ota.live) against a real DCC peer process on 127.0.0.1: the same campaign run
over DUIS ends with the emulator executor's device states and reasons, and no device gets two SRV 11.4s for
one attempt."""

from __future__ import annotations

from collections import Counter

import pytest

from althan_ota.campaign import CampaignStore, create_campaign, run_campaign
from althan_ota.campaign.journal import Journal
from althan_ota.live import DccExecutor

from live_peer import EMULATION, Setup, final_states, plan


@pytest.fixture
def setup(tmp_path):
    s = Setup(tmp_path)
    yield s
    s.stop_peer()


def _run_live(setup, store_path, **options):
    with CampaignStore(store_path) as store:
        cid = create_campaign(store, plan(setup.fleet), setup.fleet, str(setup.fleet_path), seed=setup.seed,
                              emulation=EMULATION, campaign_id="live")
        report = run_campaign(store, cid, fleet=setup.fleet, executor=DccExecutor(setup.options(**options)))
        return report, final_states(store, cid), Journal(store, cid).requests().to_pylist()


@pytest.mark.parametrize("shuffle", [False, True], ids=["in-order", "reordered"])
def test_a_live_campaign_ends_as_the_emulator_does(setup, tmp_path, shuffle):
    expected = setup.emulator_states()
    setup.start_peer(*(["--shuffle"] if shuffle else []))
    report, live, requests = _run_live(setup, tmp_path / "live.duckdb")
    assert report.status == "finished"
    assert live == expected
    states = Counter(state for state, _, _ in live.values())
    assert len(states) >= 3, states          # the fleet gives successes and failures of several kinds
    # every device got exactly one 11.4 per attempt, and the counters only went up
    stats = setup.peer_stats()
    naming = {d: len(ids) for d, ids in stats["requests_naming"].items()}
    attempts = {d: a for d, (_, _, a) in live.items() if a > 0}
    assert naming == attempts
    counters = [r["counter"] for r in requests]
    assert counters == sorted(counters) and len(set(counters)) == len(counters)
    assert all(r["response_code"] == "I0" for r in requests)


@pytest.mark.parametrize("peer_mode", [[], ["--refuse-repeats"]], ids=["answers-duplicates", "refuses-repeats"])
def test_a_request_whose_answer_was_lost_is_resent_with_the_same_request_id(setup, tmp_path, peer_mode):
    import types

    setup.start_peer(*peer_mode)
    devices = sorted(setup.fleet.table["device_id"].to_pylist())[:2]
    with CampaignStore(tmp_path / "live.duckdb") as store:
        cid = create_campaign(store, plan(setup.fleet), setup.fleet, str(setup.fleet_path), campaign_id="live")
        with DccExecutor(setup.options()).session(store, cid) as ex:
            job = types.SimpleNamespace(plan=plan(setup.fleet), wave=0)
            ex.loop.run_until_complete(ex._update(job, 1, 3600.0, devices))
            # as if killed after sending, before the answer was journalled
            store.db.execute("UPDATE duis_requests SET response_code = NULL").fetchall()
            store.db.execute("DELETE FROM duis_messages").fetchall()
            ex.loop.run_until_complete(ex._update(job, 1, 3600.0, devices))
            (request,) = ex.journal.requests().to_pylist()
            acknowledged = store.db.execute("SELECT device_id, outcome FROM duis_messages WHERE message_id = ? "
                                            "ORDER BY 1", [request["request_id"]]).fetchall()
            ex.loop.run_until_complete(ex._update(job, 1, 3600.0, devices))       # answered: not sent again
    stats = setup.peer_stats()
    assert stats["duplicates"] == 1
    assert {d: ids for d, ids in stats["requests_naming"].items()} == {d: [request["request_id"]] for d in devices}
    assert acknowledged == [(d, "duis_acknowledged") for d in devices]
