"""The OTA command set in the timing engine (csrc/emu.h, "The command set"): every download is an Image
Notify, a Query Next Image exchange, the block exchanges and Upgrade End; WAIT_FOR_DATA while the CH is not
ready. Checked against closed forms from the frame model by hand, in both engines (lone and per-building), and
against the SimPy twin (althan_ota.testing.simpy_emulator), which implements the same rules independently."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from althan_ota.emulate import BridgeLink, EmulationParams, HanLink, OtaParams, OutageParams, emulate
from althan_ota.emulate import airtime
from althan_ota.emulate.trace import KINDS, RESULTS
from althan_ota.errors import ParameterError

from test_emulate import exchange_ns, ks_pvalue, preamble_ns

NOTIFY, QUERY, WAIT = (KINDS.index(k) for k in ("image_notify", "query_next_image", "wait_for_data"))
DELIVERED, LOST = RESULTS.index("delivered"), RESULTS.index("lost")
IMAGE = 2_000            # 40 blocks of 50 bytes


def clean(**kw) -> EmulationParams:
    """No outages, no WAN or activation trouble, the image at every CH at exactly 600 s."""
    base = dict(outages=OutageParams.none(), wan_failure_prob=0.0, wan_delay_sigma=0.0,
                activation_failure_prob=0.0)
    base.update(kw)
    return EmulationParams(**base)


def loss_free(**ota) -> EmulationParams:
    return clean(han=HanLink(per=0.0), bridge=BridgeLink(per=0.0, duty_cycle=1.0),
                 ota=OtaParams(pair_order="concurrent", ch_concurrency=2, **ota))


def both_engines(n: int, params: EmulationParams, **kw):
    """The lone engine's result and the per-building engine's (each installation a building of its own)."""
    lone = emulate(n, IMAGE, params, **kw)
    building = emulate(n, IMAGE, dataclasses.replace(params, contention=True), buildings=[f"b{i}" for i in range(n)],
                       **kw)
    return lone, building


def han_ns(p: EmulationParams, payload: int) -> int:
    return airtime.han_frame_ns(p.han, payload)


def test_one_notify_and_one_query_per_download_and_their_airtime_in_closed_form():
    p = loss_free()
    for r in both_engines(4, p, seed=3, trace=True):
        assert np.all(r.outcome == 0)
        for row in range(8):
            rec = r.trace.device(row)
            assert rec["kind"][:2].tolist() == [NOTIFY, QUERY] and np.all(rec["result"][:2] == DELIVERED)
            assert np.count_nonzero(rec["kind"] == NOTIFY) == 1 and np.count_nonzero(rec["kind"] == QUERY) == 1
            assert len(rec) == 2 + 40 + 1 and r.exchanges[row] == 41      # notify and query are not counted
        # every HAN frame of a hub-side download and its acknowledgement, by hand
        ack = airtime.han_ack_ns(p.han)
        want = han_ns(p, airtime.IMAGE_NOTIFY_PAYLOAD) + ack
        want += han_ns(p, airtime.QUERY_NEXT_IMAGE_REQUEST_PAYLOAD) + \
            han_ns(p, airtime.QUERY_NEXT_IMAGE_RESPONSE_PAYLOAD)
        want += 40 * (han_ns(p, airtime.BLOCK_REQUEST_PAYLOAD) + han_ns(p, airtime.BLOCK_RESPONSE_PAYLOAD + 50))
        want += han_ns(p, airtime.UPGRADE_END_REQUEST_PAYLOAD) + han_ns(p, airtime.UPGRADE_END_RESPONSE_PAYLOAD)
        want += (2 + 2 * 41) * ack
        assert np.all(np.round(r.airtime_han[0::2] * 1e9) == want)
        assert np.all(r.frames_han[0::2] == 2 * (1 + 2 + 2 * 41))
        # the meter side's bridge link carries the same commands once more
        br = lambda payload: airtime.bridge_frame_ns(p.bridge, payload)      # noqa: E731
        back = br(airtime.IMAGE_NOTIFY_PAYLOAD) + br(airtime.QUERY_NEXT_IMAGE_REQUEST_PAYLOAD) + \
            br(airtime.QUERY_NEXT_IMAGE_RESPONSE_PAYLOAD) + \
            40 * (br(airtime.BLOCK_REQUEST_PAYLOAD) + br(airtime.BLOCK_RESPONSE_PAYLOAD + 50)) + \
            br(airtime.UPGRADE_END_REQUEST_PAYLOAD) + br(airtime.UPGRADE_END_RESPONSE_PAYLOAD) + \
            (1 + 2 + 2 * 41) * airtime.bridge_ack_ns(p.bridge)
        assert np.all(np.round(r.airtime_bridge[1::2] * 1e9) == back)
        # the download starts with the notify: its blocks begin after the notify and the query, to the ns
        first_block = np.array([r.trace.device(row)["t_request"][2] for row in range(8)])
        assert np.all(np.abs((first_block - r.t_download_start) * 1e9 - [preamble_ns(p, s) for s in (0, 1)] * 4)
                      <= 1)


@pytest.mark.parametrize("ready_s, wait_s", [(3.0, 1.0), (3.0, 0.05), (0.01, 2.0), (0.0, 1.0)])
def test_wait_for_data_delays_a_download_by_the_closed_form(ready_s, wait_s):
    """Loss-free: the j-th block request reaches the CH at notify + query + j x (answer + come-back) + its
    request hops; those before the CH is ready are answered WAIT_FOR_DATA, the rest as without it."""
    p = loss_free(ch_ready_delay_s=ready_s, wait_for_data_delay_s=wait_s)
    base = emulate(3, IMAGE, loss_free(), seed=2)
    ota = p.ota
    come_back = round(max(wait_s, ota.min_block_period_s) * 1e9)
    for r in both_engines(3, p, seed=2, trace=True):
        for side in (0, 1):
            rows = slice(side, None, 2)
            han_req = round(p.han.tx_delay_s * 1e9) + (6 + airtime.psdu_bytes(airtime.BLOCK_REQUEST_PAYLOAD)) * \
                32_000 + round(p.han.turnaround_s * 1e9) + airtime.han_ack_ns(p.han)
            to_ch = han_req + (exchange_ns(p, airtime.BLOCK_REQUEST_PAYLOAD, 1, 1) - exchange_ns(
                p, airtime.BLOCK_REQUEST_PAYLOAD, 1, 0) - (exchange_ns(p, None, 1, 1) - exchange_ns(p, None, 1, 0))
                if side else 0)
            cycle = exchange_ns(p, airtime.BLOCK_REQUEST_PAYLOAD, airtime.WAIT_FOR_DATA_RESPONSE_PAYLOAD, side) + \
                come_back
            ready = round(ready_s * 1e9)
            first = preamble_ns(p, side) + to_ch                   # the first request reaches the CH
            waits = 0 if ready <= first else -(-(ready - first) // cycle)
            assert np.all(np.round((r.t_download_end[rows] - base.t_download_end[rows]) * 1e9) == waits * cycle)
            for row in range(side, 6, 2):
                rec = r.trace.device(row)
                assert np.count_nonzero(rec["kind"] == WAIT) == waits
                assert np.all(rec["kind"][2:2 + waits] == WAIT) and np.all(rec["offset"][2:2 + waits] == 0)
            assert np.array_equal(r.exchanges, base.exchanges) and np.all(r.exchange_retries == 0)
            # each answer costs its frames: the block request and the 11-byte WAIT_FOR_DATA response
            extra = waits * (han_ns(p, airtime.BLOCK_REQUEST_PAYLOAD) +
                             han_ns(p, airtime.WAIT_FOR_DATA_RESPONSE_PAYLOAD) + 2 * airtime.han_ack_ns(p.han))
            assert np.all(np.round((r.airtime_han[rows] - base.airtime_han[rows]) * 1e9) == extra)


def test_simpy_twin_gives_the_same_times_when_nothing_is_random():
    pytest.importorskip("simpy")
    from althan_ota.testing.simpy_emulator import reference_emulate

    for ota in (dict(), dict(ch_ready_delay_s=2.5, wait_for_data_delay_s=0.7)):
        p = loss_free(**ota)
        ref = reference_emulate(2, IMAGE, p, seed=1)
        emu = emulate(2, IMAGE, p, seed=1)
        for name in ("t_download_start", "t_download_end", "t_readback", "airtime_han", "airtime_bridge"):
            assert np.allclose(ref[name], getattr(emu, name), rtol=0, atol=2e-9), name
        for name in ("exchanges", "exchange_retries", "frames_han", "frames_bridge"):
            assert np.array_equal(ref[name], getattr(emu, name)), name


def test_lost_notifies_and_queries_are_retried_and_can_abort():
    # every HAN frame lost: the CH notifies max_consecutive_failures times, then gives up
    p = clean(han=HanLink(per=0.999, max_retries=0), ota=OtaParams(max_consecutive_failures=3))
    r = emulate(2, IMAGE, p, seed=5, trace=True)
    assert np.all(r.outcome == 1)           # aborted (a notify getting through has odds of about 1 in 250)
    for row in range(4):
        rec = r.trace.device(row)
        assert np.all(rec["kind"] == NOTIFY) and np.all(rec["result"] == LOST)
        assert rec["attempt"].tolist() == [0, 1, 2]
        assert np.allclose(np.diff(rec["t_request"]), p.ota.response_timeout_s)
        assert r.exchanges[row] == 0 and r.exchange_retries[row] == 0
        assert r.frames_han[row] == 3 and np.isnan(r.t_download_end[row])


def test_agrees_with_simpy_with_wait_for_data_and_losses():
    pytest.importorskip("simpy")
    from althan_ota.testing.simpy_emulator import reference_emulate

    p = EmulationParams(han=HanLink(per=0.1), bridge=BridgeLink(per=0.2),
                        ota=OtaParams(pair_order="concurrent", ch_concurrency=2, ch_ready_delay_s=20.0,
                                      wait_for_data_delay_s=3.0, response_timeout_s=2.0),
                        outages=OutageParams.none(), wan_failure_prob=0.0, wan_delay_median_s=30.0)
    n = 200
    ref = reference_emulate(n, 3_000, p, seed=1)
    emu = emulate(n, 3_000, p, seed=2)
    for side in (0, 1):
        for name in ("duration", "exchange_retries", "link_retries_han", "airtime_han", "frames_han"):
            if name == "duration":
                a = (ref["t_download_end"] - ref["t_download_start"])[side::2]
                b = (emu.t_download_end - emu.t_download_start)[side::2]
            else:
                a, b = ref[name][side::2].astype(float), getattr(emu, name)[side::2].astype(float)
            assert ks_pvalue(a, b) > 1e-3, (side, name, a.mean(), b.mean())


def test_wait_for_data_parameters_are_checked():
    with pytest.raises(ParameterError, match="ch_ready_delay_s"):
        emulate(1, IMAGE, clean(ota=OtaParams(ch_ready_delay_s=-1.0)))
    with pytest.raises(ParameterError, match="wait_for_data_delay_s"):
        emulate(1, IMAGE, clean(ota=OtaParams(wait_for_data_delay_s=math.nan)))


def test_shortcuts_and_the_building_engine_are_exact_with_wait_for_data():
    """With WAIT_FOR_DATA, losses, bursts and outages: the lone engine's shortcuts give what stepping every
    exchange gives, and buildings of one give the lone engine's results, bit for bit."""
    from althan_ota._native import _emu
    from althan_ota.emulate import GilbertElliott
    from althan_ota.emulate.engine import engine_config

    p = EmulationParams(bridge=BridgeLink(per_concentration=10.0, burst=GilbertElliott()),
                        ota=OtaParams(ch_ready_delay_s=30.0, wait_for_data_delay_s=4.0),
                        outages=OutageParams(ch_mean_up_s=3000, ch_mean_down_s=300, meter_mean_up_s=5000,
                                             meter_mean_down_s=100))
    runs = []
    for stepped in (0, 1):
        cfg = engine_config(20_000, p, seed=5) | {"step_every_exchange": stepped}
        out = {k: np.empty(2 * 100, dtype=dt) for k, dt in _emu.DEVICE_COLUMNS.items()}
        out |= {k: np.empty(100, dtype=dt) for k, dt in _emu.INSTALLATION_COLUMNS.items()}
        _emu.Run(cfg, 0, 100, None, None, out).execute(2)
        runs.append(out)
    for k in runs[0]:
        assert np.array_equal(runs[0][k], runs[1][k], equal_nan=runs[0][k].dtype.kind == "f"), k
    lone = emulate(100, 20_000, p, seed=5)
    assert np.array_equal(lone.t_download_end, runs[0]["t_download_end"], equal_nan=True)
    building = emulate(100, 20_000, dataclasses.replace(p, contention=True), seed=5,
                       buildings=[f"b{i}" for i in range(100)])
    assert building.to_arrow().equals(lone.to_arrow())
    # the CH was not ready for some downloads: they took longer than the same run without WAIT_FOR_DATA
    plain = emulate(100, 20_000, dataclasses.replace(p, ota=OtaParams()), seed=5)
    assert np.nanmax(lone.t_download_end - plain.t_download_end) > 30.0 - 5.0
