"""``althan-ota plan sweep``: a parameter grid × seeds emulated on Dask, summarized per grid point;
``althan-ota plan block``: a block of flats' completion time against the per-building concurrency cap."""

from __future__ import annotations

import json
import math

from ..errors import ParameterError
from ._io import count, number_in, positive, seed


def register(sub) -> None:
    p = sub.add_parser("plan", help="plan campaigns: Monte-Carlo sweeps of the emulator over a parameter grid")
    actions = p.add_subparsers(dest="plan_action", metavar="ACTION")
    s = actions.add_parser(
        "sweep", help="emulate a grid of choices under many seeds (on Dask) and tabulate the spread",
        description="Emulate every point of a parameter grid under --replications seeds and report, per "
                    "point, completion-time quantiles, airtime, duty-cycle waits and outcome rates with their "
                    "mean and confidence interval across seeds. Axes: image_size, band, block_size, "
                    "min_block_period, pair_order, ch_concurrency, han_per, bridge_per, duty_cycle, "
                    "bridge_bit_rate, channel (channels per building: shared air, needs --fleet), "
                    "building_concurrency (installations of one building downloading at once; needs --fleet), or "
                    "any dotted path "
                    "into EmulationParams (e.g. bridge.per_concentration).")
    s.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2,...",
                   help="one axis of the grid (repeat for more axes)")
    s.add_argument("--grid-file", metavar="FILE", help="JSON (or YAML) mapping of axis name to values")
    fleet = s.add_mutually_exclusive_group()
    fleet.add_argument("--installations", type=positive, default=10_000,
                       help="installations (two bridges each) on the parameters' link PERs (default 10000)")
    fleet.add_argument("--fleet", metavar="FILE", help="an inventory (althan-ota fleet generate / import): its "
                       "P2P installations with their own han_per and bridge_per")
    s.add_argument("--image-size", type=positive, default=240_000, help="image bytes unless swept (default 240000)")
    s.add_argument("--replications", type=positive, default=10, help="seeds per grid point (default 10)")
    s.add_argument("--seed", type=seed, default=0, help="first seed (default 0)")
    where = s.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://host:8786")
    where.add_argument("--workers", type=positive, help="size of the local cluster (default: one per core)")
    where.add_argument("--serial", action="store_true", help="run in this process, without Dask")
    s.add_argument("--partitions", type=positive, help="fleet slices per run (default: automatic)")
    s.add_argument("--engine-threads", type=positive, default=1, help="engine threads per task (default 1)")
    s.add_argument("--retries", type=count, default=2, help="re-runs of a failing task (default 2)")
    s.add_argument("--confidence", type=number_in(0.0, 1.0, below_maximum=True), default=0.95, help="confidence level (default 0.95)")
    s.add_argument("--out", metavar="FILE", help="per-point table: .csv, .parquet or .json")
    s.add_argument("--per-seed", metavar="FILE", help="per-point-and-seed table: .csv, .parquet or .json")
    s.add_argument("--plot", metavar="FILE", help="plot a metric against a swept parameter: .png, .svg, .pdf")
    s.add_argument("--plot-metric", default="completion_p90_s", help="metric to plot (default completion_p90_s)")
    s.add_argument("--plot-x", metavar="AXIS", help="axis on the x axis (default: the first with 2+ values)")
    s.add_argument("--json", action="store_true", help="print the per-point table as JSON")
    s.set_defaults(handler=run_sweep)

    b = actions.add_parser(
        "block", help="a block of flats: its completion time against the per-building concurrency cap",
        description="Dry-run a campaign over one building of --flats installations at each --concurrency cap "
                    "(and, with the contention engine, each --channels count per building) under --seeds seeds, "
                    "and tabulate the block's completion time (first request to last device final).")
    b.add_argument("--flats", type=positive, default=200, help="installations in the building (default 200)")
    b.add_argument("--concurrency", type=_caps, default=[1, 5, 20, None], metavar="N1,N2,...",
                   help="caps to compare; 'none' for no cap (default 1,5,20,none)")
    b.add_argument("--channels", type=_counts, default=[None], metavar="C1,C2,...",
                   help="channels per building on each link; turns contention on (needs the contention engine)")
    b.add_argument("--image-size", type=positive, default=240_000, help="image bytes (default 240000)")
    b.add_argument("--seeds", type=positive, default=3, help="seeds per row (default 3)")
    b.add_argument("--seed", type=seed, default=0, help="first seed (default 0)")
    b.add_argument("--out", metavar="FILE", help="the table: .csv, .parquet or .json")
    b.add_argument("--json", action="store_true", help="print the table as JSON")
    b.set_defaults(handler=run_block)
    p.set_defaults(handler=lambda args: (p.print_help(), 2)[1])


def _grid(args) -> dict:
    from ..distributed.grid import load_grid_file, parse_flag

    grid = load_grid_file(args.grid_file) if args.grid_file else {}
    for flag in args.grid:
        name, values = parse_flag(flag)
        if name in grid:
            raise ParameterError(f"grid axis {name!r} is given twice")
        grid[name] = values
    if not grid:
        raise ParameterError("give at least one grid axis: --grid NAME=V1,V2,... or --grid-file FILE")
    return grid


def _check_outputs(args, grid: dict) -> None:
    """Output names are checked before the sweep runs, not after."""
    from pathlib import Path

    from ..distributed.sweep_files import FORMATS
    from ..distributed.plot import PLOT_FORMATS
    from ..distributed.run_summary import METRICS

    for flag, name, formats in (("--out", args.out, FORMATS), ("--per-seed", args.per_seed, FORMATS),
                                ("--plot", args.plot, PLOT_FORMATS)):
        if name and Path(name).suffix.lower() not in formats:
            raise ParameterError(f"{flag} {name!r}: the suffix gives the format, one of {', '.join(formats)}")
    if args.plot and args.plot_metric not in METRICS:
        raise ParameterError(f"--plot-metric {args.plot_metric!r} is not one of {list(METRICS)}")
    if args.plot and args.plot_x is not None and args.plot_x not in grid:
        raise ParameterError(f"--plot-x {args.plot_x!r} is not a grid axis; axes: {list(grid)}")


