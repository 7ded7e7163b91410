"""The fleet emulator against analytic results, its own invariants, and the SimPy reference model."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from althan_ota.emulate import (MAX_BLOCK, OUTCOMES, BridgeLink, EmulationParams, GilbertElliott, HanLink,
                                OtaParams, OutageParams, emulate)
from althan_ota.emulate import airtime
from althan_ota.errors import ParameterError

COMPLETED, ABORTED, WAN_FAILED, ACTIVATION_FAILED, TIMEOUT = range(5)


def clean(**kw) -> EmulationParams:
    """No outages, no WAN or activation trouble: only the radio links matter."""
    base = dict(outages=OutageParams.none(), wan_failure_prob=0.0, wan_delay_sigma=0.0,
                activation_failure_prob=0.0)
    base.update(kw)
    return EmulationParams(**base)


def ks_pvalue(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov p-value (scipy if installed, else the asymptotic distribution)."""
    try:
        from scipy.stats import ks_2samp
        return float(ks_2samp(a, b).pvalue)
    except ImportError:
        a, b = np.sort(a), np.sort(b)
        grid = np.concatenate([a, b])
        d = np.max(np.abs(np.searchsorted(a, grid, "right") / a.size - np.searchsorted(b, grid, "right") / b.size))
        en = math.sqrt(a.size * b.size / (a.size + b.size))
        lam = (en + 0.12 + 0.11 / en) * d
        return float(min(1.0, 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101))))


# ---------------------------------------------------------------- frame model

def test_frame_model_matches_802154_figures():
    han = HanLink()
    # a full 127-byte PSDU plus 6 PHY bytes is 4.256 ms at 250 kbit/s
    assert airtime.airtime_ns(127 + han.phy_overhead_bytes, han.bit_rate_bps) == 4_256_000
    # Image Block Response with 50 data bytes: 9 MAC + 8 NWK + 14 aux + 8 APS + 3 ZCL + 64 payload + 4 MIC + 2 FCS
    assert airtime.psdu_bytes(airtime.BLOCK_RESPONSE_PAYLOAD + 50) == 112
    assert airtime.psdu_bytes(airtime.BLOCK_RESPONSE_PAYLOAD + MAX_BLOCK) == 127
    assert airtime.han_ack_ns(han) == 11 * 32_000
    br = BridgeLink()
    # relayed NWK frame (112 - 11 = 101 bytes) + 19 bytes of bridge framing at 50 kbit/s
    assert airtime.bridge_frame_ns(br, airtime.BLOCK_RESPONSE_PAYLOAD + 50) == 120 * 160_000
    assert airtime.dc_span_ns(19_200_000, 0.1) == 192_000_000
    assert airtime.dc_span_ns(7, 0.3) == 24   # ceil(23.33)


def test_ota_payload_sizes_match_zigpy():
    zcl = pytest.importorskip("zigpy.zcl.clusters.general")
    server, client = zcl.Ota.ServerCommandDefs, zcl.Ota.ClientCommandDefs
    ids = dict(manufacturer_code=0x1234, image_type=1, file_version=2)
    assert len(server.image_block.schema(field_control=0, file_offset=100, maximum_data_size=50, **ids)
               .serialize()) == airtime.BLOCK_REQUEST_PAYLOAD
    for n in (1, 50, MAX_BLOCK):
        resp = client.image_block_response.schema(status=0, file_offset=100, image_data=b"x" * n, **ids)
        assert len(resp.serialize()) == airtime.BLOCK_RESPONSE_PAYLOAD + n
    assert len(server.upgrade_end.schema(status=0, **ids).serialize()) == airtime.UPGRADE_END_REQUEST_PAYLOAD
    assert len(client.upgrade_end_response.schema(current_time=0, upgrade_time=0, **ids).serialize()) == \
        airtime.UPGRADE_END_RESPONSE_PAYLOAD
    short = dict(manufacturer_code=0x1234, image_type=1)
    assert len(client.image_notify.schema(payload_type=3, query_jitter=100, new_file_version=2, **short)
               .serialize()) == airtime.IMAGE_NOTIFY_PAYLOAD
    assert len(server.query_next_image.schema(field_control=0, current_file_version=2, **short).serialize()) == \
        airtime.QUERY_NEXT_IMAGE_REQUEST_PAYLOAD
    assert len(client.query_next_image_response.schema(status=0, file_version=2, image_size=1000, **short)
               .serialize()) == airtime.QUERY_NEXT_IMAGE_RESPONSE_PAYLOAD
    wait = client.image_block_response.schema(status=0x97, current_time=1, request_time=2, minimum_block_period=3)
    assert len(wait.serialize()) == airtime.WAIT_FOR_DATA_RESPONSE_PAYLOAD     # status 0x97: WAIT_FOR_DATA


