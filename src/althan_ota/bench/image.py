"""Cutting a 1 MiB firmware image into 64-byte OTA transfer blocks with a CRC-32 per block: ``image.chunk``
(offsets and lengths in numpy, the CRCs by the C kernel in one call) on every CRC tier, against the Python
loop a user would write, ``zlib.crc32`` over memoryview slices."""

from __future__ import annotations

import random
import zlib

from .. import _backend
from . import Result, best_time

SUITE = "image"
IMAGE_SIZE = 1 << 20
BLOCK_SIZE = 64


def zlib_block_crcs(view: memoryview, block_size: int) -> list[int]:
    return [zlib.crc32(view[i:i + block_size]) for i in range(0, len(view), block_size)]


def run(quick: bool) -> list[Result]:
    from ..image import chunk

    data = random.Random(0).randbytes(IMAGE_SIZE)
    view = memoryview(data)
    kernel = f"image.chunk CRC-32/ISO-HDLC, {BLOCK_SIZE}-byte blocks of 1 MiB"
    blocks = IMAGE_SIZE // BLOCK_SIZE
    peer = Result(SUITE, kernel, "python loop of zlib.crc32",
                  best_time(lambda: zlib_block_crcs(view, BLOCK_SIZE), quick), blocks, "block")
    results = [peer]
    before = _backend.backend()["crc"]
    try:
        for tier in _backend.tiers()["crc"]:
            _backend.set_backend(tier, "crc")
            if [int(c) for c in chunk(data, BLOCK_SIZE).crcs] != zlib_block_crcs(view, BLOCK_SIZE):
                raise AssertionError(f"image.chunk CRCs differ from zlib on tier {tier}")
            ours = Result(SUITE, kernel, f"althan-ota[{tier}]", best_time(lambda: chunk(data, BLOCK_SIZE), quick),
                          blocks, "block", baseline=peer.impl)
            ours.ratio = peer.seconds / ours.seconds
            results.append(ours)
    finally:
        _backend.set_backend(before, "crc")
    return results
