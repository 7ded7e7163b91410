"""The stand-in's alerts for an SRV 11.4 come from the C engine exactly as the campaign's emulator executor
runs it: same fleet, plan, seed -> each device's first and second attempt end the same way, at the same
emulated times. A real `althan-ota dcc serve` process and a real user endpoint on 127.0.0.1."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from althan_ota.campaign.emulation import emulate_wave
from althan_ota.campaign.outcomes import outcome
from althan_ota.campaign.plan import CampaignPlan, make_waves, target
from althan_ota.campaign.slots import RequestBook
from althan_ota.campaign.states import State
from althan_ota.dcc.messages import EPOCH
from althan_ota.duis import requests as rq
from althan_ota.emulate import EmulationParams
from althan_ota.fleet import read_fleet
from dcc_harness import StandIn, UserEndpoint, post, write_fleet
from duis_data import DSP, USER, VERSION, image, user_signer

SEED = 11


def expected_key(state: int, reason: int) -> str:
    """The last DUIS outcome the user hears for an attempt that ended in the emulator's (state, reason)."""
    if state == State.VERIFIED:
        return "ppmid_activation_success"
    if state == State.UNREACHABLE:
        return "timeout"             # the DCC says nothing more; the user's own timeout decides
    for key in ("csp_delivery_failed", "ch_image_discarded", "ppmid_activation_failure"):
        row = outcome(key)
        if (row.state, row.reason) == (state, reason):
            return key
    assert state == State.TRANSFER_FAILED, (state, reason)
    return "ch_transfer_failure"     # a HAN or bridge link abort


def heard(keys: list[str]) -> str:
    final = {"ppmid_activation_success", "ppmid_activation_failure", "ch_transfer_failure", "ch_image_discarded",
             "csp_delivery_failed"}
    return keys[-1] if keys and keys[-1] in final else "timeout"


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("outcomes")
    path = write_fleet(tmp / "fleet.parquet", 120, seed=3, mean_han_per=0.25, mean_bridge_per=0.45)
    fleet = read_fleet(path)
    running = {int(v) for v in fleet.column("firmware_version")} - {VERSION}
    plan = CampaignPlan(name="dcc-test", target_version=VERSION, image_size=len(image()),
                        upgrade_paths=tuple((v, VERSION) for v in sorted(running)),
                        canary_installations=10_000, device_timeout_s=2 * 86400.0)
    (tmp / "plan.json").write_text(plan.to_json())
    waves = make_waves(plan, fleet, target(plan, fleet), SEED)
    n = len(waves.hub_row)
    wave = emulate_wave(plan, EmulationParams(), waves, 0, n, np.zeros(n), SEED, RequestBook(plan))
    return tmp, path, fleet, wave


def attempt_events(fleet, wave, attempt: int) -> dict[str, list[tuple[float, int, int]]]:
    ids = fleet.column("device_id")
    out: dict[str, list] = {}
    for slots, times, state, reasons, a in wave.events:
        if a != attempt:
            continue
        reasons = np.broadcast_to(reasons, len(slots))
        for slot, t, why in zip(slots, times, reasons):
            out.setdefault(ids[wave.rows.ravel()[slot]], []).append((float(t), int(state), int(why)))
    return out


def final(events) -> tuple[float, int, int]:
    stages = {outcome(k).state for k in ("requested", "image_at_ch", "downloading", "downloaded", "activated")}
    ends = [e for e in events if e[1] not in stages]
    return max(ends) if ends else (np.nan, int(State.UNREACHABLE), 0)


def seconds(message) -> float:
    when = dt.datetime.fromisoformat(message.response_datetime.replace("Z", "+00:00"))
    return (when - EPOCH).total_seconds()


def test_alerts_are_the_emulator_executors_attempts(setting):
    tmp, path, fleet, wave = setting
    user = UserEndpoint()
    stand_in = StandIn(path, tmp / "state.sqlite", user.url, "--plan", str(tmp / "plan.json"), "--seed", str(SEED))
    try:
        first = attempt_events(fleet, wave, 1)
        devices = sorted(first)
        body = user_signer().sign(rq.update_ppmid_firmware(image(), devices, user_id=USER, dsp_id=DSP, counter=1))
        assert post(stand_in.url, body, emulated_time=0)[0] == 200
        expected = {d: expected_key(*final(first[d])[1:]) for d in devices}
        assert len(set(expected.values())) >= 2, expected          # successes and failures both
        _wait_quiet(stand_in, user)
        got = user.outcomes()
        assert {d: heard(got.get(d, [])) for d in devices} == expected
        # the times: each failure when the engine ended the attempt, each activation when it activated
        last = {}
        for message in user.received.values():
            for device, key in message.outcomes():
                last[device] = max(last.get(device, (-1.0, "")), (seconds(message), key))
        for d in devices:
            events = first[d]
            if expected[d] == "ppmid_activation_success":
                t = next(t for t, s, _ in events if s == State.ACTIVATED)
            elif expected[d] == "timeout":
                continue
            else:
                t = final(events)[0]
            assert last[d][0] == pytest.approx(t, abs=1e-3), d

        # the second 11.4 naming the retried devices is their second attempt
        second = attempt_events(fleet, wave, 2)
        retried = sorted(second)
        assert retried
        before = len(user.received)
        body = user_signer().sign(rq.update_ppmid_firmware(image(), retried, user_id=USER, dsp_id=DSP, counter=2))
        assert post(stand_in.url, body, emulated_time=10 * 86400)[0] == 200
        _wait_quiet(stand_in, user)
        assert len(user.received) > before
        later = {}
        for message in user.received.values():
            if seconds(message) >= 10 * 86400:
                for device, key in message.outcomes():
                    later.setdefault(device, []).append((seconds(message), key))
        got2 = {d: heard([k for _, k in sorted(later.get(d, []))]) for d in retried}
        assert got2 == {d: expected_key(*final(second[d])[1:]) for d in retried}
        assert user.duplicates == 0 and user.refused == 0
    finally:
        stand_in.stop()
        user.close()


def _wait_quiet(stand_in, user, timeout=120):
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if stand_in.status()["pending"] == 0:
            return
        time.sleep(0.1)
    raise AssertionError("deliveries still pending")
