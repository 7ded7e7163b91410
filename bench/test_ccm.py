"""CCM* batches against a Python loop over cryptography's AESCCM, in the same run and benchmark group
(4096 frames: 13-byte nonce, 22-byte AAD, MIC 8, a key per frame). Ratios only; no absolute thresholds."""

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

from althan_ota import ccm
from althan_ota.bench.ccm import MIC_LEN, as_bytes, frames, python_loop

N = 4096


@pytest.fixture(params=[16, 64, 128], ids=lambda p: f"{p}B")
def batch(request):
    return request.param, frames(N, request.param)


def test_encrypt_batch(benchmark, batch, aes_tier):
    payload, (keys, nonces, pts, aads) = batch
    benchmark.group = f"ccm encrypt {payload}B x {N}"
    out = benchmark(ccm.encrypt_batch, keys, nonces, pts, aads, MIC_LEN)
    assert out[0].tobytes() == AESCCM(keys[0].tobytes(), MIC_LEN).encrypt(
        nonces[0].tobytes(), pts[0].tobytes(), aads[0].tobytes())


def test_decrypt_batch(benchmark, batch):
    payload, (keys, nonces, pts, aads) = batch
    ct = ccm.encrypt_batch(keys, nonces, pts, aads, MIC_LEN)
    benchmark.group = f"ccm decrypt {payload}B x {N}"
    back, ok = benchmark(ccm.decrypt_batch, keys, nonces, ct, aads, MIC_LEN)
    assert ok.all()


def test_python_loop_over_cryptography(benchmark, batch):
    payload, arrays = batch
    args = as_bytes(*arrays)
    benchmark.group = f"ccm encrypt {payload}B x {N}"
    benchmark(python_loop, *args)


def test_python_loop_over_cryptography_decrypt(benchmark, batch):
    payload, (keys, nonces, pts, aads) = batch
    k, n, a = as_bytes(keys, nonces, aads)
    ct = [row.tobytes() for row in ccm.encrypt_batch(keys, nonces, pts, aads, MIC_LEN)]
    benchmark.group = f"ccm decrypt {payload}B x {N}"
    benchmark(lambda: [AESCCM(kk, MIC_LEN).decrypt(nn, cc, aa) for kk, nn, cc, aa in zip(k, n, ct, a)])


def test_single_frame_ours(benchmark):
    key, nonce, pt, aad = bytes(range(16)), bytes(13), bytes(64), bytes(22)
    benchmark.group = "ccm single frame 64B"
    benchmark(ccm.encrypt, key, nonce, pt, aad, MIC_LEN)


def test_single_frame_cryptography(benchmark):
    key, nonce, pt, aad = bytes(range(16)), bytes(13), bytes(64), bytes(22)
    cipher = AESCCM(key, MIC_LEN)
    benchmark.group = "ccm single frame 64B"
    benchmark(cipher.encrypt, nonce, pt, aad)
