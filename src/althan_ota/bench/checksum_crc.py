"""CRC family: one 1 MiB buffer per algorithm and 64-byte blocks of a 1 MiB image, on every CPU tier, against
fastcrc (CRC-16s), isal and zlib (CRC-32), the crc32c package (CRC-32C), and a Python loop of fastcrc calls
(blocks). Each of our rows is compared with the first peer listed for its kernel."""

from __future__ import annotations

import importlib
import os

from .. import _backend
from ..checksum import CRC_ALGORITHMS, crc, crc_blocks
from . import Result, best_time

SUITE = "checksum_crc"
MIB = 1 << 20
BLOCK = 64

# algorithm -> peers as (name, module, function); the first is the one to beat. An algorithm without a peer
# here is still measured, without a ratio.
PEERS = {
    "CRC-16/KERMIT": [("fastcrc", "fastcrc.crc16", "kermit")],
    "CRC-16/EN-13757": [("fastcrc", "fastcrc.crc16", "en_13757")],
    "CRC-16/IBM-SDLC": [("fastcrc", "fastcrc.crc16", "ibm_sdlc")],
    "CRC-16/XMODEM": [("fastcrc", "fastcrc.crc16", "xmodem")],
    "CRC-32/ISO-HDLC": [("isal", "isal.isal_zlib", "crc32"), ("zlib", "zlib", "crc32")],
    "CRC-32/ISCSI": [("crc32c", "crc32c", "crc32c")],
}


def _peer_function(module: str, attr: str):
    try:
        return getattr(importlib.import_module(module), attr)
    except ImportError:
        return None


def _measure(kernel: str, impl: str, fn, items: float, unit: str, quick: bool) -> Result:
    if fn is None:
        return Result(SUITE, kernel, f"{impl} (not installed)", float("inf"), items, unit)
    return Result(SUITE, kernel, impl, best_time(fn, quick), items, unit)


def _ours_on_every_tier(kernel: str, fn, items: float, unit: str, baseline: Result | None, quick: bool):
    rows = []
    for tier in _backend.tiers()["crc"]:
        _backend.set_backend(tier, "crc")
        row = _measure(kernel, f"althan-ota[{tier}]", fn, items, unit, quick)
        if baseline is not None and baseline.seconds != float("inf"):
            row.baseline, row.ratio = baseline.impl, baseline.seconds / row.seconds
        rows.append(row)
    return rows


def run(quick: bool) -> list[Result]:
    before = _backend.backend()["crc"]
    data = os.urandom(MIB)
    results: list[Result] = []
    try:
        for name in CRC_ALGORITHMS:
            kernel = f"crc {name} 1 MiB"
            peers = [_measure(kernel, peer, (lambda f: None if f is None else lambda: f(data))(
                              _peer_function(module, attr)), MIB, "B", quick)
                     for peer, module, attr in PEERS.get(name, [])]
            results.extend(peers)
            results.extend(_ours_on_every_tier(kernel, lambda: crc(data, name), MIB, "B", peers[0] if peers else None,
                                               quick))

        kernel = f"crc_blocks CRC-16/KERMIT, {BLOCK}-byte blocks of 1 MiB"
        kermit = _peer_function("fastcrc.crc16", "kermit")
        loop = _measure(kernel, "python loop of fastcrc.crc16.kermit",
                        None if kermit is None else lambda: [kermit(data[i:i + BLOCK]) for i in range(0, MIB, BLOCK)],
                        MIB // BLOCK, "block", quick)
        results.append(loop)
        results.extend(_ours_on_every_tier(kernel, lambda: crc_blocks(data, BLOCK, "CRC-16/KERMIT"), MIB // BLOCK,
                                           "block", loop, quick))
    finally:
        _backend.set_backend(before, "crc")
    return results
