"""CCM* frame protection: encrypt_batch / decrypt_batch on every AES tier against a Python loop over
cryptography's AESCCM (OpenSSL), in the same run; the single-frame API against AESCCM per call; and a bound
for this CPU computed from the same tier's own AES throughput.

The frames are the benchmark case of the design: 13-byte nonce, 22-byte AAD, 8-byte MIC, a different key
per frame; payloads of 16, 64 and 128 bytes.
"""

from __future__ import annotations

import numpy as np
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

from . import Result, best_time
from .. import _backend, ccm

AAD_LEN, NONCE_LEN, MIC_LEN = 22, 13, 8


def ccm_blocks(payload: int, aad_len: int = AAD_LEN, mic: bool = True) -> int:
    """AES blocks per CCM frame: B0, the AAD blocks and the message blocks for the MAC; a keystream block
    per message block and S0 for the MIC."""
    msg = -(-payload // 16)
    aad = -(-(aad_len + 2) // 16) if aad_len else 0
    return (1 + aad + msg + 1 + msg) if mic else msg


def frames(n: int, payload: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, 16), dtype=np.uint8), rng.integers(0, 256, (n, NONCE_LEN), dtype=np.uint8),
            rng.integers(0, 256, (n, payload), dtype=np.uint8), rng.integers(0, 256, (n, AAD_LEN), dtype=np.uint8))


def python_loop(keys, nonces, pts, aads) -> list[bytes]:
    """What a user would otherwise write: one AESCCM per frame (each frame has its own key)."""
    return [AESCCM(k, MIC_LEN).encrypt(n, p, a) for k, n, p, a in zip(keys, nonces, pts, aads)]


def as_bytes(*arrays):
    return [[row.tobytes() for row in a] for a in arrays]


