"""Exchange traces (emulate(..., trace=True)): a traced run's results are bit for bit the untraced run's on
random seeds and parameters (outages, bursts, lossy links, deadlines), and the records obey the timing rules of
csrc/emu.h and add up to each device's result row."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from althan_ota.emulate import BridgeLink, EmulationParams, GilbertElliott, HanLink, OtaParams, OutageParams, emulate
from althan_ota.emulate.trace import KINDS, MAX_TRACED_INSTALLATIONS, RESULTS
from althan_ota.errors import ParameterError

LOST, DELIVERED, CUT = (RESULTS.index(r) for r in ("lost", "delivered", "cut"))
BLOCK, LAST_BLOCK, UPGRADE_END, NOTIFY, QUERY, WAIT = (
    KINDS.index(k) for k in ("block", "last_block", "upgrade_end", "image_notify", "query_next_image", "wait_for_data"))


def same_results(a, b) -> None:
    assert a.to_arrow().equals(b.to_arrow())
    for name in ("han_per", "bridge_per"):
        assert np.array_equal(getattr(a, name), getattr(b, name))


def check_device(result, row: int) -> int:
    """The rules each traced device's exchanges obey; returns how many it made."""
    p = result.params
    ota = p.ota
    rec = result.trace.device(row)
    assert len(rec) == result.trace.count(row)
    if len(rec) == 0:
        assert result.exchanges[row] == 0
        return 0
    # the command set: Image Notify until one arrives, Query Next Image until answered, then the data exchanges
    notified = np.flatnonzero((rec["kind"] == NOTIFY) & (rec["result"] == DELIVERED))
    queried = np.flatnonzero((rec["kind"] == QUERY) & (rec["result"] == DELIVERED))
    n_notify = notified[0] + 1 if notified.size else len(rec)
    n_preamble = queried[0] + 1 if queried.size else len(rec)
    assert np.all(rec["kind"][:n_notify] == NOTIFY) and np.all(rec["kind"][n_notify:n_preamble] == QUERY)
    assert np.all(rec["offset"][:n_preamble] == 0)
    tail = rec[n_preamble:]
    waited = tail["kind"] == WAIT
    data = tail[~waited]
    assert len(data) == result.exchanges[row]
    full, blocks = result.image_size // ota.block_size, -(-result.image_size // ota.block_size)
    delivered = np.cumsum(data["result"] == DELIVERED) - (data["result"] == DELIVERED)   # before each exchange
    want_offset = np.where(delivered < blocks, delivered * ota.block_size, result.image_size)
    assert np.array_equal(data["offset"], want_offset)
    want_kind = np.where(delivered < full, BLOCK, np.where(delivered < blocks, LAST_BLOCK, UPGRADE_END))
    assert np.array_equal(data["kind"], want_kind)
    assert np.count_nonzero(data["result"] != DELIVERED) == result.exchange_retries[row]
    if ota.ch_ready_delay_s == 0:
        assert not waited.any()
    # a WAIT_FOR_DATA answer is for the block the client asks for next
    after_wait = np.flatnonzero(waited[:-1])
    assert np.array_equal(tail["offset"][after_wait], tail["offset"][after_wait + 1])
    assert np.all(rec["t_request"] <= rec["t_attempts_end"]) and np.all(rec["t_attempts_end"] <= rec["t_response"])
    done = rec["result"] == DELIVERED
    assert np.array_equal(rec["t_attempts_end"][done], rec["t_response"][done])
    # the CH answered every delivered exchange, sent every notify, and answered WAIT_FOR_DATA only to a request
    # that reached it
    assert rec["answered"][done | (rec["kind"] == NOTIFY) | (rec["kind"] == WAIT)].all()
    assert np.all(rec["t_attempts_end"][rec["result"] == LOST] > rec["t_request"][rec["result"] == LOST])
    prev, nxt = rec[:-1], rec[1:]
    repeat = (prev["result"] != DELIVERED) & (prev["offset"] == nxt["offset"]) & (prev["kind"] == nxt["kind"])
    assert np.array_equal(nxt["attempt"], np.where(repeat, prev["attempt"] + 1, 0))
    assert rec["attempt"][0] == 0
    eps = 1e-9
    assert np.all(nxt["t_request"] >= prev["t_response"] - eps)
    ok = (prev["result"] == DELIVERED) & np.isin(prev["kind"], [BLOCK, LAST_BLOCK])
    assert np.all(nxt["t_request"][ok] >= prev["t_response"][ok] + ota.min_block_period_s - eps)
    ok_wait = (prev["result"] == DELIVERED) & (prev["kind"] == WAIT)
    come_back = max(ota.wait_for_data_delay_s, ota.min_block_period_s)
    assert np.all(nxt["t_request"][ok_wait] >= prev["t_response"][ok_wait] + come_back - eps)
    lost = prev["result"] == LOST
    assert np.all(nxt["t_request"][lost] >= prev["t_request"][lost] + ota.response_timeout_s - eps)
    assert rec["t_request"][0] == pytest.approx(result.t_download_start[row], abs=eps)
    ends = np.flatnonzero((data["result"] == DELIVERED) & (data["offset"] == (blocks - 1) * ota.block_size))
    if np.isfinite(result.t_download_end[row]):
        assert data["t_response"][ends[0]] == pytest.approx(result.t_download_end[row], abs=eps)
    else:
        assert ends.size == 0
    return len(data)


