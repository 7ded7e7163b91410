"""SHA-256 over a 1 MiB firmware image: one digest per 64-byte transfer block, against the Python loop over
hashlib a user would otherwise write, and one digest of the whole image against hashlib (OpenSSL)."""

from __future__ import annotations

import hashlib

import numpy as np

from . import Result, best_time

IMAGE_SIZE = 1 << 20
BLOCK_SIZE = 64


def hashlib_per_block(image: bytes, block_size: int) -> list[bytes]:
    return [hashlib.sha256(image[i:i + block_size]).digest() for i in range(0, len(image), block_size)]


def run(quick: bool) -> list[Result]:
    from .. import _backend

    mod = _backend.native("sha256")
    image = np.random.default_rng(2024).integers(0, 256, IMAGE_SIZE, dtype=np.uint8).tobytes()
    n_blocks = IMAGE_SIZE // BLOCK_SIZE
    per_block = f"sha256 per {BLOCK_SIZE}-B block of 1 MiB"
    whole = "sha256 one-shot 1 MiB"

    peer_blocks = Result("sha256", per_block, "hashlib loop",
                         best_time(lambda: hashlib_per_block(image, BLOCK_SIZE), quick), n_blocks, "block")
    peer_whole = Result("sha256", whole, "hashlib", best_time(lambda: hashlib.sha256(image).digest(), quick),
                        IMAGE_SIZE, "B")
    results: list[Result] = [peer_blocks, peer_whole]
    before = _backend.backend()["sha256"]
    try:
        for tier in _backend.tiers()["sha256"]:
            _backend.set_backend(tier, "sha256")
            impl = f"althan-ota[{tier}]"
            blocks = Result("sha256", per_block, impl, best_time(lambda: mod.sha256_blocks(image, BLOCK_SIZE), quick),
                            n_blocks, "block")
            one = Result("sha256", whole, impl, best_time(lambda: mod.sha256(image), quick), IMAGE_SIZE, "B")
            for ours, peer in ((blocks, peer_blocks), (one, peer_whole)):
                ours.baseline, ours.ratio = peer.impl, peer.seconds / ours.seconds
                results.append(ours)
    finally:
        _backend.set_backend(before, "sha256")
    return results