def ecb_block_seconds(aes, quick: bool) -> float:
    """Seconds per AES block of the current tier at full pipeline (ECB over 1 MiB, key expanded once)."""
    data = bytes(1 << 20)
    t = best_time(lambda: aes.ecb_encrypt(bytes(16), data), quick)
    return t / (len(data) // 16)


def _mixed_sizes(aes, quick: bool, peer_n: int) -> list[Result]:
    """A capture's mix: mostly full 64-byte blocks, some 50- and 33-byte frames and a few of any size,
    packed back to back (decrypt_batch of received frames)."""
    rng = np.random.default_rng(5)
    n = 4096 if quick else 1 << 18
    lengths = rng.choice([64, 64, 64, 64, 50, 33], n)
    rare = rng.random(n) < 0.02
    lengths[rare] = rng.integers(0, 128, int(rare.sum()))
    keys, nonces, _, aads = frames(n, 0, seed=6)
    pts = [rng.bytes(int(k)) for k in lengths]
    offsets = np.zeros(n + 1, np.int64)
    offsets[1:] = np.cumsum(lengths + MIC_LEN)
    cts = [AESCCM(k.tobytes(), MIC_LEN).encrypt(no.tobytes(), p, a.tobytes())
           for k, no, p, a in zip(keys, nonces, pts, aads)]
    packed = (np.frombuffer(b"".join(cts), np.uint8), offsets)
    kernel = f"CCM* mixed sizes (capture-like), {AAD_LEN}B AAD, MIC {MIC_LEN}, key/frame, decrypt_batch"
    peer_args = [(AESCCM(k.tobytes(), MIC_LEN), no.tobytes(), c, a.tobytes())
                 for k, no, c, a in zip(keys[:peer_n], nonces[:peer_n], cts[:peer_n], aads[:peer_n])]
    peer_t = best_time(lambda: [cipher.decrypt(no, c, a) for cipher, no, c, a in peer_args], quick)
    peer = Result("ccm", kernel, "python loop over cryptography AESCCM", peer_t, len(peer_args), "frame")
    results = [peer]
    for tier in _backend.tiers()["aes"]:
        _backend.set_backend(tier, "aes")
        t = best_time(lambda: ccm.decrypt_batch(keys, nonces, packed, aads, MIC_LEN), quick, min_total=0.5)
        results.append(Result("ccm", kernel, f"althan-ota[{tier}]", t, n, "frame", baseline=peer.impl,
                              ratio=(peer_t / len(peer_args)) / (t / n)))
    return results


def run(quick: bool) -> list[Result]:
    aes = _backend.native("aes")
    results: list[Result] = []
    before = _backend.backend()["aes"]
    peer_n = 512 if quick else 20_000
    try:
        for payload in (16, 64, 128):
            n = 4096 if quick else (1 << 20 if payload == 64 else 1 << 18)
            keys, nonces, pts, aads = frames(n, payload)
            kernel = f"CCM* {payload}B+{AAD_LEN}B AAD, MIC {MIC_LEN}, key/frame"
            peer_args = as_bytes(keys[:peer_n], nonces[:peer_n], pts[:peer_n], aads[:peer_n])
            peer_t = best_time(lambda: python_loop(*peer_args), quick)
            peer = Result("ccm", kernel, "python loop over cryptography AESCCM", peer_t, peer_n, "frame")
            results.append(peer)
            blocks = ccm_blocks(payload)
            for tier in _backend.tiers()["aes"]:
                _backend.set_backend(tier, "aes")
                m = n if tier != "portable" else max(n // 16, 256)   # the T-table tier is slow; scale per frame
                k, no, p, a = keys[:m], nonces[:m], pts[:m], aads[:m]
                ct = ccm.encrypt_batch(k, no, p, a, MIC_LEN)
                ct_out, pt_out = np.empty_like(ct), np.empty_like(p)
                # A fresh result array costs first-touch page faults (several ns a frame at 1 M frames);
                # a stream of batches reuses its buffers through out=. Both are reported.
                ops = [("encrypt_batch", lambda: ccm.encrypt_batch(k, no, p, a, MIC_LEN)),
                       ("decrypt_batch", lambda: ccm.decrypt_batch(k, no, ct, a, MIC_LEN)),
                       ("encrypt_batch out=", lambda: ccm.encrypt_batch(k, no, p, a, MIC_LEN, out=ct_out)),
                       ("decrypt_batch out=", lambda: ccm.decrypt_batch(k, no, ct, a, MIC_LEN, out=pt_out))]
                for op, fn in ops:
                    t = best_time(fn, quick, min_total=0.5)
                    results.append(Result("ccm", f"{kernel}, {op}", f"althan-ota[{tier}]", t, m, "frame",
                                          baseline=peer.impl, ratio=(peer_t / peer_n) / (t / m)))
                block_t = ecb_block_seconds(aes, quick)
                # key schedule: 10 AESENCLAST-based steps, about one block's worth of AES instructions
                results.append(Result("ccm", f"{kernel}, bound: ({blocks}+1) blocks x {block_t * 1e9:.2f} ns "
                                      f"({tier} ECB)", f"bound[{tier}]", (blocks + 1) * block_t, 1, "frame"))
        results.extend(_mixed_sizes(aes, quick, peer_n))
        # single-frame API, 64-byte payload, against AESCCM with its key object made once
        keys, nonces, pts, aads = frames(256, 64, seed=2)
        key, nonce, pt, aad = keys[0].tobytes(), nonces[0].tobytes(), pts[0].tobytes(), aads[0].tobytes()
        cipher = AESCCM(key, MIC_LEN)
        reps = 200 if quick else 20_000

        def loop(fn):
            def run_loop():
                for _ in range(reps):
                    fn()
            return run_loop

        peer_t = best_time(loop(lambda: cipher.encrypt(nonce, pt, aad)), quick)
        kernel = "CCM* one frame 64B+22B AAD, encrypt"
        peer = Result("ccm", kernel, "cryptography AESCCM.encrypt", peer_t, reps, "frame")
        results.append(peer)
        for tier in _backend.tiers()["aes"]:
            _backend.set_backend(tier, "aes")
            t = best_time(loop(lambda: ccm.encrypt(key, nonce, pt, aad, MIC_LEN)), quick)
            results.append(Result("ccm", kernel, f"althan-ota[{tier}]", t, reps, "frame",
                                  baseline=peer.impl, ratio=peer_t / t))
    finally:
        _backend.set_backend(before, "aes")
    return results