def test_ota_payload_sizes_match_our_frame_builder():
    """The sizes the timing uses are the sizes althan_ota.frames builds (PSDU = MAC + NWK + ... + FCS)."""
    from althan_ota import frames as F

    def psdu(ota) -> int:
        mac = F.MacHeader(seq=1, dst_pan=0x1A62, dst_addr=0x4C2E, src_addr=0, ack_request=True)
        nwk = F.NwkHeader(dst=0x4C2E, src=0, seq=1, sec_src=0x00124B0000000001, frame_counter=1)
        zcl = F.ZclHeader(seq=1, command=ota.COMMAND, server_to_client=ota.SERVER_TO_CLIENT)
        return len(F.build(F.Frame(mac, nwk, F.ApsHeader(counter=1), zcl, ota), nwk_key=bytes(16)))

    ids = dict(manufacturer=0x1234, image_type=1, file_version=2)
    for ota, payload in ((F.ImageNotify(**ids), airtime.IMAGE_NOTIFY_PAYLOAD),
                         (F.QueryNextImageRequest(**ids), airtime.QUERY_NEXT_IMAGE_REQUEST_PAYLOAD),
                         (F.QueryNextImageResponse(image_size=1000, **ids), airtime.QUERY_NEXT_IMAGE_RESPONSE_PAYLOAD),
                         (F.ImageBlockResponse(status=F.WAIT_FOR_DATA, current_time=1, request_time=2,
                                               min_block_period=100), airtime.WAIT_FOR_DATA_RESPONSE_PAYLOAD),
                         (F.ImageBlockRequest(file_offset=50, max_data_size=50, **ids), airtime.BLOCK_REQUEST_PAYLOAD),
                         (F.UpgradeEndRequest(**ids), airtime.UPGRADE_END_REQUEST_PAYLOAD)):
        assert psdu(ota) == airtime.psdu_bytes(payload), type(ota).__name__


# ---------------------------------------------------------------- analytic checks

def exchange_ns(p: EmulationParams, req_payload: int, resp_payload: int, side: int) -> int:
    """One loss-free exchange without duty-cycle waits, from the frame model by hand."""
    han, br = p.han, p.bridge
    han_ack = (han.phy_overhead_bytes + han.ack_psdu_bytes) * 32_000

    def han_hop(payload):
        return round(han.tx_delay_s * 1e9) + (6 + airtime.psdu_bytes(payload)) * 32_000 + \
            round(han.turnaround_s * 1e9) + han_ack

    def br_hop(payload):
        nbytes = br.overhead_bytes + airtime.nwk_bytes(payload)
        return round(br.tx_delay_s * 1e9) + nbytes * 8 * 10**9 // br.bit_rate_bps + \
            round(br.turnaround_s * 1e9) + br.overhead_bytes * 8 * 10**9 // br.bit_rate_bps

    if req_payload is None:             # an Image Notify: the CH's frame alone
        return han_hop(resp_payload) + (br_hop(resp_payload) if side == 1 else 0)
    t = han_hop(req_payload) + round(p.ota.ch_response_delay_s * 1e9) + han_hop(resp_payload)
    if side == 1:
        t += br_hop(req_payload) + br_hop(resp_payload)
    return t


