"""kill -9 of a live campaign's runner (a real ``althan-ota campaign run --executor dcc`` process) in the middle
of the campaign, then ``campaign resume``: the same final device states as the emulator, no device sent two
SRV 11.4s for one attempt, originator counters strictly increasing across both runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from althan_ota.campaign import CampaignStore
from althan_ota.campaign.journal import Journal

from live_peer import Setup, final_states, live_cli_args


@pytest.fixture
def setup(tmp_path):
    s = Setup(tmp_path, installations=80, emulation=None)      # the CLI runs with the default emulation
    yield s
    s.stop_peer()


def _cli(*args):
    return [sys.executable, "-m", "althan_ota", *args]


def test_kill_9_mid_campaign_then_resume_ends_as_the_emulator(setup, tmp_path):
    expected = setup.emulator_states()
    setup.start_peer()
    store = tmp_path / "live.duckdb"
    run = subprocess.Popen(_cli("campaign", "run", "--fleet", str(setup.fleet_path), "--plan", str(setup.plan_path),
                                "--store", str(store), "--campaign-id", "live", "--seed", str(setup.seed), "--json",
                                *live_cli_args(setup)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and run.poll() is None:
            if len(setup.peer_stats()["requests_naming"]) >= 40:
                break
            time.sleep(0.05)
        assert run.poll() is None, f"the run ended before it could be killed: {run.stderr.read()}"
        os.kill(run.pid, signal.SIGKILL)
        run.wait(10)
    finally:
        if run.poll() is None:
            run.kill()
    named_before_resume = {d: len(ids) for d, ids in setup.peer_stats()["requests_naming"].items()}
    assert 0 < len(named_before_resume) < len(expected)

    resumed = subprocess.run(_cli("campaign", "resume", "live", "--store", str(store), "--json",
                                  *live_cli_args(setup)), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    with CampaignStore(store) as s:
        assert s.status("live") == "finished"
        live = final_states(s, "live")
        requests = Journal(s, "live").requests().to_pylist()
    assert live == expected
    stats = setup.peer_stats()
    naming = {d: len(ids) for d, ids in stats["requests_naming"].items()}
    assert naming == {d: a for d, (_, _, a) in live.items() if a > 0}     # one 11.4 per device per attempt
    counters = [r["counter"] for r in requests]
    assert len(set(counters)) == len(counters)
    assert all(r["response_code"] is not None for r in requests)


def test_the_dcc_executor_without_its_flags_is_a_clear_error(setup, tmp_path):
    done = subprocess.run(_cli("campaign", "run", "--fleet", str(setup.fleet_path), "--plan", str(setup.plan_path),
                               "--store", str(tmp_path / "s.duckdb"), "--executor", "dcc", "--listen",
                               "127.0.0.1:1"), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "--executor dcc needs --dcc-url, --key, --cert, --certs, --firmware" in done.stderr
    assert "Traceback" not in done.stderr
