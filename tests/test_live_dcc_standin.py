"""The live executor against the DCC stand-in (``althan-ota dcc serve``, deterministic mode, a real process on
127.0.0.1): the same fleet, plan and seed end with exactly the emulator executor's device states and reasons,
also when the stand-in is killed and restarted in the middle of the campaign."""

from __future__ import annotations

import threading
import time

import pytest

pytest.importorskip("althan_ota.dcc.server", reason="the DCC stand-in (branch dcc) is not in this tree")

from althan_ota.campaign import CampaignStore, create_campaign, run_campaign  # noqa: E402
from althan_ota.live import DccExecutor  # noqa: E402

from dcc_harness import StandIn  # noqa: E402
from live_peer import Setup, final_states, plan  # noqa: E402


def stand_in(setup: Setup, state, *extra: str, port: int | None = None) -> StandIn:
    """``dcc serve`` for the setup's fleet, plan and seed, delivering to the live executor's listener."""
    return StandIn(setup.fleet_path, state, f"http://{setup.listen[0]}:{setup.listen[1]}", "--plan",
                   str(setup.plan_path), "--seed", str(setup.seed), *extra, schema=False, port=port)


@pytest.fixture
def setup(tmp_path):
    s = Setup(tmp_path, installations=60, emulation=None)      # the stand-in emulates with the defaults
    s.stand_ins = []
    yield s
    for server in s.stand_ins:
        server.stop()


def _run_live(setup, store_path, quiet_s: float = 2.0) -> dict:
    with CampaignStore(store_path) as store:
        cid = create_campaign(store, plan(setup.fleet), setup.fleet, str(setup.fleet_path), seed=setup.seed,
                              campaign_id="live")
        report = run_campaign(store, cid, fleet=setup.fleet, executor=DccExecutor(setup.options(quiet_s)))
        assert report.status == "finished"
        return final_states(store, cid)


def test_a_campaign_over_the_stand_in_ends_as_on_the_emulator(setup, tmp_path):
    expected = setup.emulator_states()
    server = stand_in(setup, tmp_path / "dcc.sqlite")
    setup.stand_ins.append(server)
    setup.peer_port = server.port
    assert _run_live(setup, tmp_path / "live.duckdb") == expected


def test_the_stand_in_restarted_mid_campaign_changes_nothing(setup, tmp_path):
    expected = setup.emulator_states()
    state = tmp_path / "dcc.sqlite"
    first = stand_in(setup, state)
    setup.stand_ins.append(first)
    setup.peer_port = first.port
    restarted = threading.Event()

    def restart_once_busy():
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if first.requests() >= 20:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        first.kill9()
        time.sleep(0.5)
        setup.stand_ins.append(stand_in(setup, state, port=first.port))
        restarted.at = time.time()
        restarted.set()

    thread = threading.Thread(target=restart_once_busy, daemon=True)
    thread.start()
    # a stand-in restarting on a loaded machine can be silent for seconds: that must not time devices out
    live = _run_live(setup, tmp_path / "live.duckdb", quiet_s=15.0)
    finished_at = time.time()
    thread.join(30)
    assert restarted.is_set() and restarted.at < finished_at, "the campaign ended before the stand-in restarted"
    assert live == expected