def preamble_ns(p: EmulationParams, side: int) -> int:
    """The loss-free Image Notify and Query Next Image exchange that start every download."""
    return exchange_ns(p, None, airtime.IMAGE_NOTIFY_PAYLOAD, side) + \
        exchange_ns(p, airtime.QUERY_NEXT_IMAGE_REQUEST_PAYLOAD, airtime.QUERY_NEXT_IMAGE_RESPONSE_PAYLOAD, side)


@pytest.mark.parametrize("image_size", [5_000, 5_033])
def test_loss_free_transfer_time_is_exact(image_size):
    p = clean(han=HanLink(per=0.0), bridge=BridgeLink(per=0.0, duty_cycle=1.0))
    r = emulate(5, image_size, p, seed=1, n_threads=1)
    block = p.ota.block_size
    full, last = divmod(image_size, block)
    period = round(p.ota.min_block_period_s * 1e9)
    for side in (0, 1):
        ex = exchange_ns(p, airtime.BLOCK_REQUEST_PAYLOAD, airtime.BLOCK_RESPONSE_PAYLOAD + block, side)
        want = full * (ex + period)
        if last:
            want += exchange_ns(p, airtime.BLOCK_REQUEST_PAYLOAD, airtime.BLOCK_RESPONSE_PAYLOAD + last, side) + period
        want -= period                      # the download ends with the last response
        want += preamble_ns(p, side)        # and starts with the notify and the query
        got = np.round((r.t_download_end[side::2] - r.t_download_start[side::2]) * 1e9)
        assert np.all(np.abs(got - want) <= 1), (side, got, want)
        assert np.all(r.exchanges[side::2] == full + (last > 0) + 1)
        assert np.all(r.exchange_retries[side::2] == 0) and np.all(r.link_retries_han[side::2] == 0)
    assert np.all(r.dc_wait == 0)
    assert np.all(r.outcome == COMPLETED) and np.all(r.new_version == 1)


def test_link_retries_are_geometric():
    p_loss = 0.2
    p = clean(han=HanLink(per=p_loss, max_retries=255), bridge=BridgeLink(per=0.0))
    r = emulate(4000, 2_000, p, seed=7)
    hub = r.link_retries_han[0::2].astype(float)
    n_frames = 2 * (40 + 1) + 1 + 2   # request + response for 40 blocks and Upgrade End; notify; query
    mean = n_frames * p_loss / (1 - p_loss)
    var = n_frames * p_loss / (1 - p_loss) ** 2
    assert abs(hub.mean() - mean) < 5 * math.sqrt(var / hub.size)
    assert abs(hub.var() / var - 1) < 0.1
    assert np.all(r.exchange_retries[0::2] == 0)


def test_gilbert_elliott_long_run_loss_rate_and_bursts():
    burst = GilbertElliott(per_bad=0.5, mean_bad_len=5.0, mean_good_len=95.0)
    want = (95.0 * 0.01 + 5.0 * 0.5) / 100.0           # long-run fraction of failed attempts
    runs = {}
    for name, b, per in (("bursty", burst, 0.01), ("independent", None, want)):
        p = clean(han=HanLink(per=per, burst=b, max_retries=255), bridge=BridgeLink(per=0.0))
        r = emulate(3000, 5_000, p, seed=9)
        runs[name] = r.link_retries_han[0::2].astype(float)   # failed attempts per hub-side download
    attempts_ok = 2 * (100 + 1)
    rate = runs["bursty"].sum() / (runs["bursty"].sum() + attempts_ok * runs["bursty"].size)
    assert abs(rate - want) < 0.05 * want
    # same mean loss, but bursts cluster the failures: far more spread between downloads
    assert runs["bursty"].var() > 2 * runs["independent"].var()


