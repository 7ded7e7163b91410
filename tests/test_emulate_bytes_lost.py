"""The bytes fidelity puts each corrupted frame exactly where the timing run lost its exchange: a device's
frames, read against its exchange trace, are its block exchanges in order, corrupted exactly at the lost (or
cut) ones; tracing changes none of it; every tier gives the same frames; the byte pass refuses logs of lost
exchanges that disagree with the timing counts."""

from __future__ import annotations

import numpy as np
import pytest

from althan_ota.emulate import (OUTCOMES, BridgeLink, EmulationParams, HanLink, OtaParams, OutageParams, emulate)
from althan_ota.emulate.bytes import BYTES_COLUMNS, ByteParams, make_pass
from althan_ota.emulate.result import DEVICE_COLUMNS
from althan_ota.emulate.trace import KINDS, RESULTS
from althan_ota.errors import ParameterError

UPGRADE_END, DELIVERED = KINDS.index("upgrade_end"), RESULTS.index("delivered")
DATA_KINDS = [KINDS.index(k) for k in ("block", "last_block", "upgrade_end")]   # the notify and query carry none
# lossy links, random outages (cut exchanges) and a short abort rule: lost exchanges of every kind
LOSSY = EmulationParams(han=HanLink(per=0.35, max_retries=2), bridge=BridgeLink(per=0.4, duty_cycle=1.0),
                        outages=OutageParams(ch_mean_up_s=20.0, ch_mean_down_s=5.0, hub_mean_down_s=0.0,
                                             meter_mean_up_s=30.0, meter_mean_down_s=5.0),
                        ota=OtaParams(max_consecutive_failures=4), deadline_s=30 * 86400.0)
IMAGE_SIZE = 4_321


@pytest.fixture(scope="module")
def image() -> bytes:
    return np.random.default_rng(11).integers(0, 256, IMAGE_SIZE, dtype=np.uint8).tobytes()


@pytest.fixture(scope="module")
def traced(image):
    return emulate(24, params=LOSSY, seed=9, fidelity="bytes", image=image, trace=True)


def expected_frames(trace: np.ndarray, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """(corrupted, offset) of the frames a device's exchanges call for: one per block exchange, corrupted when
    it did not deliver; a lost Upgrade End exchange as a corrupted repeat of the last block (it carries no
    image data); a delivered Upgrade End exchange no frame at all."""
    last_block = (IMAGE_SIZE - 1) // block_size * block_size
    trace = trace[np.isin(trace["kind"], DATA_KINDS)]
    keep = (trace["kind"] != UPGRADE_END) | (trace["result"] != DELIVERED)
    ex = trace[keep]
    corrupted = (ex["result"] != DELIVERED).astype(np.uint8)
    offsets = np.where(ex["kind"] == UPGRADE_END, last_block, ex["offset"]).astype(np.uint32)
    return corrupted, offsets


def check_against_trace(result) -> int:
    """Asserts every device's frames are its traced exchanges; returns how many corrupted frames it checked."""
    checked = 0
    for row in range(len(result)):
        want_corrupted, want_offsets = expected_frames(result.trace.device(row), result.params.ota.block_size)
        n = int(result.frames_built[row])
        _, corrupted, offsets = result.device_frames(row, 0, n + 1, offsets=True)
        assert np.array_equal(corrupted, want_corrupted), f"row {row}: corrupted frames not at the lost exchanges"
        assert np.array_equal(offsets, want_offsets), f"row {row}: frame offsets not the exchanges'"
        checked += int(corrupted.sum())
    return checked


def test_corrupted_frames_sit_at_the_lost_exchanges(traced):
    results = [RESULTS[k] for k in np.unique(np.concatenate([traced.trace.device(r)["result"]
                                                             for r in range(len(traced))]))]
    assert {"lost", "cut", "delivered"} <= set(results)       # the run has every kind of exchange to place
    assert check_against_trace(traced) > 300


def test_aborted_and_upgrade_end_losses_are_placed(traced):
    """The run exercises what the even spread got wrong: aborted downloads (their final run at the block they
    gave up on, which the trace comparison above checks) and lost exchanges in the middle of a download."""
    assert np.count_nonzero(traced.outcome == OUTCOMES.index("aborted")) >= 2
    mid = 0
    for row in range(len(traced)):
        ex = traced.trace.device(row)
        lost = np.flatnonzero(ex["result"] != DELIVERED)
        mid += np.count_nonzero(lost < ex.shape[0] - 8)
    assert mid > 100


def test_tracing_and_threads_change_nothing(traced, image):
    """An untraced run on one thread gives the traced run's rows and frames (the log of lost exchanges is
    filled by several threads in any order, and ordered by device afterwards)."""
    plain = emulate(24, params=LOSSY, seed=9, fidelity="bytes", image=image, n_threads=1)
    assert emulate(24, params=LOSSY, seed=9, fidelity="bytes", image=image, n_threads=3).to_arrow().equals(
        plain.to_arrow())
    for name in (*DEVICE_COLUMNS, *BYTES_COLUMNS):
        assert np.array_equal(getattr(plain, name), getattr(traced, name), equal_nan=True), name
    for row in (0, 3, 17, 46):
        n = int(plain.frames_built[row])
        assert all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
                   for a, b in zip(plain.device_frames(row, 0, n, offsets=True),
                                   traced.device_frames(row, 0, n, offsets=True)))


