"""A planning sweep on a local Dask cluster against the same sweep in one process (same grid, same seeds).

The grid is block size {40, 64} × bridge PER {10%, 25%}, 4 seeds each (16 runs) over 5,000 installations
and a 240 KB image (quick mode: 1,000 installations, 60 KB). The cluster has one worker process with one
engine thread per core; the single process runs the engine on one thread (the like-for-like baseline) and
on every core. The cluster's start-up (a few seconds) is timed separately, not included. Each row also
gives the CPU seconds the sweep used (this process, plus every worker process for the cluster), which shows
Dask's own cost even when other jobs share the cores and blur the wall times.
"""

from __future__ import annotations

import time

from . import Result

GRID = {"block_size": [40, 64], "bridge_per": [0.10, 0.25]}
REPLICATIONS = 4


def _cpu_seconds() -> float:
    """CPU time of the calling process (a Dask worker when run through client.run)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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

    def timed(workers_cpu=lambda: 0.0, **kw) -> tuple[float, float]:
        """(best wall seconds, CPU seconds of that repeat)."""
        best = (float("inf"), float("nan"))
        for _ in range(repeats):
            cpu0, t0 = _cpu_seconds() + workers_cpu(), time.perf_counter()
            sweep(GRID, installations, image, replications=REPLICATIONS, seed=1, **kw)
            wall, cpu = time.perf_counter() - t0, _cpu_seconds() + workers_cpu() - cpu0
            best = min(best, (wall, cpu))
        return best

    kernel = f"sweep {runs} runs × {2 * installations:,} devices, {image // 1000} KB image"
    wall, cpu = timed(client="serial", engine_threads=1)
    one = Result("distributed", kernel, f"single process, engine on 1 thread (CPU {cpu:.1f} s)", wall, devices,
                 "device")
    wall, cpu = timed(client="serial", engine_threads=cores)
    every = Result("distributed", kernel, f"single process, engine on {cores} threads (CPU {cpu:.1f} s)", wall,
                   devices, "device", one.impl, one.seconds / wall)
    t0 = time.perf_counter()
    with distributed.LocalCluster(n_workers=cores, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        client.wait_for_workers(cores)
        startup = time.perf_counter() - t0
        wall, cpu = timed(client=client, workers_cpu=lambda: sum(client.run(_cpu_seconds).values()))
    dask = Result("distributed", kernel, f"Dask LocalCluster, {cores} worker processes × 1 thread (CPU {cpu:.1f} "
                  f"s; start-up {startup:.1f} s apart)", wall, devices, "device", one.impl, one.seconds / wall)
    return [one, every, dask]