def test_exchange_retries_are_geometric():
    p_loss = 0.05
    p = clean(han=HanLink(per=p_loss, max_retries=0), bridge=BridgeLink(per=0.0),
              ota=OtaParams(max_consecutive_failures=1000, response_timeout_s=0.5))
    r = emulate(4000, 2_000, p, seed=8)
    q = 1 - (1 - p_loss) ** 2          # an exchange needs its request and its response
    hub = r.exchange_retries[0::2].astype(float)
    mean, var = 41 * q / (1 - q), 41 * q / (1 - q) ** 2
    assert abs(hub.mean() - mean) < 5 * math.sqrt(var / hub.size)
    assert abs(hub.var() / var - 1) < 0.1
    # every lost exchange costs exactly the response timeout from its request, so the whole service time is
    # notify + query + blocks x (exchange + period) + Upgrade End + retries x timeout, to the nanosecond; lost
    # notifies and queries are not exchange retries (they carry no data), so a traced run counts them
    from althan_ota.emulate.trace import KINDS, RESULTS
    t = emulate(500, 2_000, p, seed=8, trace=True)
    assert np.array_equal(t.exchange_retries, r.exchange_retries[:1000])
    block = exchange_ns(p, airtime.BLOCK_REQUEST_PAYLOAD, airtime.BLOCK_RESPONSE_PAYLOAD + 50, 0)
    end = exchange_ns(p, airtime.UPGRADE_END_REQUEST_PAYLOAD, airtime.UPGRADE_END_RESPONSE_PAYLOAD, 0)
    preamble = [KINDS.index("image_notify"), KINDS.index("query_next_image")]
    lost_preamble = np.array([np.sum(np.isin(x["kind"], preamble) & (x["result"] == RESULTS.index("lost")))
                              for x in (t.trace.device(row) for row in range(0, 1000, 2))])
    assert lost_preamble.sum() > 0
    retries = t.exchange_retries[0::2].astype(np.int64) + lost_preamble
    want = preamble_ns(p, 0) + 40 * (block + 100_000_000) + end + retries * 500_000_000
    got = np.round((t.t_activation[0::2] - t.t_download_start[0::2]) * 1e9)
    assert np.all(np.abs(got - want) <= 2)


def test_duty_cycle_bound_link_runs_at_the_limit():
    dc = 0.01
    p = clean(han=HanLink(per=0.0), bridge=BridgeLink(per=0.0, duty_cycle=dc),
              ota=OtaParams(min_block_period_s=0.0))
    r = emulate(3, 10_000, p, seed=1, n_threads=1)
    # the hub-side bridge sends each block response and acknowledges each request over the bridge link
    resp = airtime.bridge_frame_ns(p.bridge, airtime.BLOCK_RESPONSE_PAYLOAD + 50)
    ack = airtime.bridge_ack_ns(p.bridge)
    duration = (r.t_download_end[1::2] - r.t_download_start[1::2]) * 1e9
    hub_on_air = 200 * (resp + ack)
    assert np.all(np.abs(hub_on_air / duration - dc) < dc * 0.01), hub_on_air / duration
    assert np.all(r.dc_wait[1::2] > 0.9 * duration / 1e9)


# ---------------------------------------------------------------- determinism

def test_identical_across_threads_and_slices():
    p = EmulationParams(bridge=BridgeLink(per_concentration=20.0, burst=GilbertElliott()),
                        outages=OutageParams(ch_mean_up_s=2000, ch_mean_down_s=100))
    base = emulate(600, 3_000, p, seed=11, n_threads=1).to_arrow()
    for threads in (2, 7):
        assert emulate(600, 3_000, p, seed=11, n_threads=threads).to_arrow().equals(base)
    a = emulate(250, 3_000, p, seed=11, first_installation=0).to_arrow()
    b = emulate(350, 3_000, p, seed=11, first_installation=250).to_arrow()
    import pyarrow as pa
    assert pa.concat_tables([a, b]).equals(base)
    other = emulate(600, 3_000, p, seed=12).to_arrow()
    assert not other.equals(base)


