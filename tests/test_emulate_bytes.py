"""The emulator's bytes fidelity: real frames (checked with althan_ota.frames and hashlib), every corrupted
frame rejected, corrupted images ending as hash failures, the timing run's outcomes kept otherwise, and
results that do not depend on threads."""

from __future__ import annotations

import numpy as np
import pytest

from althan_ota import frames as F
from althan_ota.emulate import OUTCOMES, BridgeLink, EmulationParams, HanLink, OtaParams, OutageParams, emulate
from althan_ota.emulate.bytes import BYTES_COLUMNS, ByteParams, device_key
from althan_ota.emulate.airtime import BLOCK_RESPONSE_PAYLOAD, psdu_bytes
from althan_ota.errors import ParameterError

HASH_FAILURE = OUTCOMES.index("hash_failure")
COMPLETED = OUTCOMES.index("completed")
ACTIVATION_FAILED = OUTCOMES.index("activation_failed")
# lossy links, so plenty of exchanges are repeated (and their frames corrupted)
LOSSY = EmulationParams(han=HanLink(per=0.3), bridge=BridgeLink(per=0.4, duty_cycle=1.0), deadline_s=30 * 86400.0)


@pytest.fixture(scope="module")
def image() -> bytes:
    return np.random.default_rng(5).integers(0, 256, 12_345, dtype=np.uint8).tobytes()


@pytest.fixture(scope="module")
def lossy(image):
    return emulate(40, params=LOSSY, seed=7, fidelity="bytes", image=image)


def test_every_corrupted_frame_is_rejected(lossy):
    assert lossy.exchange_retries.sum() > 500          # the test has corrupted frames to look at
    rejected = lossy.frames_rejected_fcs.astype(np.int64) + lossy.frames_rejected_mic
    assert np.array_equal(rejected, lossy.exchange_retries)
    assert lossy.undetected_errors.sum() == 0


def test_hash_checked_against_hashlib(lossy, image):
    # the expected digest comes from hashlib; hash_ok says the C SHA-256 of the reassembled image matched it
    done = np.isin(lossy.outcome, [COMPLETED, ACTIVATION_FAILED])
    assert done.sum() > 40 and np.all(lossy.hash_ok[done] == 1) and np.all(lossy.hash_ok[~done] == 0)


