"""A planning sweep on a local Dask cluster against the same sweep in one process (same grid, same seeds).

The grid is block size {40, 64} × bridge PER {10%, 25%}, 4 seeds each (16 runs) over 5,000 installations
and a 240 KB image (quick mode: 1,000 installations, 60 KB). The cluster has one worker process with one
engine thread per core; the single process runs the engine on one thread (the like-for-like baseline) and
on every core. The cluster's start-up (a few seconds) is timed separately, not included.
"""

from __future__ import annotations

import time

from . import Result

GRID = {"block_size": [40, 64], "bridge_per": [0.10, 0.25]}
REPLICATIONS = 4


def _once(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run(quick: bool) -> list[Result]:
    try:
        import distributed
    except ImportError:
        return [Result("distributed", "sweep", "dask.distributed (missing: pip install 'althan-ota[distributed]')",
                       float("nan"), 1, "device")]
    from ..distributed import sweep
    from ..distributed.cluster import machine_cores

    installations, image = (1_000, 60_000) if quick else (5_000, 240_000)
    cores = machine_cores()
    runs = len(GRID["block_size"]) * len(GRID["bridge_per"]) * REPLICATIONS
    devices = runs * 2 * installations
    repeats = 1 if quick else 2

    def timed(**kw) -> float:
        return min(_once(lambda: sweep(GRID, installations, image, replications=REPLICATIONS, seed=1, **kw))
                   for _ in range(repeats))

    kernel = f"sweep {runs} runs × {2 * installations:,} devices, {image // 1000} KB image"
    one = Result("distributed", kernel, "single process, engine on 1 thread",
                 timed(client="serial", engine_threads=1), devices, "device")
    every = Result("distributed", kernel, f"single process, engine on {cores} threads",
                   timed(client="serial", engine_threads=cores), devices, "device", one.impl)
    every.ratio = one.seconds / every.seconds
    t0 = time.perf_counter()
    with distributed.LocalCluster(n_workers=cores, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        client.wait_for_workers(cores)
        startup = time.perf_counter() - t0
        dask = Result("distributed", kernel,
                      f"Dask LocalCluster, {cores} worker processes × 1 thread (start-up {startup:.1f} s apart)",
                      timed(client=client), devices, "device", one.impl)
    dask.ratio = one.seconds / dask.seconds
    return [one, every, dask]