def test_shortcuts_are_exact():
    """The closed-form jumps and replay caches give bit for bit what stepping every exchange gives."""
    from althan_ota._native import _emu
    from althan_ota.emulate.engine import engine_config

    p = EmulationParams(bridge=BridgeLink(per_concentration=10.0, burst=GilbertElliott()),
                        outages=OutageParams(ch_mean_up_s=3000, ch_mean_down_s=300, meter_mean_up_s=5000,
                                             meter_mean_down_s=100, hub_windows=((2000.0, 2100.0),)))
    runs = []
    for stepped in (0, 1):
        cfg = engine_config(60_000, p, seed=5) | {"step_every_exchange": stepped}
        out = {k: np.empty(2 * 200, dtype=dt) for k, dt in _emu.DEVICE_COLUMNS.items()}
        out |= {k: np.empty(200, dtype=dt) for k, dt in _emu.INSTALLATION_COLUMNS.items()}
        _emu.Run(cfg, 0, 200, None, None, out).execute(2)   # raises for any status but ALT_OK
        runs.append(out)
    for k in runs[0]:
        assert np.array_equal(runs[0][k], runs[1][k], equal_nan=runs[0][k].dtype.kind == "f"), k
    assert runs[0]["exchange_retries"].sum() > 0 and runs[0]["dc_wait"].sum() > 0


def test_per_installation_arrays_and_beta_draws():
    han = np.linspace(0.0, 0.3, 50)
    r = emulate({"han_per": han}, 1_000, clean(), seed=2)
    assert np.array_equal(r.han_per, han) and np.all(r.bridge_per == BridgeLink().per)
    # worse HAN, more HAN retries
    assert r.link_retries_han[0::2][:10].sum() < r.link_retries_han[0::2][-10:].sum()
    p = clean(bridge=BridgeLink(per=0.1, per_concentration=25.0))
    r = emulate(3000, 200, p, seed=3)
    assert ks_pvalue(r.bridge_per, np.random.default_rng(1).beta(2.5, 22.5, 3000)) > 1e-3


# ---------------------------------------------------------------- stages and outcomes

def test_stage_rules():
    r = emulate(200, 2_000, clean(wan_failure_prob=1.0), seed=1)
    assert np.all(r.outcome == WAN_FAILED) and np.all(np.isnan(r.t_download_start))
    r = emulate(200, 2_000, clean(activation_failure_prob=1.0), seed=1)
    assert np.all(r.outcome == ACTIVATION_FAILED) and np.all(r.new_version == 0)
    assert np.all(~np.isnan(r.t_readback))
    r = emulate(50, 2_000, clean(activation_time_s=100_000.0, readback_delay_s=60.0), seed=1)
    assert np.all(r.t_activation == 100_000.0) and np.all(r.t_readback == 100_060.0)
    # images reach the CHs at 600 s; nothing can finish by 602 s, and the second bridge never starts
    r = emulate(50, 2_000, clean(deadline_s=602.0), seed=1)
    assert np.all(r.outcome == TIMEOUT) and np.all(np.isnan(r.t_download_start[0::2]))
    assert np.all(r.t_download_start[1::2] == 600.0) and np.all(np.isnan(r.t_download_end))
    # sequential: the hub-side bridge starts once the meter-side one is served
    r = emulate(50, 2_000, clean(), seed=1)
    assert np.all(r.t_download_start[0::2] > r.t_download_end[1::2])
    r = emulate(50, 2_000, clean(ota=OtaParams(pair_order="hub_first")), seed=1)
    assert np.all(r.t_download_start[1::2] > r.t_download_end[0::2])
    r = emulate(50, 2_000, clean(ota=OtaParams(pair_order="concurrent", ch_concurrency=2)), seed=1)
    assert np.all(r.t_download_start[0::2] == r.t_download_start[1::2])


