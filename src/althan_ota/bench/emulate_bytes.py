"""The emulator's bytes fidelity: block exchanges a second, each a real Image Block Response built, NWK-protected
(CCM*, MIC 4) and given its FCS, some corrupted, then received (FCS, MIC, counter) and reassembled, and every
device's image hashed (SHA-256). Against the same exchange written in Python over cryptography's AESCCM with a
table CRC-16/KERMIT and hashlib (what a user would otherwise write), timed on a few hundred frames and scaled.

Ours is timed twice: the byte pass alone (a bytes run minus the timing run it starts with, same seed) and the
whole bytes run."""

from __future__ import annotations

import hashlib
import struct
import time

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

from . import Result, compare
from .frames import _KERMIT, KEY, python_image_block_response

IMAGE = 240_000
BLOCK = 50
KERNEL = f"bytes fidelity, {IMAGE // 1000} KB image, {BLOCK}-byte blocks: block exchange"


def _kermit(data: bytes) -> int:
    crc = 0
    for b in data:
        crc = (crc >> 8) ^ _KERMIT[(crc ^ b) & 0xFF]
    return crc


def python_exchanges(image: bytes, n: int, corrupt_every: int = 50) -> tuple[int, int]:
    """n exchanges of one device in Python: build, corrupt every corrupt_every-th, receive, reassemble, hash.
    Returns (frames accepted, frames rejected)."""
    ccm = AESCCM(KEY, tag_length=4)
    reassembled = bytearray(len(image))
    accepted = rejected = 0
    last = -1
    for k in range(n):
        offset = (k * BLOCK) % (len(image) - BLOCK)
        psdu = bytearray(python_image_block_response(ccm, image[offset:offset + BLOCK], offset, k + 1, k & 0xFF))
        if k % corrupt_every == corrupt_every - 1:
            psdu[k % len(psdu)] ^= 0x10
        # receiver: FCS, then the NWK header (16 bytes with the source IEEE) and auxiliary header (14)
        if _kermit(bytes(psdu)) != 0:
            rejected += 1
            continue
        nwk = bytes(psdu[9:25])
        sc, counter, src, _ = struct.unpack_from("<BIQB", psdu, 25)
        nonce = struct.pack("<QIB", src, counter, sc | 5)
        aad = nwk + bytes([sc | 5]) + bytes(psdu[26:39])
        try:
            clear = ccm.decrypt(nonce, bytes(psdu[39:-2]), aad)
        except InvalidTag:
            rejected += 1
            continue
        if counter <= last:
            rejected += 1
            continue
        last = counter
        at, size = struct.unpack_from("<IB", clear, 19)
        reassembled[at:at + size] = clear[24:24 + size]
        accepted += 1
    hashlib.sha256(reassembled).digest()
    return accepted, rejected


def _once(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(quick: bool) -> list[Result]:
    from ..emulate import EmulationParams, emulate

    image = np.random.default_rng(3).integers(0, 256, IMAGE, dtype=np.uint8).tobytes()
    params = EmulationParams()
    installations = 200 if quick else 1000
    frames = int(emulate(installations, seed=1, fidelity="bytes", image=image).frames_built.sum(dtype=np.int64))
    rounds = 1 if quick else 3
    timing_s = min(_once(lambda: emulate(installations, IMAGE, params, seed=1)) for _ in range(rounds))
    bytes_s = min(_once(lambda: emulate(installations, seed=1, fidelity="bytes", image=image))
                  for _ in range(rounds))
    m = 100 if quick else 400
    peer_s = min(_once(lambda: python_exchanges(image, m)) for _ in range(rounds)) / m * frames
    peer = Result("emulate_bytes", KERNEL, f"python+cryptography+hashlib (timed on {m} frames, scaled)", peer_s,
                  frames, "exchange")
    results: list[Result] = []
    compare(results, Result("emulate_bytes", KERNEL,
                            f"althan-ota byte pass ({2 * installations:,} devices, bytes run - timing run)",
                            max(bytes_s - timing_s, 1e-9), frames, "exchange"), peer)
    ours_all = Result("emulate_bytes", KERNEL, "althan-ota whole bytes run (timing + byte pass)", bytes_s, frames,
                      "exchange", baseline=peer.impl, ratio=peer_s / bytes_s)
    results.append(ours_all)
    return results
