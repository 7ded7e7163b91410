"""Monte-Carlo planning sweeps: a parameter grid × replications (seeds), emulated on Dask workers.

Each task emulates one partition of the fleet for one grid point and one seed and returns a
:class:`RunSummary` (a few kilobytes, never the device rows); a second task per (grid point, seed) merges the
partitions exactly and returns the run's METRICS; the client only assembles the tables. Every grid point
uses the same seeds (common random numbers), so differences between grid points are not seed noise.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..emulate import EmulationParams, emulate
from ..emulate.params import describe
from ..errors import ParameterError
from . import grid as grids
from . import partition
from .cluster import connect, task_token, worker_threads
from .histogram import DEFAULT_BITS, CompletionHistogram
from .shard import check_worker_version
from .stats import mean_ci
from .run_summary import METRICS, RunSummary, merge_all

SERIAL = "serial"


def partition_summary(fleet_part, image_size: int, params: EmulationParams, seed: int, first: int,
                      engine_threads: int, bits: int, version: str, building_cap: int | None = None,
                      buildings=None, channels=None) -> RunSummary:
    """Worker task: emulate one partition of one run and reduce it to its summary. ``buildings``: a code per
    installation of the partition's whole buildings (``channels``: the fleet's channel per installation, if
    it gives one). With shared air (``params.contention``) the engine is given who shares it; with
    ``building_cap`` (and no shared air) the buildings start their installations as a campaign plan's
    building_concurrency would, all requested at once in installation order."""
    check_worker_version(version)
    shared = shared_air(buildings, channels) if params.contention else None
    result = emulate(fleet_part, image_size, params, seed, n_threads=engine_threads, first_installation=first,
                     buildings=shared)
    if building_cap is None:
        return RunSummary.of(result, bits)
    return RunSummary.of(result, bits, start_s=np.repeat(held_starts(result, buildings, building_cap), 2))


def shared_air(buildings, channels):
    """What emulate() takes as ``buildings=`` for installations in whole buildings: the codes (channels then
    assigned round-robin within each building, in installation order, as emulate() does for the whole fleet)
    or, with the fleet's own channels, the assignment they give."""
    from ..emulate.buildings import ChannelAssignment

    codes = np.asarray(buildings, dtype=np.int64)
    if channels is None:
        return codes
    channels = np.asarray(channels, dtype=np.int64)
    return ChannelAssignment(codes, channels, channels.copy())


def held_starts(result, buildings, cap: int):
    """Each installation's start under the building cap: busy until both its bridges finished downloading
    (or ended without doing so), as campaign/building_places.py books a campaign's units."""
    from ..campaign.building_places import BuildingPlaces

    end = np.where(np.isfinite(result.t_download_end), result.t_download_end, result.t_end).reshape(-1, 2)
    return BuildingPlaces(cap).start_times(np.asarray(buildings), np.zeros(len(end)), end.max(axis=1))


def run_metrics(*parts: RunSummary) -> dict[str, float]:
    """Worker task: the exact merge of one run's partitions, as METRICS."""
    return merge_all(parts).metrics()


@dataclass
class SweepResult:
    """``points``: one row per grid point (each metric's mean and confidence interval across seeds);
    ``replications``: one row per grid point and seed. ``meta`` records how it was made."""

    axes: list[str]
    points: object          # pyarrow.Table
    replications: object    # pyarrow.Table
    meta: dict = field(default_factory=dict)

    def write(self, path: str | Path, which: str = "points") -> None:
        """CSV, Parquet or JSON (records), by the file's suffix."""
        from .sweep_files import write_table

        if which not in ("points", "replications"):
            raise ParameterError(f"which must be 'points' or 'replications', got {which!r}")
        write_table(getattr(self, which), path, self.meta)

    def plot(self, path: str | Path, metric: str = "completion_p90_s", x: str | None = None) -> None:
        """The metric's mean with its confidence interval against one swept parameter (PNG, SVG or PDF)."""
        from .plot import plot_points

        plot_points(self, path, metric, x)