def test_aborts_and_scheduled_windows():
    p = clean(bridge=BridgeLink(per=0.9, max_retries=0), ota=OtaParams(max_consecutive_failures=2))
    r = emulate(100, 2_000, p, seed=1)
    assert np.all(r.outcome[1::2] == ABORTED) and np.all(r.outcome[0::2] == COMPLETED)
    p = clean(wan_delay_median_s=0.0, outages=OutageParams(
        ch_mean_down_s=0.0, hub_mean_down_s=0.0, meter_mean_down_s=0.0, ch_windows=((0.0, 1000.0),)))
    r = emulate(20, 2_000, p, seed=1)
    assert np.all(r.t_download_start >= 1000.0)
    # a meter-side window pauses only the meter-side bridge; a hub-side one both (it relays)
    for who, paused in (("meter", [1]), ("hub", [0, 1])):
        windows = {f"{who}_windows": ((0.0, 5000.0),)}
        r = emulate(20, 2_000, clean(wan_delay_median_s=0.0, outages=OutageParams(
            ch_mean_down_s=0.0, hub_mean_down_s=0.0, meter_mean_down_s=0.0, **windows),
            ota=OtaParams(pair_order="concurrent", ch_concurrency=2)), seed=1)
        for side in (0, 1):
            starts = r.t_download_start[side::2]
            assert np.all(starts >= 5000.0) if side in paused else np.all(starts < 5000.0)


def test_outages_resume_from_offset():
    p = clean(outages=OutageParams(ch_mean_up_s=30.0, ch_mean_down_s=20.0, hub_mean_down_s=0.0,
                                   meter_mean_down_s=0.0))
    r = emulate(200, 4_000, p, seed=5)
    assert np.all(r.outcome == COMPLETED)
    # outages cut exchanges (repeated, never aborted) and stretch the downloads
    assert r.exchange_retries.sum() > 0
    calm = emulate(200, 4_000, clean(), seed=5)
    assert np.median(r.t_download_end - r.t_download_start) > np.median(calm.t_download_end - calm.t_download_start)


# ---------------------------------------------------------------- agreement with the SimPy reference

SCENARIOS = {
    "bursty-outages-sequential": EmulationParams(
        han=HanLink(per=0.05, max_retries=1),
        bridge=BridgeLink(per=0.15, per_concentration=30.0, burst=GilbertElliott(0.7, 3.0, 60.0)),
        ota=OtaParams(max_consecutive_failures=3, response_timeout_s=2.0),
        outages=OutageParams(ch_mean_up_s=900, ch_mean_down_s=60, hub_mean_up_s=3000, hub_mean_down_s=30,
                             meter_mean_up_s=2000, meter_mean_down_s=20, ch_windows=((100.0, 160.0),),
                             hub_windows=((400.0, 420.0), (900.0, 960.0)), meter_windows=((200.0, 230.0),)),
        wan_failure_prob=0.05, wan_delay_median_s=30.0, activation_failure_prob=0.05, deadline_s=3000.0),
    "concurrent-1pct": EmulationParams(
        bridge=BridgeLink(per=0.2, duty_cycle=0.01, max_retries=2),
        ota=OtaParams(pair_order="concurrent", ch_concurrency=2, min_block_period_s=0.0),
        outages=OutageParams.none(), wan_delay_median_s=10.0),
}
METRICS = ["duration", "t_readback", "exchange_retries", "link_retries_han", "link_retries_bridge",
           "airtime_bridge", "dc_wait"]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_agrees_with_simpy_reference(name):
    pytest.importorskip("simpy")
    from althan_ota.testing.simpy_emulator import reference_emulate

    params, n, size = SCENARIOS[name], 250, 6_000
    ref = reference_emulate(n, size, params, seed=1)
    emu = emulate(n, size, params, seed=2)
    got = {k: getattr(emu, k) for k in ("t_download_start", "t_download_end", *METRICS[1:], "outcome")}
    ref_counts = np.bincount(ref["outcome"], minlength=len(OUTCOMES))
    emu_counts = np.bincount(got["outcome"], minlength=len(OUTCOMES))
    for k in range(len(OUTCOMES)):          # outcome shares within 5 binomial standard errors
        pk = (ref_counts[k] + emu_counts[k]) / (4 * n)
        assert abs(ref_counts[k] - emu_counts[k]) / (2 * n) <= 5 * math.sqrt(pk * (1 - pk) / n) + 1e-9
    # two-sample KS per metric and side; 14 tests at 1e-3 each keeps a false alarm below 1.4%
    for side in (0, 1):
        for metric in METRICS:
            if metric == "duration":
                a = (ref["t_download_end"] - ref["t_download_start"])[side::2]
                b = (got["t_download_end"] - got["t_download_start"])[side::2]
            else:
                a, b = ref[metric][side::2].astype(float), got[metric][side::2].astype(float)
            a, b = a[~np.isnan(a)], b[~np.isnan(b)]
            if a.size and b.size and (a.std() > 0 or b.std() > 0):
                assert ks_pvalue(a, b) > 1e-3, (name, side, metric, a.mean(), b.mean())


