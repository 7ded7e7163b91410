"""The per-building engine (csrc/emu.h "Shared air", csrc/emu_building.inc): installations of one building
share their HAN and bridge channels. Checked for exactness where it must equal the lone engine, for
independence of threads and input order, for the effect of a block of flats starting together, and against
an independent SimPy model of one building (althan_ota.testing.simpy_building) for 1, 10 and 100
installations."""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pytest

from althan_ota.emulate import OUTCOMES, EmulationParams, OutageParams, emulate
from althan_ota.emulate.buildings import assign_channels
from althan_ota.emulate.trace import KINDS
from althan_ota.emulate.params import BridgeLink, GilbertElliott
from althan_ota.campaign.states import State
from althan_ota.errors import ParameterError

from test_emulate import ks_pvalue

IMAGE = 8_000


def clean(**kw) -> EmulationParams:
    """No outages, no WAN or activation trouble: only the radio links (and the shared air) matter."""
    base = dict(outages=OutageParams.none(), wan_failure_prob=0.0, wan_delay_sigma=0.0,
                activation_failure_prob=0.0)
    base.update(kw)
    return EmulationParams(**base)


def shared(params: EmulationParams, **kw) -> EmulationParams:
    return dataclasses.replace(params, contention=True, **kw)


# ---------------------------------------------------------------- exactly the lone engine where it must be

@pytest.mark.parametrize("order", ["meter_first", "concurrent"])
def test_buildings_of_one_give_exactly_the_lone_engine(order):
    p = dataclasses.replace(EmulationParams(bridge=BridgeLink(per_concentration=20.0),
                                            outages=OutageParams(ch_mean_up_s=3000, ch_mean_down_s=200)),
                            ota=dataclasses.replace(EmulationParams().ota, pair_order=order,
                                                                ch_concurrency=2 if order == "concurrent" else 1))
    n = 300
    alone = emulate(n, 30_000, p, seed=7).to_arrow()
    ids = [f"flat {i}" for i in range(n)]
    assert emulate(n, 30_000, shared(p), seed=7, buildings=ids).to_arrow().equals(alone)
    # no building at all (null or blank) is a building of one too
    blanks = [None if i % 2 else " " for i in range(n)]
    assert emulate(n, 30_000, shared(p), seed=7, buildings=blanks).to_arrow().equals(alone)
    # as are the sides a campaign asks for, and the bytes fidelity on top
    sides = (np.arange(n) % 3 + 1).astype(np.uint8)
    assert emulate(n, 30_000, shared(p), seed=7, buildings=ids, sides=sides).to_arrow().equals(
        emulate(n, 30_000, p, seed=7, sides=sides).to_arrow())
    image = bytes(range(256)) * 40
    with_bytes = emulate(20, None, shared(p), seed=7, buildings=ids[:20], fidelity="bytes", image=image)
    assert with_bytes.to_arrow().equals(emulate(20, None, p, seed=7, fidelity="bytes", image=image).to_arrow())


