"""Per-stage wall time, CPU seconds and resident memory of a long job (``althan-ota demo --profile``).

Code marks its stages with :func:`stage`; nothing is recorded unless a :class:`StageProfile` is active, so the
marks cost one global read when nobody profiles. CPU seconds are the whole process's (user + system, every
thread: the engine's and DuckDB's included), so a stage whose CPU exceeds its wall kept more than one core
busy. Resident memory is sampled by a background thread (``/proc/self/statm``, every few milliseconds) so
a stage's peak is seen even when it is freed before the stage ends; where ``/proc`` is missing the process's
high-water mark (``getrusage``) stands in, which only ever grows.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

_active: "StageProfile | None" = None
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class StageRow:
    stage: str
    wall_s: float
    cpu_s: float
    rss_start_mb: float      # resident memory when the stage began
    rss_peak_mb: float       # the highest resident memory seen during the stage
    rss_end_mb: float

    @property
    def peak_delta_mb(self) -> float:
        return self.rss_peak_mb - self.rss_start_mb


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        # the high-water mark: kilobytes on Linux, bytes on macOS
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class StageProfile:
    """Records every :func:`stage` entered while it is active (``with StageProfile() as profile:``)."""

    def __init__(self, interval_s: float = 0.005):
        self.rows: list[StageRow] = []
        self._interval = interval_s
        self._peaks: dict[int, int] = {}       # open stage -> the highest resident memory seen in it
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None
        self._started = (0.0, 0.0)
        self.total = (0.0, 0.0)

    def __enter__(self) -> "StageProfile":
        global _active
        if _active is not None:
            raise RuntimeError("a stage profile is already active")
        self._sampler = threading.Thread(target=self._sample, name="stage-profile-rss", daemon=True)
        self._sampler.start()
        self._started = (time.perf_counter(), _cpu_s())
        _active = self
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        global _active
        _active = None
        self._stop.set()
        if self._sampler is not None:
            self._sampler.join()
        self.total = (time.perf_counter() - self._started[0], _cpu_s() - self._started[1])

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self._observe(_rss_bytes())

    def _observe(self, rss: int) -> None:
        with self._lock:
            for key, peak in self._peaks.items():
                if rss > peak:
                    self._peaks[key] = rss

    @contextlib.contextmanager
    def stage(self, name: str):
        """Stages may run at once in different threads (each sees its own peak); CPU seconds are the
        process's, so overlapping stages each count the other's."""
        rss0 = _rss_bytes()
        with self._lock:
            key, self._next = self._next, self._next + 1
            self._peaks[key] = rss0
        wall0, cpu0 = time.perf_counter(), _cpu_s()
        try:
            yield
        finally:
            wall, cpu = time.perf_counter() - wall0, _cpu_s() - cpu0
            rss = _rss_bytes()
            self._observe(rss)
            with self._lock:
                peak = self._peaks.pop(key)
            mb = 1 / 2**20
            self.rows.append(StageRow(name, wall, cpu, rss0 * mb, peak * mb, rss * mb))

    def process_peak_mb(self) -> float:
        """The process's resident high-water mark since it started (not only while profiling)."""
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return (peak if sys.platform == "darwin" else peak * 1024) / 2**20

    def table(self) -> str:
        lines = [f"{'stage':<28} {'wall s':>8} {'cpu s':>8} {'cpu/wall':>8} {'rss start MB':>12} "
                 f"{'peak MB':>9} {'peak +MB':>9} {'end MB':>9}"]
        for r in self.rows:
            ratio = r.cpu_s / r.wall_s if r.wall_s > 0 else 0.0
            lines.append(f"{r.stage:<28} {r.wall_s:>8.2f} {r.cpu_s:>8.2f} {ratio:>8.2f} {r.rss_start_mb:>12.1f} "
                         f"{r.rss_peak_mb:>9.1f} {r.peak_delta_mb:>9.1f} {r.rss_end_mb:>9.1f}")
        wall, cpu = self.total
        lines.append(f"{'total':<28} {wall:>8.2f} {cpu:>8.2f} {cpu / wall if wall else 0.0:>8.2f} "
                     f"{'':>12} {self.process_peak_mb():>9.1f}")
        return "\n".join(lines)

    def write(self, path: str | Path, **context) -> Path:
        """The stages as JSON (``context``: e.g. the scale and seed the run used)."""
        wall, cpu = self.total
        data = {**context, "total_wall_s": wall, "total_cpu_s": cpu, "process_peak_mb": self.process_peak_mb(),
                "stages": [{**asdict(r), "peak_delta_mb": r.peak_delta_mb} for r in self.rows]}
        path = Path(path)
        path.write_text(json.dumps(data, indent=2) + "\n")
        return path


def stage(name: str):
    """Mark a stage of the profiled job; a no-op unless a :class:`StageProfile` is active."""
    profile = _active
    return profile.stage(name) if profile is not None else contextlib.nullcontext()
