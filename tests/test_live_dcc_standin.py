"""The live executor against the DCC stand-in (``althan-ota dcc serve``, deterministic mode, a real process on
127.0.0.1): the same fleet, plan and seed end with exactly the emulator executor's device states and reasons,
also when the stand-in is killed and restarted in the middle of the campaign."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

pytest.importorskip("althan_ota.dcc.server", reason="the DCC stand-in (branch dcc) is not in this tree")

from althan_ota.campaign import CampaignStore, create_campaign, run_campaign  # noqa: E402
from althan_ota.live import DccExecutor  # noqa: E402

from duis_data import CERTS, DSP, DSP_CERT, DSP_KEY  # noqa: E402
from live_peer import Setup, final_states, free_port, plan  # noqa: E402


class StandIn:
    def __init__(self, setup: Setup, state, port: int | None = None):
        self.port = port or free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "althan_ota", "dcc", "serve", "--fleet", str(setup.fleet_path), "--certs",
             str(CERTS), "--state", str(state), "--key", str(DSP_KEY), "--cert", str(DSP_CERT), "--dsp-id", DSP,
             "--plan", str(setup.plan_path), "--seed", str(setup.seed), "--port", str(self.port),
             "--deliver-to", f"http://{setup.listen[0]}:{setup.listen[1]}"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if "listening" not in line:
            self.process.kill()
            raise RuntimeError(f"the stand-in did not start: {line!r} {self.process.stderr.read()}")

    def requests(self) -> int:
        import json

        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/status", timeout=10) as r:
            return json.loads(r.read())["requests"]

    def kill9(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)


@pytest.fixture
def setup(tmp_path):
    s = Setup(tmp_path, installations=60, emulation=None)      # the stand-in emulates with the defaults
    s.stand_ins = []
    yield s
    for stand_in in s.stand_ins:
        stand_in.stop()


def _run_live(setup, store_path) -> dict:
    with CampaignStore(store_path) as store:
        cid = create_campaign(store, plan(setup.fleet), setup.fleet, str(setup.fleet_path), seed=setup.seed,
                              campaign_id="live")
        report = run_campaign(store, cid, fleet=setup.fleet, executor=DccExecutor(setup.options()))
        assert report.status == "finished"
        return final_states(store, cid)


def test_a_campaign_over_the_stand_in_ends_as_on_the_emulator(setup, tmp_path):
    expected = setup.emulator_states()
    stand_in = StandIn(setup, tmp_path / "dcc.sqlite")
    setup.stand_ins.append(stand_in)
    setup.peer_port = stand_in.port
    assert _run_live(setup, tmp_path / "live.duckdb") == expected


def test_the_stand_in_restarted_mid_campaign_changes_nothing(setup, tmp_path):
    expected = setup.emulator_states()
    state = tmp_path / "dcc.sqlite"
    stand_in = StandIn(setup, state)
    setup.stand_ins.append(stand_in)
    setup.peer_port = stand_in.port
    restarted = threading.Event()

    def restart_once_busy():
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if stand_in.requests() >= 20:
                    break
            except OSError:
                pass
            time.sleep(0.05)
        stand_in.kill9()
        time.sleep(0.5)
        setup.stand_ins.append(StandIn(setup, state, port=stand_in.port))
        restarted.at = time.time()
        restarted.set()

    thread = threading.Thread(target=restart_once_busy, daemon=True)
    thread.start()
    live = _run_live(setup, tmp_path / "live.duckdb")
    finished_at = time.time()
    thread.join(30)
    assert restarted.is_set() and restarted.at < finished_at, "the campaign ended before the stand-in restarted"
    assert live == expected