def test_a_building_whose_downloads_never_overlap_gives_exactly_the_lone_engine():
    # WAN delays spread over days and 3 KB downloads of a minute or two: the flats of each building download
    # one after another, so every download runs alone (and mostly on the closed-form loop), as without sharing
    p = EmulationParams(wan_delay_median_s=86_400.0, wan_delay_sigma=1.5,
                        outages=OutageParams(meter_mean_up_s=4000, meter_mean_down_s=50))
    n = 40
    alone = emulate(n, 3_000, p, seed=2)
    together = emulate(n, 3_000, shared(p), seed=2, buildings=["A", "B"] * (n // 2))
    starts = np.sort(alone.t_image[0::2][np.isfinite(alone.t_image[0::2])])
    assert np.all(np.diff(starts) > 0)          # distinct starts (the premise)
    assert together.to_arrow().equals(alone.to_arrow())


def _busy_spans(r) -> np.ndarray:
    """Per installation: from its first download's start to its last download's end (activation)."""
    start = np.fmin(r.t_download_start[0::2], r.t_download_start[1::2])
    end = np.fmax(r.t_activation[0::2], r.t_activation[1::2])
    return np.stack([start, end], axis=1)


def _most_at_once(spans: np.ndarray) -> int:
    return max(int(((spans[:, 0] <= t0) & (t0 < spans[:, 1])).sum()) for t0 in spans[:, 0])


def test_a_building_cap_of_one_runs_each_flat_alone_later():
    # 30 flats whose images arrive together: with a cap of 1 they download one after another, each exactly
    # as it would alone (the same draws, no contention), only later
    p = clean(wan_delay_sigma=0.02)
    n = 30
    alone = emulate(n, IMAGE, p, seed=4)
    capped = emulate(n, IMAGE, shared(p, building_cap=1), seed=4, buildings=["BLOCK"] * n)
    for name in ("outcome", "exchanges", "exchange_retries", "link_retries_han", "link_retries_bridge",
                 "frames_han", "frames_bridge", "airtime_bridge", "dc_wait"):
        assert np.array_equal(getattr(capped, name), getattr(alone, name)), name
    took = lambda r: r.t_activation - r.t_download_start          # noqa: E731
    assert np.allclose(took(capped), took(alone), rtol=0, atol=1e-6)
    assert np.array_equal(capped.t_image, alone.t_image)          # the image arrived; the download waited
    spans = _busy_spans(capped)
    assert _most_at_once(spans) == 1
    assert np.nanmax(capped.t_readback) > 10 * np.nanmax(alone.t_readback) - 9 * np.nanmin(alone.t_readback)


def test_a_building_cap_bounds_the_flats_downloading_at_once():
    p = clean(wan_delay_sigma=0.02)
    n = 30
    ends = {}
    for cap in (1, 5, None):
        r = emulate(n, IMAGE, shared(p, building_cap=cap), seed=8, buildings=["BLOCK"] * n)
        most = _most_at_once(_busy_spans(r))
        assert most <= (cap or n)
        if cap == 5:
            assert most == 5
        ends[cap] = np.nanmax(r.t_readback)
    assert ends[1] > ends[5]
    with pytest.raises(ParameterError, match="building_cap is a rule of the per-building engine"):
        emulate(2, IMAGE, dataclasses.replace(p, building_cap=1))


@pytest.mark.parametrize("cap", [None, 2])
def test_the_lone_shortcut_is_exact(cap):
    """A download alone in its building runs the closed-form loop up to the next start of another
    installation's download: bit for bit what stepping every attempt gives."""
    from althan_ota._native import _emu
    from althan_ota.emulate.engine import building_groups, engine_config, shared_config

    # WAN starts spread over an hour, ~30 s downloads: buildings alternate between lone and shared stretches
    p = EmulationParams(contention=True, building_cap=cap, wan_delay_median_s=1200.0, wan_delay_sigma=0.8,
                        bridge=BridgeLink(burst=GilbertElliott()),
                        outages=OutageParams(ch_mean_up_s=900, ch_mean_down_s=60, hub_windows=((1500.0, 1530.0),)))
    n = 120
    keys = np.arange(n, dtype=np.uint64)
    assignment = assign_channels([f"B{i % 7}" for i in range(n)], p)
    groups = building_groups(assignment, keys)
    runs = []
    for stepped in (0, 1):
        cfg = engine_config(12_000, p, seed=13) | {"step_every_exchange": stepped}
        out = {k: np.empty(2 * n, dtype=dt) for k, dt in _emu.DEVICE_COLUMNS.items()}
        out |= {k: np.empty(n, dtype=dt) for k, dt in _emu.INSTALLATION_COLUMNS.items()}
        run = _emu.Run(cfg, 0, n, None, None, out, keys)
        run.set_buildings(shared_config(p), groups["order"], groups["group_start"], groups["han_channel"],
                          groups["bridge_channel"])
        run.execute(2)
        runs.append(out)
    for k in runs[0]:
        assert np.array_equal(runs[0][k], runs[1][k], equal_nan=runs[0][k].dtype.kind == "f"), k
    assert runs[0]["link_retries_han"].sum() > 0 and runs[0]["exchange_retries"].sum() > 0


# ---------------------------------------------------------------- unit start times (a campaign's requests)

DAY_NS = 86_400 * 10**9


def test_units_requested_apart_get_exactly_their_lone_results():
    # a block of 30 flats requested 8 days apart (past the 7-day deadline): no two ever overlap, so each gets
    # exactly its lone results, on its own clock, with outages and WAN trouble on
    p = EmulationParams(outages=OutageParams(meter_mean_up_s=4000, meter_mean_down_s=50))
    n = 30
    alone = emulate(n, IMAGE, p, seed=5)
    starts = (np.arange(n)[::-1] * 8 * DAY_NS).astype(np.int64)      # later installations requested first
    apart = emulate(n, IMAGE, shared(p), seed=5, buildings=["BLOCK"] * n, unit_start_ns=starts)
    assert apart.to_arrow().equals(alone.to_arrow())
    together = emulate(n, IMAGE, shared(p), seed=5, buildings=["BLOCK"] * n)
    assert together.exchange_retries.sum() > alone.exchange_retries.sum()     # the premise: together they contend


def test_only_the_starts_relative_to_each_other_matter():
    p = clean(wan_delay_sigma=0.02)
    n = 20
    starts = (np.arange(n) * 7 * 10**9).astype(np.int64)     # one every 7 s: downloads of minutes overlap
    base = emulate(n, IMAGE, shared(p), seed=3, buildings=["B"] * n, unit_start_ns=starts)
    moved = emulate(n, IMAGE, shared(p), seed=3, buildings=["B"] * n, unit_start_ns=starts + 5 * DAY_NS)
    assert moved.to_arrow().equals(base.to_arrow())
    zero = emulate(n, IMAGE, shared(p), seed=3, buildings=["B"] * n, unit_start_ns=np.zeros(n, np.int64))
    assert zero.to_arrow().equals(emulate(n, IMAGE, shared(p), seed=3, buildings=["B"] * n).to_arrow())
    assert not base.to_arrow().equals(zero.to_arrow())        # staggered requests overlap differently
    # the input order changes nothing either
    perm = np.random.default_rng(1).permutation(n)
    shuffled = emulate(n, IMAGE, shared(p), seed=3, buildings=["B"] * n, unit_start_ns=starts[perm],
                       installation_keys=np.arange(n, dtype=np.uint64)[perm])
    assert np.array_equal(shuffled.exchange_retries.reshape(-1, 2), base.exchange_retries.reshape(-1, 2)[perm])


def test_a_cap_gives_places_in_order_of_request():
    # cap 1, five flats requested in reverse order a second apart: they download one at a time on the common
    # clock, in the order they were requested, each exactly as alone (only later)
    p = clean(wan_delay_sigma=0.0)
    n = 5
    starts = ((n - 1 - np.arange(n)) * 10**9).astype(np.int64)
    r = emulate(n, IMAGE, shared(p, building_cap=1), seed=6, buildings=["B"] * n, unit_start_ns=starts)
    alone = emulate(n, IMAGE, p, seed=6)
    assert np.array_equal(r.exchange_retries, alone.exchange_retries)
    common = _busy_spans(r) + (starts / 1e9)[:, None]
    assert _most_at_once(common) == 1
    assert np.all(np.diff(common[::-1, 0]) > 0)                  # the first requested downloads first
    assert r.t_download_start[2 * (n - 1)] == alone.t_download_start[2 * (n - 1)]   # it never waited


def test_places_held_from_before_count_against_the_cap():
    """held_places: places of a building other runs' installations still hold. Each counts against the cap
    until its time, then frees for the first flat waiting; places of buildings not in the run change nothing."""
    p = clean(wan_delay_sigma=0.0)
    n, cap = 12, 3
    codes = np.zeros(n, dtype=np.int64)
    free = emulate(n, IMAGE, shared(p, building_cap=cap), seed=5, buildings=codes)
    spans = _busy_spans(free)
    assert _most_at_once(spans) == cap
    until = float(np.nanmedian(spans[:, 1]))            # held until half the block has finished alone
    until_ns = np.full(cap, round(until * 1e9), dtype=np.int64)
    elsewhere = emulate(n, IMAGE, shared(p, building_cap=cap), seed=5, buildings=codes,
                        held_places=(np.full(cap, 7), until_ns))
    assert elsewhere.to_arrow().equals(free.to_arrow())
    for held in (1, 2, 3):
        r = emulate(n, IMAGE, shared(p, building_cap=cap), seed=5, buildings=codes,
                    held_places=(np.zeros(held, dtype=np.int64), until_ns[:held]))
        spans = _busy_spans(r)
        before = spans[:, 0] < until - 1e-6            # a place handed over at `until` is not before it
        # before the held places free only the places left are used; after, the cap
        assert _most_at_once(spans[before]) == cap - held if held < cap else not before.any()
        assert _most_at_once(spans) == cap
        assert np.array_equal(r.outcome, free.outcome)
    with pytest.raises(ParameterError, match="more than building_cap"):
        emulate(n, IMAGE, shared(p, building_cap=cap), seed=5, buildings=codes,
                held_places=(np.zeros(4, dtype=np.int64), np.full(4, until_ns[0])))
    with pytest.raises(ParameterError, match="need shared air"):
        emulate(n, IMAGE, shared(p), seed=5, buildings=codes,
                held_places=(np.zeros(1, np.int64), np.ones(1, np.int64)))
    with pytest.raises(ParameterError, match="until_ns must be in"):
        emulate(n, IMAGE, shared(p, building_cap=cap), seed=5, buildings=codes,
                held_places=(np.zeros(1, dtype=np.int64), np.array([-1])))


def test_start_times_are_checked():
    ok = dict(params=shared(clean()), buildings=["B"] * 3)
    with pytest.raises(ParameterError, match=r"unit_start_ns\[1\] = -1"):
        emulate(3, IMAGE, **ok, unit_start_ns=np.array([0, -1, 2]))
    with pytest.raises(ParameterError, match="integer nanoseconds"):
        emulate(3, IMAGE, **ok, unit_start_ns=np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ParameterError, match="one entry per installation"):
        emulate(3, IMAGE, **ok, unit_start_ns=np.array([0, 1]))
    with pytest.raises(ParameterError, match="needs shared air"):
        emulate(3, IMAGE, clean(), unit_start_ns=np.array([0, 1, 2]))
    with pytest.raises(ParameterError, match=r"\[0, 2\*\*61\]"):
        emulate(3, IMAGE, **ok, unit_start_ns=np.array([0, 1, 2**62]))
    # the engine's own check (ALT_EINVAL), past the Python one
    from althan_ota._native import _emu
    from althan_ota.emulate.engine import engine_config, shared_config
    for bad in (-1, 2**61 + 1):
        out = {k: np.empty(4, dtype=dt) for k, dt in _emu.DEVICE_COLUMNS.items()}
        out |= {k: np.empty(2, dtype=dt) for k, dt in _emu.INSTALLATION_COLUMNS.items()}
        params = shared(clean())
        run = _emu.Run(engine_config(IMAGE, params, 1), 0, 2, None, None, out, np.arange(2, dtype=np.uint64))
        run.set_buildings(shared_config(params), np.arange(2, dtype=np.uint64), np.array([0, 2], np.uint64),
                          np.zeros(2, np.uint32), np.zeros(2, np.uint32), np.array([0, bad], np.int64))
        with pytest.raises(ParameterError):
            run.execute(1)


# ---------------------------------------------------------------- independent of threads and input order

def test_results_depend_on_neither_threads_nor_input_order():
    p = shared(EmulationParams(wan_delay_sigma=0.05, outages=OutageParams(ch_mean_up_s=600, ch_mean_down_s=20)),
               han_channels=2, capture_margin_db=6.0)
    n = 90
    buildings = np.array([f"B{i % 4}" for i in range(n)], dtype=object)
    buildings[::13] = None
    keys = np.arange(1000, 1000 + n, dtype=np.uint64)
    han_per = np.linspace(0.0, 0.2, n)
    fleet = {"han_per": han_per, "building_id": pa.array(buildings.tolist(), pa.string())}
    base = emulate(fleet, 6_000, p, seed=3, n_threads=1, installation_keys=keys)
    for threads in (2, 5):
        assert emulate(fleet, 6_000, p, seed=3, n_threads=threads, installation_keys=keys).to_arrow().equals(
            base.to_arrow())
    # the same installations in another order (and buildings dictionary-coded in another order): the same
    # rows, moved. Round-robin channels follow the fleet order, so give each flat its channel explicitly.
    channel = np.arange(n) % 2
    with_channel = dict(fleet, channel=channel)
    base = emulate(with_channel, 6_000, p, seed=3, installation_keys=keys)
    perm = np.random.default_rng(0).permutation(n)
    moved = emulate({"han_per": han_per[perm], "building_id": pa.array(buildings[perm].tolist(), pa.string()),
                     "channel": channel[perm]}, 6_000, p, seed=3, installation_keys=keys[perm])
    rows = np.stack([2 * perm, 2 * perm + 1], axis=1).ravel()
    for name in ("outcome", "t_download_end", "t_readback", "exchanges", "exchange_retries", "link_retries_han",
                 "link_retries_bridge", "frames_han", "airtime_bridge", "dc_wait"):
        assert np.array_equal(getattr(moved, name), getattr(base, name)[rows], equal_nan=True), name
    assert base.link_retries_han.sum() > 0


def test_tracing_a_shared_building_changes_nothing():
    p = shared(clean(wan_delay_sigma=0.02))
    traced = emulate(8, 3_000, p, seed=2, buildings=["B"] * 8, trace=True)
    assert traced.to_arrow().equals(emulate(8, 3_000, p, seed=2, buildings=["B"] * 8).to_arrow())
    from test_emulate_trace import check_device
    for device in range(16):
        check_device(traced, device)        # the command set's records add up to the device's row
    assert traced.exchange_retries.sum() > 0
    # with WAIT_FOR_DATA too (a CH not ready for the first 2 s of each download), shared air and all
    p = dataclasses.replace(p, ota=dataclasses.replace(p.ota, ch_ready_delay_s=2.0, wait_for_data_delay_s=0.3))
    traced = emulate(8, 3_000, p, seed=2, buildings=["B"] * 8, trace=True)
    assert traced.to_arrow().equals(emulate(8, 3_000, p, seed=2, buildings=["B"] * 8).to_arrow())
    for device in range(16):
        check_device(traced, device)
    assert any((traced.trace.device(d)["kind"] == KINDS.index("wait_for_data")).any() for d in range(16))


# ---------------------------------------------------------------- a block of flats starting together

def test_a_block_starting_together_is_slower_than_independent_flats():
    p = clean(wan_delay_sigma=0.02)
    n = 50
    alone = emulate(n, IMAGE, p, seed=9)
    block = emulate(n, IMAGE, shared(p), seed=9, buildings=["BLOCK"] * n)
    # the same installations and loss draws; only the shared air differs
    assert np.array_equal(alone.han_per, block.han_per)
    done_alone = alone.t_readback[np.isfinite(alone.t_readback)]
    done_block = block.t_readback[np.isfinite(block.t_readback)]
    assert len(done_block) < len(done_alone) or np.median(done_block) > 1.2 * np.median(done_alone)
    assert block.exchange_retries.sum() > 5 * max(1, alone.exchange_retries.sum())
    assert block.link_retries_han.sum() > 2 * alone.link_retries_han.sum()
    # the same block on one channel each (a building per flat): no effect at all
    apart = emulate(n, IMAGE, shared(p), seed=9, buildings=[f"F{i}" for i in range(n)])
    assert apart.to_arrow().equals(alone.to_arrow())


def test_more_channels_and_capture_relieve_a_block():
    p = clean(wan_delay_sigma=0.02)
    n = 30
    one = emulate(n, IMAGE, shared(p), seed=5, buildings=["B"] * n)
    four = emulate(n, IMAGE, shared(p, han_channels=4, bridge_channels=4), seed=5, buildings=["B"] * n)
    assert four.exchange_retries.sum() < one.exchange_retries.sum()
    assert four.link_retries_han.sum() < one.link_retries_han.sum()
    captured = emulate(n, IMAGE, shared(p, capture_margin_db=3.0, rssi_sigma_db=10.0), seed=5,
                       buildings=["B"] * n)
    assert captured.link_retries_han.sum() < one.link_retries_han.sum()


def test_a_bridge_without_listen_before_talk_loses_more_downloads():
    p = clean(wan_delay_sigma=0.02)
    n = 20
    lbt = emulate(n, IMAGE, shared(p), seed=6, buildings=["B"] * n)
    aloha = emulate(n, IMAGE, shared(dataclasses.replace(p, bridge=BridgeLink(lbt=None))), seed=6,
                    buildings=["B"] * n)
    # listening turns most would-be collisions into deferrals; without it frames collide and exchanges fail
    aborted = OUTCOMES.index("aborted")
    assert (aloha.outcome == aborted).sum() > (lbt.outcome == aborted).sum()


# ---------------------------------------------------------------- against the SimPy model of one building

def _durations(out: dict, side: int) -> np.ndarray:
    d = (out["t_download_end"] - out["t_image"])[side::2]
    return d[np.isfinite(d)]


@pytest.mark.parametrize("size,buildings", [(1, 40), (10, 4), (100, 1)])
def test_agrees_with_the_simpy_building(size, buildings):
    pytest.importorskip("simpy")
    from althan_ota.testing.simpy_building import reference_building

    # starts within a few seconds of each other, so the downloads of a building overlap for most of their time
    p = shared(clean(wan_delay_sigma=0.01), capture_margin_db=6.0)
    ours: list[dict] = []
    ref: list[dict] = []
    for b in range(buildings):
        keys = np.arange(b * size, (b + 1) * size, dtype=np.uint64)
        r = emulate(size, IMAGE, p, seed=11, installation_keys=keys, buildings=["B"] * size)
        ours.append({k: getattr(r, k) for k in ("t_download_end", "t_image", "exchange_retries",
                                                "link_retries_han", "link_retries_bridge", "frames_han")})
        ref.append(reference_building(size, IMAGE, p, seed=11, first_key=b * size))
    cat = {k: np.concatenate([o[k] for o in ours]) for k in ours[0]}
    rcat = {k: np.concatenate([o[k] for o in ref]) for k in ours[0]}
    for side in (0, 1):
        assert ks_pvalue(_durations(cat, side), _durations(rcat, side)) > 1e-3, side
    for name in ("link_retries_han", "link_retries_bridge", "frames_han", "exchange_retries"):
        a, b = cat[name].astype(float), rcat[name].astype(float)
        if size == 1 and name == "exchange_retries":
            continue        # rare alone: compared through the durations
        assert a.mean() == pytest.approx(b.mean(), rel=0.15, abs=0.5), name
    if size == 100:
        # the shared air is doing something in both models: far more HAN retries than PER alone gives
        assert rcat["link_retries_han"].mean() > 3 * 0.02 * rcat["frames_han"].mean() / 2


# ---------------------------------------------------------------- clear errors

def test_errors_are_clear():
    with pytest.raises(ParameterError, match="contention=True needs"):
        emulate(3, 1_000, EmulationParams(contention=True))
    with pytest.raises(ParameterError, match="only matter with shared air"):
        emulate(3, 1_000, EmulationParams(), buildings=["a", "a", "b"])
    with pytest.raises(ParameterError, match="3 installations, the fleet 2|building_id 3|installations"):
        emulate(2, 1_000, EmulationParams(contention=True), buildings=["a", "a", "b"])
    with pytest.raises(ParameterError, match="either in the fleet mapping"):
        emulate({"building_id": ["a", "b"]}, 1_000, EmulationParams(contention=True), buildings=["a", "b"])
    with pytest.raises(ParameterError, match="channel column needs building_id"):
        emulate({"han_per": np.zeros(2), "channel": [0, 1]}, 1_000, EmulationParams(contention=True))
    with pytest.raises(ParameterError, match="building_id must be a text column"):
        emulate(2, 1_000, EmulationParams(contention=True), buildings=pa.array([1.5, 2.5]))
    with pytest.raises(ParameterError, match="a building of 20,001 installations"):
        emulate(20_001, 1_000, EmulationParams(contention=True), buildings=np.zeros(20_001, np.int64))
    with pytest.raises(ParameterError, match="installation_keys must be unique"):
        emulate(3, 1_000, EmulationParams(contention=True), buildings=["a"] * 3, installation_keys=[5, 6, 5])
    # the engine's own check: a grouping that is not a permutation of the rows never runs
    from althan_ota._native import _emu
    from althan_ota.emulate.engine import engine_config, shared_config
    out = {k: np.empty(4, dtype=dt) for k, dt in _emu.DEVICE_COLUMNS.items()}
    out |= {k: np.empty(2, dtype=dt) for k, dt in _emu.INSTALLATION_COLUMNS.items()}
    run = _emu.Run(engine_config(1_000, p_shared := EmulationParams(contention=True), 1), 0, 2, None, None, out,
                   np.arange(2, dtype=np.uint64))
    run.set_buildings(shared_config(p_shared), np.array([1, 1], np.uint64), np.array([0, 2], np.uint64),
                      np.zeros(2, np.uint32), np.zeros(2, np.uint32))
    with pytest.raises(ParameterError):
        run.execute(1)
    # a ChannelAssignment and integer codes are taken as they are
    p = EmulationParams(contention=True)
    a = emulate(4, 1_000, p, seed=1, buildings=assign_channels(["x", "x", "y", None], p))
    b = emulate(4, 1_000, p, seed=1, buildings=np.array([0, 0, 1, -1]))
    assert a.to_arrow().equals(b.to_arrow())


# ---------------------------------------------------------------- the campaign path and the command line

def test_a_campaign_with_shared_air_and_a_cap_of_one_runs_as_without(tmp_path):
    from test_building_concurrency import FAST, block_plan, final, run
    from althan_ota.fleet import Fleet, generate_fleet

    fleet = generate_fleet(40, seed=5)
    table = fleet.table.drop_columns(["building_id"]) if "building_id" in fleet.table.column_names else fleet.table
    block = Fleet(table=table.append_column("building_id", pa.array(["BLOCK-1"] * len(table), pa.string())),
                  source="block")
    plan = block_plan(building_concurrency=1, image_size=8_000)
    with run(block, plan, tmp_path, "plain") as store:
        plain = final(store)
    from althan_ota.campaign import CampaignStore, create_campaign, run_campaign
    store = CampaignStore(tmp_path / "shared.duckdb")
    create_campaign(store, plan, block, "mem", seed=3, emulation=shared(FAST), campaign_id="c")
    run_campaign(store, "c", fleet=block)
    together = final(store)
    store.close()
    assert together[0].equals(plain[0]) and together[1].equals(plain[1])
    store = CampaignStore(tmp_path / "refused.duckdb")
    create_campaign(store, block_plan(building_concurrency=None, image_size=8_000), block, "mem", seed=3,
                    emulation=shared(FAST), campaign_id="c")
    with pytest.raises(ParameterError, match="needs a building_concurrency cap"):
        run_campaign(store, "c", fleet=block)
    store.close()


def test_a_campaign_with_shared_air_and_a_larger_cap(tmp_path):
    # five flats of a block at once: they contend (more retries than the same campaign without shared air),
    # never more than five download at once, and a rerun from the same seed gives the same store
    from test_building_concurrency import FAST, block_plan, final
    from althan_ota.campaign import CampaignStore, create_campaign, run_campaign
    from althan_ota.fleet import Fleet, generate_fleet

    fleet = generate_fleet(40, seed=5)
    table = fleet.table.drop_columns(["building_id"]) if "building_id" in fleet.table.column_names else fleet.table
    block = Fleet(table=table.append_column("building_id", pa.array(["BLOCK-1"] * len(table), pa.string())),
                  source="block")
    plan = block_plan(building_concurrency=5, image_size=8_000)
    results = {}
    for name, emulation in (("alone", FAST), ("shared", shared(FAST)), ("again", shared(FAST))):
        with CampaignStore(tmp_path / f"{name}.duckdb") as store:
            create_campaign(store, plan, block, "mem", seed=3, emulation=emulation, campaign_id="c")
            run_campaign(store, "c", fleet=block)
            results[name] = (final(store), store.db.execute(
                "SELECT sum(retries) FROM transfers WHERE campaign_id = 'c'").fetchone()[0],
                store.db.execute(f"""SELECT device_id, attempt, min(t) FILTER (WHERE state = {int(State.DOWNLOADING)}),
                    max(t) FILTER (WHERE state = {int(State.DOWNLOADED)}) FROM events WHERE campaign_id = 'c'
                    GROUP BY device_id, attempt""").fetchall())
    assert results["again"][0][0].equals(results["shared"][0][0])
    assert results["shared"][1] > results["alone"][1]
    # within one engine call (the first attempt) the engine holds the cap
    spans = np.array([(a, b) for _, k, a, b in results["shared"][2] if k == 1 and a is not None and b is not None])
    assert _most_at_once(spans) == 5          # pairs download one bridge after the other: one device a flat


def test_the_command_runs_with_shared_air():
    import json
    import subprocess
    import sys

    args = [sys.executable, "-m", "althan_ota", "emulate", "300", "--image-size", "4000", "--seed", "2", "--json"]
    alone = json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout)
    shared_run = json.loads(subprocess.run(args + ["--contention"], capture_output=True, text=True,
                                           check=True).stdout)
    assert shared_run["devices"] == alone["devices"] == 600
    assert shared_run["completion_quantiles_s"] != alone["completion_quantiles_s"]
    bad = subprocess.run(args + ["--han-channels", "2"], capture_output=True, text=True)
    assert bad.returncode != 0 and "need --contention" in bad.stderr
