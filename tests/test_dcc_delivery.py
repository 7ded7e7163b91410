"""Delivery to the user's endpoint: redelivery after a non-2xx answer (accepted exactly once), and a kill -9 of
the stand-in with deliveries pending, then a restart on the same state file, delivers them. Real processes
and servers on 127.0.0.1."""

from __future__ import annotations

import math
import sqlite3
import time
from datetime import datetime

import pytest

from althan_ota.duis import requests as rq
from althan_ota.fleet import read_fleet
from althan_ota.fleet.schema import JOINED_AS_CAD
from dcc_harness import StandIn, UserEndpoint, free_port, post, write_fleet
from duis_data import DSP, USER, image, user_signer


@pytest.fixture(scope="module")
def fleet_path(tmp_path_factory):
    return write_fleet(tmp_path_factory.mktemp("fleet") / "fleet.parquet", 30)


def update_body(fleet_path, counter=1):
    fleet = read_fleet(fleet_path)
    ok = (fleet.column("smi_status") == "Commissioned") & (fleet.column("join_mode") != JOINED_AS_CAD)
    devices = [d for d, good in zip(fleet.column("device_id"), ok) if good]
    return user_signer().sign(rq.update_ppmid_firmware(image(), devices, user_id=USER, dsp_id=DSP,
                                                       counter=counter))


def wait_pending(stand_in, pending: int, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if stand_in.status()["pending"] == pending:
            return
        time.sleep(0.1)
    raise AssertionError(f"still {stand_in.status()} after {timeout}s")


def test_refused_delivery_is_sent_again_and_stored_once(fleet_path, tmp_path):
    user = UserEndpoint(fail_first=5)
    stand_in = StandIn(fleet_path, tmp_path / "state.sqlite", user.url)
    try:
        assert post(stand_in.url, update_body(fleet_path), emulated_time=0)[0] == 200
        wait_pending(stand_in, 0)
        status = stand_in.status()
        assert status["delivered"] == len(user.received) > 5
        assert status["delivery_failures"] == 5
        assert user.deliveries == len(user.received) + 5
        assert user.duplicates == 0 and user.refused == 0
    finally:
        stand_in.stop()
        user.close()


def test_kill_9_with_deliveries_pending_then_restart_delivers_them(fleet_path, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"            # nobody listens there yet: every delivery fails
    state = tmp_path / "state.sqlite"
    stand_in = StandIn(fleet_path, state, url)
    try:
        assert post(stand_in.url, update_body(fleet_path), emulated_time=0)[0] == 200
        time.sleep(0.5)
        scheduled = stand_in.status()["pending"]
        assert scheduled > 0 and stand_in.status()["delivered"] == 0
    finally:
        stand_in.kill9()
    user = UserEndpoint(port=port)
    stand_in = StandIn(fleet_path, state, url)
    try:
        wait_pending(stand_in, 0)
        assert len(user.received) == scheduled
        assert user.duplicates == 0 and user.refused == 0
        # the restarted stand-in still knows the user's counter
        assert b"E41" in post(stand_in.url, update_body(fleet_path), emulated_time=0)[1]
    finally:
        stand_in.stop()
        user.close()


def test_wall_clock_mode_delivers_each_alert_when_its_time_comes(fleet_path, tmp_path):
    scale = 1000.0                   # the alerts fall some 0.3 to 2 wall seconds after the request
    user = UserEndpoint()
    started = time.time()            # the stand-in's clock starts after this
    stand_in = StandIn(fleet_path, tmp_path / "state.sqlite", user.url, "--time-scale", str(scale))
    try:
        assert post(stand_in.url, update_body(fleet_path))[0] == 200
        wait_pending(stand_in, 0)
        assert len(user.arrivals) == len(user.received) > 5
        for key, (wall, header) in user.arrivals.items():
            assert math.isnan(header)       # no emulated-time header on the wall clock, as from a DCC ...
            # ... but a ResponseDateTime at the real time the stand-in's clock reached the alert's time
            stamped = datetime.fromisoformat(user.received[key].response_datetime.replace("Z", "+00:00"))
            assert started - 0.01 <= stamped.timestamp() <= wall + 0.05
        walls = [w for w, _ in user.arrivals.values()]
        assert max(walls) - min(walls) > 0.3             # spread out in time, not sent at once
    finally:
        stand_in.stop()
        user.close()


def test_kill_9_while_signing_then_restart_signs_the_rest_once(tmp_path):
    # enough devices that signing their alerts takes far longer than the moment between the acknowledgement
    # and the kill (one signing process: --sign-workers 0)
    fleet_path = write_fleet(tmp_path / "big.parquet", 600)
    state = tmp_path / "state.sqlite"
    stand_in = StandIn(fleet_path, state, None, "--sign-workers", "0")
    try:
        assert post(stand_in.url, update_body(fleet_path), emulated_time=0)[0] == 200
    finally:
        stand_in.kill9()
    with sqlite3.connect(state) as db:
        (n, done), = db.execute("SELECT n, done FROM jobs").fetchall()
        (first,), = db.execute("SELECT value FROM meta WHERE key = 'response_counter'").fetchall()
    assert 0 <= done < n, "signing finished before the kill: the test did not kill it mid-way"
    user = UserEndpoint()
    stand_in = StandIn(fleet_path, state, user.url)
    try:
        wait_pending(stand_in, 0, timeout=180)
        assert stand_in.status()["delivered"] == len(user.received) == n
        assert user.duplicates == 0 and user.refused == 0
        # the ResponseIDs reserved when the request was accepted, each once
        counters = sorted(int(key.rsplit(":", 1)[1]) for key in user.received)
        assert counters == list(range(int(first) - n, int(first)))
    finally:
        stand_in.stop()
        user.close()