def test_shared_air_losses_are_placed_too(image):
    """With shared air the losses depend on the neighbours' frames; the log comes from the building engine."""
    params = EmulationParams(contention=True, han=HanLink(per=0.05), bridge=BridgeLink(per=0.1),
                             wan_delay_sigma=0.0, ota=OtaParams(max_consecutive_failures=6))
    r = emulate(8, params=params, seed=4, fidelity="bytes", image=image, trace=True, buildings=["B"] * 8)
    assert r.exchange_retries.sum() > 20
    assert check_against_trace(r) == int(r.exchange_retries.sum())
    plain = emulate(8, params=params, seed=4, fidelity="bytes", image=image, buildings=["B"] * 8)
    for name in (*DEVICE_COLUMNS, *BYTES_COLUMNS):
        assert np.array_equal(getattr(plain, name), getattr(r, name), equal_nan=True), name


def test_every_tier_places_and_builds_the_same_frames(traced, image, aes_tier, crc_tier, sha256_tier):
    r = emulate(24, params=LOSSY, seed=9, fidelity="bytes", image=image)
    for name in BYTES_COLUMNS:
        assert np.array_equal(getattr(r, name), getattr(traced, name)), name
    for row in (1, 10, 33):
        n = int(r.frames_built[row])
        frames, corrupted, offsets = r.device_frames(row, 0, n, offsets=True)
        ref = traced.device_frames(row, 0, n, offsets=True)
        assert frames == ref[0] and np.array_equal(corrupted, ref[1]) and np.array_equal(offsets, ref[2])


def test_lost_runs_that_disagree_with_the_counts_are_refused(traced, image):
    """The byte pass made by hand from one device's traced exchanges: the exact runs are taken (and place its
    corrupted frames as the run did), runs one repeat short and a misshapen index are refused."""
    block_size = traced.params.ota.block_size
    cols = {name: getattr(traced, name).copy() for name in ("outcome", "exchanges", "exchange_retries")}
    cols["han_per"], cols["bridge_per"] = traced.han_per, traced.bridge_per
    units = np.arange(len(traced) // 2, dtype=np.uint64)
    row = int(np.flatnonzero(traced.exchange_retries)[0])
    others = np.arange(len(traced)) != row
    cols["exchanges"][others] = cols["exchange_retries"][others] = 0    # only row's losses are in the log
    # row's runs as the timing run logs them: (block asked for, lost exchanges there), the Upgrade End's block
    # being the number of blocks
    ex = traced.trace.device(row)
    ex = ex[np.isin(ex["kind"], DATA_KINDS)]
    lost = ex[ex["result"] != DELIVERED]
    slots = np.where(lost["kind"] == UPGRADE_END, -(-IMAGE_SIZE // block_size), lost["offset"] // block_size)
    values, counts = np.unique(slots, return_counts=True)

    def attempt(counts):
        keep = counts > 0
        runs = np.stack([values[keep], counts[keep]], axis=1).astype(np.uint32).ravel()
        first = np.zeros(len(traced) + 1, dtype=np.uint64)
        first[row + 1:] = runs.shape[0] // 2
        p = make_pass({k: v.copy() for k, v in cols.items()}, units, memoryview(image), traced.params.ota,
                      traced.seed, ByteParams(), (first, runs))
        p.execute(1)
        return p, first, runs

    exact, first, runs = attempt(counts)
    n = int(traced.frames_built[row])
    assert np.array_equal(exact.device_frames(row, 0, n)[1], traced.device_frames(row, 0, n)[1])
    short = counts.copy()
    short[-1] -= 1
    with pytest.raises(ParameterError, match="disagree"):
        attempt(short)
    with pytest.raises(ParameterError, match="lost_first"):
        make_pass(cols, units, memoryview(image), traced.params.ota, traced.seed, ByteParams(), (first, runs[:-2]))


def test_wait_for_data_answers_carry_no_frame_of_the_byte_pass(image):
    """With the CH not ready at once (WAIT_FOR_DATA answers, lost ones included) the byte pass still corrupts
    exactly the lost data exchanges: the log and the counts leave the control exchanges out alike."""
    import dataclasses

    params = dataclasses.replace(LOSSY, ota=dataclasses.replace(LOSSY.ota, ch_ready_delay_s=120.0,
                                                                wait_for_data_delay_s=7.0))
    r = emulate(12, params=params, seed=4, fidelity="bytes", image=image, trace=True)
    kinds = np.concatenate([r.trace.device(row)["kind"] for row in range(len(r))])
    assert np.count_nonzero(kinds == KINDS.index("wait_for_data")) > 10
    assert check_against_trace(r) > 50