def sweep(grid: dict, fleet, image_size: int = 240_000, params: EmulationParams | None = None,
          replications: int = 10, seed: int = 0, client=None, partitions: int | None = None,
          engine_threads: int = 1, retries: int = 2, confidence: float = 0.95,
          histogram_bits: int = DEFAULT_BITS, n_workers: int | None = None,
          progress: Callable[[int, int], object] | None = None, buildings=None) -> SweepResult:
    """Emulate ``fleet`` at every point of ``grid`` (axis name -> values, see althan_ota.distributed.grid)
    under seeds ``seed .. seed + replications - 1``.

    ``client``: a ``distributed.Client``, a scheduler address, None (a local cluster of ``n_workers``
    processes, default one per core), or ``"serial"`` (everything in this process, no Dask needed).
    ``partitions``: slices of the fleet per run (default: enough to keep every worker busy, none above
    100,000 installations); results do not depend on it. ``retries``: re-runs of a task that raised (a task
    whose worker died is rescheduled by Dask regardless). Completion-time quantiles come from merged
    histograms, within 2**-(histogram_bits + 1) of the exact value (relative); everything else is exact.
    ``progress(done, total)`` counts finished runs (grid point × seed). ``buildings``: a building code per
    installation, each building's installations contiguous (or the fleet mapping's ``building_id`` text
    column, and optionally its ``channel`` column); needed to sweep ``building_concurrency`` and for shared
    air (the ``channel`` axis, or ``params.contention``). Partitions then hold whole buildings, so results do
    not depend on them. With shared air, ``building_concurrency`` is the engine's ``building_cap`` (who
    overlaps whom changes the results); without, the cap holds each building's installations after the
    engine ran, as a campaign does.
    """
    from .. import __version__

    params = EmulationParams() if params is None else params
    if not isinstance(params, EmulationParams):
        raise ParameterError(f"params must be an EmulationParams, got {type(params).__name__}")
    axes = grids.normalize(grid)
    grid_points = grids.points(axes)
    settings = [grids.apply(point, params, image_size) for point in grid_points]
    caps = [grids.building_cap(point) for point in grid_points]
    shares_air = any(p.contention for p, _ in settings)
    for g, (p, size) in enumerate(settings):
        if p.contention and caps[g] is not None:     # the engine holds the building's units itself
            settings[g], caps[g] = (dataclasses.replace(p, building_cap=caps[g]), size), None
    n, arrays = partition.normalize_fleet(fleet)
    _check(axes, n, arrays, replications, seed, retries, histogram_bits, confidence)
    in_fleet, channels = partition.fleet_buildings(fleet, n)
    if in_fleet is not None and buildings is not None:
        raise ParameterError("give the buildings either in the fleet mapping (building_id) or as buildings=, "
                             "not both")
    buildings = _checked_buildings(in_fleet if buildings is None else buildings, n,
                                   "building_concurrency" in axes, shares_air)
    if channels is not None:
        swept = [name for name in axes if grids.target(name) in ("channel", "han_channels", "bridge_channels")]
        if swept:
            raise ParameterError(f"the fleet gives each installation's channel, so sweeping {swept[0]!r} would "
                                 "change nothing; drop the fleet's channel column or the axis")
    if partitions is not None:
        partition.bounds(n, partitions)                  # checked before a cluster is started
    for p, size in settings:                             # the engine's own checks, on the client
        emulate(partition.fleet_slice(arrays, 0, 0) if arrays else 0, size, p, seed, n_threads=engine_threads,
                buildings=np.zeros(0, np.int64) if p.contention else None)
    seeds = [seed + r for r in range(replications)]
    runs = [(g, s) for g in range(len(grid_points)) for s in seeds]

    def plan(slots: int) -> list[tuple[int, int]]:
        k = partitions if partitions is not None else partition.default_partitions(n, -(-slots // len(runs)))
        spans = partition.bounds(n, k)
        return spans if buildings is None else partition.whole_buildings(spans, buildings)

    def tasks_args(g: int, s: int, span, fleet_part):
        p, size = settings[g]
        held = ()
        if caps[g] is not None or p.contention:
            held = (caps[g], buildings[span[0]:span[1]], None if channels is None else channels[span[0]:span[1]])
        return (fleet_part, size, p, s, span[0], engine_threads, histogram_bits, __version__, *held)

    if client == SERIAL:
        if n_workers is not None:
            raise ParameterError("n_workers sizes a local Dask cluster; it means nothing with client='serial'")
        spans = plan(1)
        metrics = _in_process(runs, spans, arrays, tasks_args, progress)
    else:
        with connect(client, n_workers) as dask_client:
            spans = plan(worker_threads(dask_client))
            metrics = _on_dask(dask_client, runs, spans, arrays, tasks_args, retries, progress,
                               token=task_token(axes, arrays, image_size, params, seeds, histogram_bits, spans,
                                                buildings, channels))
    meta = {"installations": n, "devices": 2 * n, "image_size": image_size, "grid": axes, "seeds": seeds,
            "confidence": confidence, "histogram_bits": histogram_bits,
            "quantile_relative_error": 2.0 ** -(histogram_bits + 1), "partitions": len(spans),
            "params": describe(params), "per_installation_arrays": sorted(arrays)}
    return _tables(list(axes), grid_points, runs, metrics, confidence, meta)


def _check(axes: dict, n: int, arrays: dict, replications, seed, retries, histogram_bits, confidence) -> None:
    if n == 0:
        raise ParameterError("a sweep needs at least one installation")
    for name in axes:
        fixed = {"han.per": "han_per", "bridge.per": "bridge_per"}.get(grids.target(name))
        if fixed in arrays:
            raise ParameterError(f"the fleet gives {fixed} per installation, so sweeping {name!r} would change "
                                 "nothing; drop the array or the axis")
    if not isinstance(replications, int) or isinstance(replications, bool) or replications < 1:
        raise ParameterError(f"replications must be an integer >= 1, got {replications!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= 2**64 - replications:
        raise ParameterError(f"seed must be an integer with seed + replications - 1 < 2**64, got {seed!r}")
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise ParameterError(f"retries must be an integer >= 0, got {retries!r}")
    CompletionHistogram.empty(histogram_bits)            # checks the bits
    mean_ci([0.0, 1.0], confidence)                      # checks the confidence level


def _checked_buildings(buildings, n: int, capped: bool, shares_air: bool):
    if buildings is None:
        if capped:
            raise ParameterError("sweeping building_concurrency needs the installations' buildings: a fleet "
                                 "inventory with building_id (plan sweep --fleet FILE), or buildings=")
        if shares_air:
            raise ParameterError("a sweep with shared air (the channel axis, or contention=True) needs the "
                                 "installations' buildings, who shares the air: a fleet inventory with "
                                 "building_id (plan sweep --fleet FILE), a fleet mapping with building_id, or "
                                 "buildings=")
        return None
    buildings = np.asarray(buildings)
    if buildings.shape != (n,) or not np.issubdtype(buildings.dtype, np.integer):
        raise ParameterError(f"buildings must be an integer code per installation ({n}), got {buildings.shape} "
                             f"{buildings.dtype}")
    if not partition.contiguous_buildings(buildings):
        raise ParameterError("each building's installations must sit next to each other (sort the fleet by "
                             "building: distributed.inventory_links.by_building)")
    return buildings.astype(np.int64)


def _in_process(runs, spans, arrays, tasks_args, progress) -> list[dict]:
    metrics = []
    for done, (g, s) in enumerate(runs, start=1):
        parts = [partition_summary(*tasks_args(g, s, span, partition.fleet_slice(arrays, *span))) for span in spans]
        metrics.append(run_metrics(*parts))
        if progress is not None:
            progress(done, len(runs))
    return metrics


def _on_dask(client, runs, spans, arrays, tasks_args, retries: int, progress, token: str) -> list[dict]:
    from distributed import as_completed

    if arrays:   # ship each slice of the per-installation arrays once, not once per run
        fleet_parts = [{name: client.scatter(arr[a:b], hash=False) for name, arr in arrays.items()}
                       for a, b in spans]
    else:
        fleet_parts = [b - a for a, b in spans]
    futures = []
    for g, s in runs:
        parts = [client.submit(partition_summary, *tasks_args(g, s, span, fleet_part),
                               key=f"althan-sweep-part-{g}-{s}-{span[0]}-{token}", retries=retries, pure=False)
                 for span, fleet_part in zip(spans, fleet_parts)]
        futures.append(client.submit(run_metrics, *parts, key=f"althan-sweep-run-{g}-{s}-{token}",
                                     retries=retries, pure=False))
        del parts   # held by the run task only: each is released as soon as its run is merged
    if progress is not None:
        progress(0, len(futures))
        for done, _ in enumerate(as_completed(futures), start=1):
            progress(done, len(futures))
    return client.gather(futures)


def _column(values: list):
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([json.dumps(v) if not isinstance(v, str) else v for v in values])


def _tables(axes: list[str], grid_points: list[dict], runs, metrics: list[dict], confidence: float,
            meta: dict) -> SweepResult:
    import pyarrow as pa

    per_run = {name: _column([grid_points[g][name] for g, _ in runs]) for name in axes}
    per_run["seed"] = pa.array([s for _, s in runs], type=pa.uint64())
    for m in METRICS:
        per_run[m] = pa.array([row[m] for row in metrics], type=pa.float64())
    replications = pa.table(per_run)

    by_point: dict[int, list[dict]] = {}
    for (g, _), row in zip(runs, metrics):
        by_point.setdefault(g, []).append(row)
    points = {name: _column([point[name] for point in grid_points]) for name in axes}
    points["replications"] = pa.array([len(by_point[g]) for g in range(len(grid_points))], type=pa.int64())
    for m in METRICS:
        stats = [mean_ci([row[m] for row in by_point[g]], confidence) for g in range(len(grid_points))]
        points[f"{m}_mean"] = pa.array([st[0] for st in stats], type=pa.float64())
        points[f"{m}_ci_low"] = pa.array([st[1] for st in stats], type=pa.float64())
        points[f"{m}_ci_high"] = pa.array([st[2] for st in stats], type=pa.float64())
        if m.startswith("completion_"):   # runs where nothing completed have no quantile
            points[f"{m}_runs"] = pa.array([st[3] for st in stats], type=pa.int64())
    return SweepResult(axes, pa.table(points), replications, meta)

