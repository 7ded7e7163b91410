"""Cutting a 1 MiB firmware image into 64-byte OTA transfer blocks with a CRC-32 per block: ``image.chunk``
(offsets and lengths in numpy, CRCs by the C kernel in one call) against the Python loop a user would
write, ``zlib.crc32`` over memoryview slices."""

from __future__ import annotations

import random
import zlib

from . import Result, best_time, compare

IMAGE_SIZE = 1 << 20
BLOCK_SIZE = 64


def zlib_block_crcs(view: memoryview, block_size: int) -> list[int]:
    return [zlib.crc32(view[i:i + block_size]) for i in range(0, len(view), block_size)]


def _tier() -> str:
    from .. import _backend, checksum

    if getattr(checksum, "crc_blocks", None) is None:
        return "zlib fallback"
    return _backend.native("crc").get_tier() if "crc" in _backend.FAMILIES else "native"


def run(quick: bool) -> list[Result]:
    from ..image import chunk

    data = random.Random(0).randbytes(IMAGE_SIZE)
    view = memoryview(data)
    kernel = f"image.chunk CRC-32/ISO-HDLC {BLOCK_SIZE} B blocks, 1 MiB"
    assert [int(c) for c in chunk(data, BLOCK_SIZE).crcs] == zlib_block_crcs(view, BLOCK_SIZE)
    ours = Result("image", kernel, f"althan-ota[{_tier()}]",
                  best_time(lambda: chunk(data, BLOCK_SIZE), quick), IMAGE_SIZE, "B")
    peer = Result("image", kernel, "zlib.crc32 loop", best_time(lambda: zlib_block_crcs(view, BLOCK_SIZE), quick),
                  IMAGE_SIZE, "B")
    results: list[Result] = []
    compare(results, ours, peer)
    return results