params_strategy = st.builds(
    lambda han, bridge, dc, burst, timeout, ch_down, meter_down, window, deadline, ready: EmulationParams(
        han=HanLink(per=han), bridge=BridgeLink(per=bridge, duty_cycle=dc,
                                                burst=GilbertElliott(0.6, 4.0, 80.0) if burst else None),
        ota=OtaParams(response_timeout_s=timeout, max_consecutive_failures=6, ch_ready_delay_s=ready,
                      wait_for_data_delay_s=1.5),
        outages=OutageParams(ch_mean_up_s=400.0, ch_mean_down_s=ch_down, hub_mean_down_s=0.0,
                             meter_mean_up_s=600.0, meter_mean_down_s=meter_down,
                             hub_windows=((window, window + 60.0),)),
        wan_delay_median_s=30.0, wan_failure_prob=0.05, deadline_s=deadline),
    han=st.sampled_from([0.0, 0.02, 0.3]), bridge=st.sampled_from([0.0, 0.1, 0.5]),
    dc=st.sampled_from([1.0, 0.1]), burst=st.booleans(), timeout=st.sampled_from([0.5, 5.0]),
    ch_down=st.sampled_from([0.0, 30.0]), meter_down=st.sampled_from([0.0, 20.0]),
    window=st.floats(0.0, 300.0), deadline=st.sampled_from([200.0, 7 * 86400.0]),
    ready=st.sampled_from([0.0, 0.0, 20.0]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(params=params_strategy, seed=st.integers(0, 2**64 - 1), image_size=st.integers(1, 6_000),
       order=st.sampled_from(["meter_first", "hub_first", "concurrent"]))
def test_tracing_changes_nothing_and_records_follow_the_rules(params, seed, image_size, order):
    from dataclasses import replace
    concurrency = 2 if order == "concurrent" else 1
    params = replace(params, ota=replace(params.ota, pair_order=order, ch_concurrency=concurrency))
    plain = emulate(12, image_size, params, seed=seed, n_threads=2)
    traced = emulate(12, image_size, params, seed=seed, n_threads=2, trace=True)
    same_results(plain, traced)
    assert plain.trace is None
    assert sum(check_device(traced, row) for row in range(len(traced))) == int(traced.exchanges.sum())


def test_lossy_outage_run_sees_every_result_and_reruns_past_its_first_guess():
    """PER 0.7 makes far more exchanges than the first guess of room; frequent short CH outages cut some."""
    p = EmulationParams(han=HanLink(per=0.7), bridge=BridgeLink(per=0.7, duty_cycle=1.0),
                        outages=OutageParams(ch_mean_up_s=5.0, ch_mean_down_s=1.0, hub_mean_down_s=0.0,
                                             meter_mean_down_s=0.0),
                        ota=OtaParams(max_consecutive_failures=40), wan_failure_prob=0.0, deadline_s=30 * 86400.0)
    plain = emulate(4, 3_000, p, seed=7)
    traced = emulate(4, 3_000, p, seed=7, trace=True)
    same_results(plain, traced)
    blocks = -(-3_000 // p.ota.block_size)
    assert max(traced.trace.count(r) for r in range(8)) > (blocks + 1) * 5 // 4 + 64
    seen = np.concatenate([traced.trace.device(r)["result"] for r in range(8)])
    assert {LOST, DELIVERED, CUT} <= set(seen.tolist())
    for row in range(8):
        check_device(traced, row)
    # a re-requested block's response comes at least the response timeout after the lost request
    rec = traced.trace.device(0)
    lost = np.flatnonzero(rec["result"][:-1] == LOST)
    assert lost.size
    assert np.all(rec["t_response"][lost + 1] >= rec["t_request"][lost] + p.ota.response_timeout_s)


def test_bytes_fidelity_unchanged_by_tracing():
    image = np.random.default_rng(3).integers(0, 256, 3_000, dtype=np.uint8).tobytes()
    p = EmulationParams(han=HanLink(per=0.4), bridge=BridgeLink(per=0.5, duty_cycle=1.0), deadline_s=30 * 86400.0)
    kw = dict(params=p, seed=11, fidelity="bytes", image=image)
    plain, traced = emulate(6, **kw), emulate(6, trace=True, **kw)
    same_results(plain, traced)
    assert traced.exchange_retries.sum() > 0
    for row in range(12):
        check_device(traced, row)
        assert plain.device_frames(row, 0, 10_000)[0] == traced.device_frames(row, 0, 10_000)[0]


def test_selected_sides_and_keys_trace_only_what_ran():
    traced = emulate(3, 2_000, seed=4, installation_keys=[9, 2, 77], sides=[1, 2, 3], trace=True)
    same_results(emulate(3, 2_000, seed=4, installation_keys=[9, 2, 77], sides=[1, 2, 3]), traced)
    assert traced.trace.count(1) == 0 and traced.trace.count(2) == 0      # sides not requested
    for row in range(6):
        check_device(traced, row)


def test_trace_arguments():
    with pytest.raises(ParameterError, match="at most"):
        emulate(MAX_TRACED_INSTALLATIONS + 1, 1_000, trace=True)
    with pytest.raises(ParameterError, match="True or False"):
        emulate(2, 1_000, trace=1)
    r = emulate(2, 1_000, trace=True)
    with pytest.raises(ParameterError, match="device row"):
        r.trace.device(4)
    assert len(emulate(0, 1_000, trace=True).trace) == 0