def _caps(text: str) -> list[int | None]:
    import argparse

    values = []
    for part in text.split(","):
        part = part.strip().lower()
        if part in ("none", "null"):
            values.append(None)
        elif part.isdigit() and int(part) >= 1:
            values.append(int(part))
        else:
            raise argparse.ArgumentTypeError(f"expected whole numbers >= 1 or 'none', comma-separated, got {text!r}")
    return values


def _counts(text: str) -> list[int]:
    import argparse

    values = _caps(text)
    if None in values:
        raise argparse.ArgumentTypeError(f"expected whole numbers >= 1, comma-separated, got {text!r}")
    return values


def run_block(args) -> int:
    from pathlib import Path

    from ..distributed.block import plan_block
    from ..distributed.sweep_files import FORMATS, write_table

    if args.out and Path(args.out).suffix.lower() not in FORMATS:       # before the work, not after
        raise ParameterError(f"--out {args.out!r}: the suffix gives the format, one of {', '.join(FORMATS)}")
    table = plan_block(args.flats, args.concurrency, args.channels, image_size=args.image_size, seeds=args.seeds,
                       seed=args.seed)
    if args.out:
        write_table(table, args.out, {"flats": args.flats, "image_size": args.image_size})
    if args.json:
        print(json.dumps(table.to_pylist(), indent=1))
        return 0
    print(f"a block of {args.flats} flats, {args.image_size:,}-byte image, {args.seeds} seed(s): "
          "block completion hours (median [min, max]), devices' p90 hours, failed share")
    for r in table.to_pylist():
        cap = "no cap" if r["building_concurrency"] is None else f"{r['building_concurrency']} at once"
        channels = "" if r["channels"] is None else f", {r['channels']} channel(s)"
        print(f"  {cap:>12}{channels}: {r['block_median_s'] / 3600:8.2f} [{r['block_min_s'] / 3600:.2f}, "
              f"{r['block_max_s'] / 3600:.2f}]  p90 {r['device_p90_s'] / 3600:.2f}  failed {r['failure_share']:.1%}")
    return 0


def run_sweep(args) -> int:
    from rich.progress import Progress

    from ..distributed import sweep

    grid = _grid(args)
    _check_outputs(args, grid)
    client = "serial" if args.serial else args.scheduler
    fleet = args.installations
    buildings = None
    if args.fleet:
        from ..distributed.inventory_links import by_building, installation_buildings, link_arrays
        from ..fleet import read_fleet

        inventory = read_fleet(args.fleet)
        fleet, filled = link_arrays(inventory)
        for name, k in filled.items():
            if k:
                print(f"{args.fleet}: {k:,} installations have no {name}; using the default link PER")
        if _needs_buildings(grid):       # a building's installations go to one worker, together
            fleet, buildings = by_building(fleet, installation_buildings(inventory))
    with Progress(transient=True) as bar:
        task = bar.add_task("sweeping", total=None)
        result = sweep(grid, fleet, args.image_size, replications=args.replications, seed=args.seed,
                       client=client, partitions=args.partitions, engine_threads=args.engine_threads,
                       retries=args.retries, confidence=args.confidence, n_workers=args.workers,
                       progress=lambda done, total: bar.update(task, completed=done, total=total),
                       buildings=buildings)
    if args.out:
        result.write(args.out)
    if args.per_seed:
        result.write(args.per_seed, "replications")
    if args.plot:
        result.plot(args.plot, args.plot_metric, args.plot_x)
    if args.json:
        rows = [{k: None if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
                for row in result.points.to_pylist()]
        print(json.dumps(rows, indent=1))
    else:
        _print(result)
    return 0


def _needs_buildings(grid: dict) -> bool:
    """Whether the sweep caps buildings or shares the air (some axis sets the contention engine's fields): the
    installations are then grouped by building. Otherwise not, as grouping reorders them."""
    from ..distributed.grid import CHANNEL_FIELDS, target

    return any(target(name) in ("building_concurrency", "channel", *CHANNEL_FIELDS) for name in grid)


def _print(result) -> None:
    from rich.console import Console
    from rich.table import Table

    meta = result.meta
    table = Table(title=f"{meta['installations']:,} installations × {len(meta['seeds'])} seeds per point "
                        f"(mean [{meta['confidence']:.0%} CI])", title_justify="left")
    for axis in result.axes:
        table.add_column(axis)
    for head in ("completion p50 h", "completion p90 h", "completion p99 h", "completed",
                 "bridge airtime h", "dc wait h"):
        table.add_column(head, justify="right")

    def interval(row, m, scale=3600.0, fmt="{:.2f}"):
        mean, lo, hi = (row[f"{m}_{k}"] for k in ("mean", "ci_low", "ci_high"))
        if math.isnan(lo):
            return fmt.format(mean / scale)
        return f"{fmt.format(mean / scale)} [{fmt.format(lo / scale)}, {fmt.format(hi / scale)}]"

    for row in result.points.to_pylist():
        table.add_row(*(str(row[a]) for a in result.axes),
                      interval(row, "completion_p50_s"), interval(row, "completion_p90_s"),
                      interval(row, "completion_p99_s"), f"{row['completed_rate_mean']:.2%}",
                      f"{row['airtime_bridge_s_mean'] / 3600:,.0f}", f"{row['dc_wait_s_mean'] / 3600:,.0f}")
    Console(width=160).print(table)