def test_frames_counted(lossy, image):
    blocks = -(-len(image) // LOSSY.ota.block_size)
    delivered = np.minimum(lossy.exchanges - lossy.exchange_retries, blocks)
    assert np.array_equal(lossy.frames_built, delivered + lossy.exchange_retries)


def test_frames_decode_with_the_device_key(lossy, image):
    bs = LOSSY.ota.block_size
    for row in (0, 1, 17, 40):
        key = device_key(lossy.seed, int(lossy.installation[row]), int(lossy.side[row]))
        frames, corrupted = lossy.device_frames(row, 0, 200)
        assert len(frames) == min(200, int(lossy.frames_built[row])) and corrupted.any()
        last = 0
        for psdu, bad in zip(frames, corrupted):
            parsed = F.parse(psdu, F.Keys(nwk_key=key), strict=False)
            if bad:
                assert not parsed.ok
                continue
            assert parsed.ok and len(psdu) == psdu_bytes(BLOCK_RESPONSE_PAYLOAD + bs)
            ota = parsed.frame.ota
            assert isinstance(ota, F.ImageBlockResponse) and ota.status == F.SUCCESS
            assert ota.data == image[ota.file_offset:ota.file_offset + bs]
            assert parsed.frame.nwk.frame_counter > last
            last = parsed.frame.nwk.frame_counter
        # the wrong key fails every MIC
        wrong = F.parse(frames[np.flatnonzero(corrupted == 0)[0]], F.Keys(nwk_key=bytes(16)), strict=False)
        assert wrong.nwk_security == "bad-mic"


def test_many_frames_at_once_and_their_offsets(lossy, image):
    """A whole device's frames in one call equal the same frames fetched in pieces; the offsets reported are the
    ones the intact frames carry, a repeat's that of the block it repeats."""
    row = int(np.argmax(lossy.frames_built))
    n = int(lossy.frames_built[row])
    assert n > 200
    frames, corrupted, offsets = lossy.device_frames(row, 0, n, offsets=True)
    pieces = [f for first in range(0, n, 100) for f in lossy.device_frames(row, first, 100)[0]]
    assert frames == pieces and len(frames) == n
    key = F.Keys(nwk_key=device_key(lossy.seed, int(lossy.installation[row]), int(lossy.side[row])))
    for k, (psdu, bad) in enumerate(zip(frames, corrupted)):
        if not bad:
            assert F.parse(psdu, key).frame.ota.file_offset == offsets[k]
        elif k + 1 < n:
            assert offsets[k + 1] == offsets[k]      # a repeat comes just before its block's delivery


def test_more_than_512_frames_in_one_call(image):
    """Frame i starts at byte 128 i of the C buffer: past frame 511 that no longer fits a uint16."""
    r = emulate(1, seed=2, fidelity="bytes", image=image * 3)
    n = int(r.frames_built[0])
    assert n > 600
    frames, _ = r.device_frames(0, 0, n)
    assert frames[512:520] == r.device_frames(0, 512, 8)[0]


def test_last_frames_carry_the_short_last_block(lossy, image):
    row = int(np.flatnonzero(lossy.outcome == COMPLETED)[0])
    n = int(lossy.frames_built[row])
    frames, corrupted = lossy.device_frames(row, n - 3, 10)
    key = device_key(lossy.seed, int(lossy.installation[row]), int(lossy.side[row]))
    good = [F.parse(f, F.Keys(nwk_key=key)) for f, bad in zip(frames, corrupted) if not bad]
    assert len(frames) == 3 and good
    tail = len(image) % LOSSY.ota.block_size
    assert good[-1].frame.ota.file_offset == len(image) - tail and good[-1].frame.ota.data == image[-tail:]


def test_identical_across_threads(image):
    runs = [emulate(30, params=LOSSY, seed=3, fidelity="bytes", image=image, n_threads=k,
                    byte_params=ByteParams(corrupt_image_prob=0.3, ber=0.01)) for k in (1, 2, 4)]
    for r in runs[1:]:
        for name in ("outcome", "new_version", "t_end", *BYTES_COLUMNS):
            assert np.array_equal(getattr(r, name), getattr(runs[0], name), equal_nan=True), name


def test_corrupt_image_always_ends_as_hash_failure(image):
    r = emulate(50, params=LOSSY, seed=2, fidelity="bytes", image=image,
                byte_params=ByteParams(corrupt_image_prob=1.0))
    t = emulate(50, len(image), params=LOSSY, seed=2)
    done = np.isin(t.outcome, [COMPLETED, ACTIVATION_FAILED])
    assert done.sum() > 50
    assert np.all(r.outcome[done] == HASH_FAILURE) and np.all(r.new_version == 0)
    assert np.all(np.isnan(r.t_activation[done])) and np.all(np.isnan(r.t_readback[done]))
    assert np.array_equal(r.t_end[done], t.t_download_end[done])
    assert np.array_equal(r.outcome[~done], t.outcome[~done]) and np.all(r.image_corrupted == 1)
    assert r.summary().outcomes["hash_failure"] == done.sum()


def test_clean_image_keeps_the_timing_outcomes(image):
    params = EmulationParams()
    t = emulate(200, len(image), params=params, seed=11)
    b = emulate(200, params=params, seed=11, fidelity="bytes", image=image)
    for name in ("outcome", "new_version", "t_end", "t_readback", "exchanges", "exchange_retries", "airtime_han"):
        assert np.array_equal(getattr(b, name), getattr(t, name), equal_nan=True), name
    done = np.isin(t.outcome, [COMPLETED, ACTIVATION_FAILED])
    assert np.array_equal(b.hash_ok.astype(bool), done)
    assert not b.image_corrupted.any()


def test_some_corrupt_images(image):
    r = emulate(300, params=EmulationParams(outages=OutageParams.none()), seed=4, fidelity="bytes", image=image,
                byte_params=ByteParams(corrupt_image_prob=0.2, corrupt_bytes=1))
    corrupt = r.image_corrupted[0::2] == 1
    assert 30 < corrupt.sum() < 100
    assert np.array_equal(r.image_corrupted[0::2], r.image_corrupted[1::2])   # one CH copy per installation
    assert np.all(r.outcome[np.repeat(corrupt, 2)] != COMPLETED)
    assert np.all(r.new_version[np.repeat(~corrupt, 2)] == (r.outcome[np.repeat(~corrupt, 2)] == COMPLETED))


def test_high_ber_still_rejected(image):
    r = emulate(20, params=LOSSY, seed=9, fidelity="bytes", image=image, byte_params=ByteParams(ber=0.1))
    assert np.array_equal(r.frames_rejected_fcs + r.frames_rejected_mic, r.exchange_retries)
    assert r.undetected_errors.sum() == 0


def test_arrow_has_the_bytes_columns(lossy):
    table = lossy.to_arrow()
    assert set(BYTES_COLUMNS) <= set(table.column_names)
    assert "hash_failure" in OUTCOMES and OUTCOMES[-1] == "hash_failure"


@pytest.mark.parametrize("kw, match", [
    (dict(), "needs the image"),
    (dict(image=b""), "empty"),
    (dict(image=12), "image must be bytes"),
    (dict(image=b"abc", image_size=4), "differs"),
    (dict(image=b"abc", byte_params=ByteParams(corrupt_image_prob=1.5)), "corrupt_image_prob"),
    (dict(image=b"abc", byte_params=ByteParams(corrupt_bytes=0)), "corrupt_bytes"),
    (dict(image=b"abc", byte_params=ByteParams(corrupt_bytes=65)), "corrupt_bytes"),
    (dict(image=b"abc", byte_params=ByteParams(corrupt_bytes=2.0)), "corrupt_bytes"),
    (dict(image=b"abc", byte_params=ByteParams(ber=0.5)), "ber"),
    (dict(image=b"abc", byte_params=ByteParams(ber=0.0)), "ber"),
    (dict(image=b"abc", byte_params={"ber": 0.1}), "ByteParams"),
])
def test_bad_parameters_raise(kw, match):
    with pytest.raises(ParameterError, match=match):
        emulate(2, fidelity="bytes", **kw)


def test_image_only_with_bytes_fidelity():
    with pytest.raises(ParameterError, match="fidelity='bytes'"):
        emulate(2, 100, image=b"x" * 100)
    with pytest.raises(AttributeError, match="bytes"):
        emulate(1, 100).device_frames(0)


def test_same_rows_on_every_tier(image, lossy, aes_tier, crc_tier):
    r = emulate(40, params=LOSSY, seed=7, fidelity="bytes", image=image)
    for name in ("outcome", *BYTES_COLUMNS):
        assert np.array_equal(getattr(r, name), getattr(lossy, name)), name


def test_slices_give_the_rows_of_one_run(image):
    kw = dict(params=LOSSY, seed=5, fidelity="bytes", image=image, byte_params=ByteParams(corrupt_image_prob=0.3))
    whole = emulate(20, **kw)
    parts = [emulate(10, first_installation=0, **kw), emulate(10, first_installation=10, **kw)]
    keyed = emulate(5, installation_keys=np.arange(15, 20), **kw)
    for name in ("outcome", "t_end", *BYTES_COLUMNS):
        joined = np.concatenate([getattr(p, name) for p in parts])
        assert np.array_equal(joined, getattr(whole, name), equal_nan=True), name
        assert np.array_equal(getattr(keyed, name), getattr(whole, name)[30:], equal_nan=True), name


def test_progress_counts_both_passes(image):
    seen = []
    big = image * 20       # long enough a pass for several progress calls
    emulate(300, params=LOSSY, seed=1, fidelity="bytes", image=big, n_threads=1,
            progress=lambda done, total: seen.append((done, total)))
    assert len(seen) >= 2 and all(total == 600 for _, total in seen) and seen[-1][0] > 300
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)

    def stop(done, total):
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        emulate(300, params=LOSSY, seed=1, fidelity="bytes", image=image, n_threads=1, progress=stop)