# ---------------------------------------------------------------- API: results, progress, errors

def test_result_views():
    r = emulate(100, 2_000, seed=1)
    t = r.to_arrow()
    assert t.num_rows == 200 and t.column("installation").to_pylist()[:4] == [0, 0, 1, 1]
    assert t.column("side").to_pylist()[:2] == ["hub_side", "meter_side"]
    assert set(t.column("outcome").to_pylist()) <= set(OUTCOMES)
    s = r.summary()
    assert sum(s.outcomes.values()) == 200
    assert all(sum(s.outcomes_by_side[side].values()) == 100 for side in ("hub_side", "meter_side"))
    assert s.out_of_sync_pairs == int(np.sum(r.new_version[0::2] != r.new_version[1::2]))
    half = emulate(300, 2_000, clean(activation_failure_prob=0.5), seed=1).summary()
    assert 100 < half.out_of_sync_pairs < 200      # about half the pairs end on different versions
    assert s.airtime_bridge_s == pytest.approx(r.airtime_bridge.sum())
    assert s.completion_quantiles_s[0.5] <= s.completion_quantiles_s[1.0] == s.last_completion_s
    assert t.column("t_readback").null_count == int(np.isnan(r.t_readback).sum())


def test_progress_and_stop():
    calls = []
    emulate(3000, 2_000, seed=1, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (3000, 3000)
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))

    class Enough(Exception):
        pass

    def stop_at_once(done, total):
        raise Enough

    t0 = threading.active_count()
    with pytest.raises(Enough):
        emulate(200_000, 240_000, seed=1, progress=stop_at_once)
    assert threading.active_count() == t0


@pytest.mark.parametrize("bad, match", [
    (lambda: emulate(10, 1000, EmulationParams(han=HanLink(per=1.0))), "han.per"),
    (lambda: emulate(10, 1000, EmulationParams(bridge=BridgeLink(per=-0.1))), "bridge.per"),
    (lambda: emulate(10, 1000, EmulationParams(ota=OtaParams(block_size=0))), "block_size"),
    (lambda: emulate(10, 1000, EmulationParams(ota=OtaParams(block_size=MAX_BLOCK + 1))), "does not fit"),
    (lambda: emulate(10, 1000, EmulationParams(ota=OtaParams(min_block_period_s=-1.0))), "min_block_period"),
    (lambda: emulate(10, 1000, EmulationParams(ota=OtaParams(pair_order="concurrent"))), "ch_concurrency"),
    (lambda: emulate(10, 1000, EmulationParams(outages=OutageParams(ch_mean_up_s=-5.0))), "ch_mean_up_s"),
    (lambda: emulate(10, 1000, EmulationParams(outages=OutageParams(ch_windows=((5.0, 1.0),)))), "ends"),
    (lambda: emulate(10, 1000, EmulationParams(bridge=BridgeLink(duty_cycle=0.0))), "duty_cycle"),
    (lambda: emulate(10, 1000, EmulationParams(bridge=BridgeLink(burst=GilbertElliott(per_bad=1.0)))), "per_bad"),
    (lambda: emulate(10, 1000, EmulationParams(wan_failure_prob=1.5)), "wan_failure_prob"),
    (lambda: emulate(10, 0), "image_size"),
    (lambda: emulate(-1, 1000), "n_installations"),
    (lambda: emulate(10, 1000, n_threads=0), "n_threads"),
    (lambda: emulate(10, 1000, seed=-1), "seed"),
    (lambda: emulate({"han_per": [0.1, 1.0]}, 1000), r"han_per\[1\]"),
    (lambda: emulate({"han_per": [0.1], "bridge_per": [0.1, 0.2]}, 1000), "installations"),
    (lambda: emulate({"hanper": [0.1]}, 1000), "unknown"),
    (lambda: emulate(10, 1000, fidelity="bytes"), "needs the image"),
    (lambda: emulate(10, 1000, fidelity="exact"), "fidelity"),
])
def test_bad_parameters_raise(bad, match):
    with pytest.raises(ParameterError, match=match):
        bad()


