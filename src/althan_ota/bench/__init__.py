"""Built-in benchmarks: our kernels on every CPU tier against the peer a user would otherwise pick, in the
same run, with the ratio printed. Absolute times never pass or fail anything.

Each suite is a module of this package with ``run(quick: bool) -> list[Result]``. Peers that are not
installed are reported as missing, not silently dropped.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import asdict, dataclass
from typing import Callable

SUITES = ["checksum_crc", "sha256", "aes_mmo", "ccm", "image", "release", "frames", "emulate", "distributed",
          "emulate_bytes", "report", "idtext", "duis", "dcc", "programme", "e2e"]


@dataclass
class Result:
    suite: str
    kernel: str          # what was measured, e.g. "crc CRC-16/KERMIT 1 MiB"
    impl: str            # "althan-ota[vpclmulqdq]" or the peer's name
    seconds: float       # best time of one call
    items: float         # bytes (for GB/s) or items (frames, blocks, exchanges) per call
    unit: str            # "B" or the item's name
    baseline: str | None = None   # impl this row is compared against (the peer)
    ratio: float | None = None    # baseline seconds / our seconds (> 1: we are faster)

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else float("inf")

    def rate_text(self) -> str:
        if self.unit == "B":
            return f"{self.rate / 1e9:8.2f} GB/s"
        return f"{self.seconds / self.items * 1e9:8.1f} ns/{self.unit}"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["rate_per_s"] = self.rate
        return d


def best_time(fn: Callable[[], object], quick: bool = False, min_total: float = 0.2) -> float:
    """Best wall time of one call of ``fn`` over repeats filling about ``min_total`` seconds."""
    fn()  # warm caches, page in buffers, trigger lazy imports
    budget = 0.02 if quick else min_total
    best = float("inf")
    spent = 0.0
    runs = 0
    while runs < 3 or (spent < budget and runs < 10_000):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best = min(best, dt)
        spent += dt
        runs += 1
        if quick and runs >= 3:
            break
    return best


def compare(results: list[Result], ours: Result, peer: Result | None) -> None:
    """Append ``ours`` (and ``peer``), filling in the ratio of ours against the peer."""
    if peer is not None:
        ours.baseline = peer.impl
        ours.ratio = peer.seconds / ours.seconds
        results.append(peer)
    results.append(ours)


def run_suites(names: list[str] | None = None, quick: bool = False) -> list[Result]:
    unknown = [name for name in names or () if name not in SUITES]
    if unknown:
        from ..errors import ParameterError

        raise ParameterError(f"unknown benchmark suite(s) {', '.join(map(repr, unknown))}; known: {', '.join(SUITES)}")
    results: list[Result] = []
    for name in names or SUITES:
        results.extend(importlib.import_module(f"{__name__}.{name}").run(quick))
    return results