def test_cli_emulate_bytes(capsys, tmp_path, image):
    import json

    from althan_ota.cli import main

    path = tmp_path / "image.bin"
    path.write_bytes(image)
    assert main(["emulate", "10", "--image", str(path), "--seed", "3"]) == 0
    assert "rejected by FCS" in capsys.readouterr().out
    assert main(["emulate", "10", "--image", str(path), "--seed", "3", "--corrupt-image-prob", "1", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["outcomes"]["completed"] == 0 and summary["outcomes"]["hash_failure"] > 0
    with pytest.raises(SystemExit) as refused:       # the parser range-checks probabilities (exit status 2)
        main(["emulate", "10", "--image", str(path), "--corrupt-image-prob", "2"])
    assert refused.value.code == 2


def test_aborted_download_ends_with_its_failed_run(image):
    params = EmulationParams(han=HanLink(per=0.5, max_retries=1), ota=OtaParams(max_consecutive_failures=3))
    r = emulate(20, params=params, seed=1, fidelity="bytes", image=image)
    aborted = np.flatnonzero(r.outcome == OUTCOMES.index("aborted"))
    assert aborted.size > 5
    for row in aborted[:5]:
        n = int(r.frames_built[row])
        frames, corrupted = r.device_frames(int(row), n - 4, 4)
        assert corrupted[1:].all() and len(frames) == 4      # the final 3 failed exchanges
