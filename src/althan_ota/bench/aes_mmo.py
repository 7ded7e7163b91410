"""AES-MMO over 1 MiB (the ZigBee OTA image integrity code) on every AES tier, against the pure-Python
Matyas-Meyer-Oseas a user would otherwise write on cryptography's AES-ECB (one cipher object per block,
since every block has a new key)."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from . import Result, best_time
from .. import _backend


def mmo_pad(data: bytes) -> bytes:
    """ZigBee spec 05-3474 B.6 padding: 0x80, zeros, then a 16-bit bit length (below 2**16 bits) or a
    32-bit bit length followed by two zero bytes."""
    bits = 8 * len(data)
    trailer = bits.to_bytes(2, "big") if bits < 1 << 16 else bits.to_bytes(4, "big") + b"\0\0"
    padded = data + b"\x80"
    return padded + b"\0" * (-(len(padded) + len(trailer)) % 16) + trailer


def aes_mmo_python(data) -> bytes:
    """Pure-Python AES-MMO on cryptography; also the tests' independent reference."""
    h = bytes(16)
    padded = mmo_pad(bytes(data))
    for i in range(0, len(padded), 16):
        m = padded[i:i + 16]
        e = Cipher(algorithms.AES(h), modes.ECB()).encryptor().update(m)
        h = (int.from_bytes(e, "big") ^ int.from_bytes(m, "big")).to_bytes(16, "big")
    return h


def run(quick: bool) -> list[Result]:
    size = 1 << 20
    data = os.urandom(size)
    aes = _backend.native("aes")
    # The Python peer manages a few MB/s: time it on 1/64 of the input and scale by bytes.
    peer_part = data[: size // 64]
    peer_t = best_time(lambda: aes_mmo_python(peer_part), quick) * 64
    peer = Result("aes_mmo", "AES-MMO 1 MiB", "python+cryptography", peer_t, size, "B")
    results = [peer]
    before = _backend.backend()["aes"]
    try:
        for tier in _backend.tiers()["aes"]:
            _backend.set_backend(tier, "aes")
            t = best_time(lambda: aes.aes_mmo(data), quick)
            results.append(Result("aes_mmo", "AES-MMO 1 MiB", f"althan-ota[{tier}]", t, size, "B",
                                  baseline=peer.impl, ratio=peer_t / t))
    finally:
        _backend.set_backend(before, "aes")
    return results
