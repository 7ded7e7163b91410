"""``emulate_distributed()``: one emulation split across Dask workers, combined into the single-run result."""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..emulate import DEVICE_COLUMNS, MAX_BLOCK, EmulationParams, EmulationResult, emulate
from ..emulate.buildings import NO_BUILDING, ChannelAssignment
from ..errors import ParameterError
from . import partition
from .cluster import connect, task_token, worker_threads

INSTALLATION_COLUMNS = ("han_per", "bridge_per")


def check_worker_version(expected: str) -> None:
    """Raised on a worker whose althan-ota differs from the client's: its numbers could differ too."""
    from .. import __version__

    if __version__ != expected:
        raise ParameterError(f"this Dask worker runs althan-ota {__version__}, the client {expected}: install "
                             "the same version on every worker")


def emulate_partition(fleet_part, image_size: int, params: EmulationParams, seed: int, first: int,
                      n_threads: int, version: str, keys=None, shared=None) -> dict[str, np.ndarray]:
    """Worker task: the columns of installations first .. first + len - 1 (or, with shared air, of the
    installations ``keys``, whole buildings, ``shared`` their ChannelAssignment)."""
    check_worker_version(version)
    result = emulate(fleet_part, image_size, params, seed, n_threads=n_threads, first_installation=first,
                     installation_keys=keys, buildings=shared)
    return {name: getattr(result, name) for name in (*DEVICE_COLUMNS, *INSTALLATION_COLUMNS)}


def emulate_distributed(fleet, image_size: int, params: EmulationParams | None = None, seed: int = 0,
                        client=None, partitions: int | None = None, engine_threads: int = 1,
                        first_installation: int = 0, retries: int = 2,
                        progress: Callable[[int, int], object] | None = None, buildings=None) -> EmulationResult:
    """:func:`althan_ota.emulate.emulate` on a Dask cluster; the result is identical, column for column and bit
    for bit, whatever the number of partitions or workers.

    ``client``: a ``distributed.Client``, a scheduler address (``"tcp://host:8786"``), or None for a local
    cluster with one worker process per core (see :func:`althan_ota.distributed.cluster.connect`).
    ``partitions``: how many contiguous slices of installations to emulate as separate tasks (default: one
    per worker thread, and none above 100,000 installations). ``engine_threads``: engine threads per task
    (1 fits workers with one thread each). ``retries``: how often Dask re-runs a task that raised; a task
    whose worker died is rescheduled by Dask regardless. ``progress(done, total)`` counts partitions.
    With shared air (``params.contention``), who shares it comes as emulate() takes it (the fleet mapping's
    ``building_id`` and ``channel``, or ``buildings=``); a partition then holds whole buildings (a building's
    installations need not be contiguous: each task is given its installations' keys).
    """
    from .. import __version__
    from ..emulate.engine import _assignment

    params = EmulationParams() if params is None else params
    n, arrays = partition.normalize_fleet(fleet)
    # validates every argument on the client, before any task is sent
    if not isinstance(params, EmulationParams):
        raise ParameterError(f"params must be an EmulationParams, got {type(params).__name__}")
    params.validate(MAX_BLOCK)
    assignment = _assignment(buildings, fleet, n, params)
    nothing = emulate(partition.fleet_slice(arrays, 0, 0) if arrays else 0, image_size, params, seed,
                      n_threads=engine_threads, first_installation=first_installation,
                      buildings=None if assignment is None else np.zeros(0, np.int64))
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise ParameterError(f"retries must be an integer >= 0, got {retries!r}")
    if n == 0:
        return nothing
    if partitions is not None:
        partition.bounds(n, partitions)                  # checked before a cluster is started
    order = None
    if assignment is not None:      # whole buildings per task: the installations sorted by building
        order, codes = _by_building(assignment.building)
    with connect(client) as dask_client:
        token = task_token(arrays, image_size, params, seed, assignment)
        k = partitions if partitions is not None else partition.default_partitions(n, worker_threads(dask_client))
        spans = partition.bounds(n, k)
        if order is not None:
            spans = partition.whole_buildings(spans, codes)

        def task_inputs(a: int, b: int) -> tuple:
            if order is None:
                return partition.fleet_slice(arrays, a, b), None, None
            rows = order[a:b]
            shared = ChannelAssignment(assignment.building[rows], assignment.han_channel[rows],
                                       assignment.bridge_channel[rows])
            part = {name: arr[rows] for name, arr in arrays.items()} if arrays else b - a
            return part, (first_installation + rows).astype(np.uint64), shared

        futures = []
        for a, b in spans:
            part, keys, shared = task_inputs(a, b)
            futures.append(dask_client.submit(emulate_partition, part, int(image_size), params, int(seed),
                                              int(first_installation) + a, engine_threads, __version__, keys,
                                              shared, key=f"althan-emulate-{first_installation + a}-"
                                              f"{first_installation + b}-{token}", retries=retries, pure=False))
        parts = _gather(dask_client, futures, progress)
    names = (*DEVICE_COLUMNS, *INSTALLATION_COLUMNS)
    columns = {name: np.concatenate([p[name] for p in parts]) for name in names}
    if order is not None:           # back to the fleet's order
        device_rows = (2 * order[:, None] + np.arange(2)).ravel()
        for name in names:
            back = np.empty_like(columns[name])
            back[device_rows if name in DEVICE_COLUMNS else order] = columns[name]
            columns[name] = back
    return EmulationResult(columns, first_installation=int(first_installation), image_size=int(image_size),
                           params=params, seed=int(seed))


def _by_building(building: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the installations sorted by building, stable; each one's building code in that order, an
    installation without a building having a code of its own, so it may go to any partition)."""
    codes = building.astype(np.int64, copy=True)
    alone = codes == NO_BUILDING
    codes[alone] = codes.max(initial=-1) + 1 + np.arange(int(alone.sum()))
    order = np.argsort(codes, kind="stable")
    return order, codes[order]


def _gather(client, futures: list, progress) -> list:
    """Results in submission order, reporting progress as tasks finish."""
    from distributed import as_completed

    if progress is not None:
        progress(0, len(futures))
        for done, _ in enumerate(as_completed(futures), start=1):
            progress(done, len(futures))
    return client.gather(futures)