def test_cli_emulate(capsys, tmp_path):
    import json

    from althan_ota.cli import main

    out = tmp_path / "fleet.parquet"
    assert main(["emulate", "40", "--image-size", "3000", "--seed", "3", "--json", "--parquet", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["devices"] == 80 and sum(summary["outcomes"].values()) == 80
    import pyarrow.parquet as pq
    assert pq.read_table(out).equals(emulate(40, 3000, seed=3).to_arrow())
    with pytest.raises(SystemExit) as refused:       # the parser range-checks numbers (exit status 2)
        main(["emulate", "5", "--image-size", "0"])
    assert refused.value.code == 2


def test_unit_keys_and_sides_for_campaigns():
    """A campaign emulates scattered installations (keys) and single bridges (sides)."""
    import dataclasses

    from althan_ota.emulate import EmulationParams, OtaParams, emulate

    params = EmulationParams()
    whole = emulate(40, 30_000, params, seed=3, first_installation=100)
    keyed = emulate(40, 30_000, params, seed=3, installation_keys=np.arange(100, 140, dtype=np.uint64))
    for name in ("outcome", "t_readback", "exchanges", "airtime_bridge", "t_end"):
        assert np.array_equal(getattr(whole, name), getattr(keyed, name), equal_nan=True), name
    scattered = emulate(3, 30_000, params, seed=3, installation_keys=np.array([139, 100, 117], dtype=np.uint64))
    for i, k in enumerate((39, 0, 17)):
        assert np.array_equal(scattered.t_readback[2 * i:2 * i + 2], whole.t_readback[2 * k:2 * k + 2], equal_nan=True)
    # one side alone downloads as if alone at the CH: as in concurrent service, where nobody waits
    concurrent = dataclasses.replace(params, ota=OtaParams(pair_order="concurrent", ch_concurrency=2))
    both = emulate(40, 30_000, concurrent, seed=3)
    hub_only = emulate(40, 30_000, params, seed=3, sides=np.full(40, 1, np.uint8))
    assert (hub_only.outcome[1::2] == OUTCOMES.index("not_requested")).all()
    assert np.isnan(hub_only.t_download_start[1::2]).all() and (hub_only.exchanges[1::2] == 0).all()
    assert np.array_equal(hub_only.t_readback[0::2], both.t_readback[0::2], equal_nan=True)
    done = whole.outcome == OUTCOMES.index("completed")
    assert np.array_equal(whole.t_end[done], whole.t_readback[done])
    assert np.isfinite(whole.t_end[whole.outcome != OUTCOMES.index("not_requested")]).all()
    with pytest.raises(ParameterError, match="sides must be 1"):
        emulate(2, 30_000, params, sides=np.array([0, 3], np.uint8))
    with pytest.raises(ParameterError, match="installation_keys must have one entry"):
        emulate(2, 30_000, params, installation_keys=np.arange(3, dtype=np.uint64))
