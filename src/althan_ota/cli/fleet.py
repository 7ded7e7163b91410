"""``althan-ota fleet generate|import|show``: build or import the fleet inventory and look at it."""

from __future__ import annotations

import json
from pathlib import Path

from ._io import amount, count, seed


def register(sub) -> None:
    p = sub.add_parser("fleet", help="generate, import or show a fleet inventory")
    fleet_sub = p.add_subparsers(dest="fleet_command", metavar="ACTION", required=True)

    g = fleet_sub.add_parser("generate", help="write a seeded synthetic fleet as Parquet")
    g.add_argument("--installations", type=count, default=10_000, help="P2P installations (2 bridges each)")
    g.add_argument("--seed", type=seed, default=0)
    g.add_argument("--standard-ppmids", type=amount, default=0.05,
                   help="plain PPMIDs per installation (default 0.05)")
    g.add_argument("--out", type=Path, default=Path("fleet.parquet"))
    g.add_argument("--json", action="store_true", help="print the summary as JSON")
    g.set_defaults(handler=generate)

    i = fleet_sub.add_parser("import", help="validate a CSV or Parquet extract; bad rows go to a quarantine file")
    i.add_argument("extract", type=Path)
    i.add_argument("--out", type=Path, default=Path("fleet.parquet"))
    i.add_argument("--quarantine", type=Path, help="where to write bad rows as CSV (default: beside --out)")
    i.add_argument("--json", action="store_true")
    i.set_defaults(handler=import_)

    s = fleet_sub.add_parser("show", help="summarise a fleet file")
    s.add_argument("fleet", type=Path)
    s.add_argument("--json", action="store_true")
    s.set_defaults(handler=show)


def generate(args) -> int:
    from ..fleet import generate_fleet
    from .progress import status

    with status(f"generating {args.installations:,} installations"):
        fleet = generate_fleet(args.installations, seed=args.seed, standard_ppmids=args.standard_ppmids)
        fleet.write(args.out)
    _print_summary(fleet, args.json, f"wrote {args.out}")
    return 0


def import_(args) -> int:
    import pyarrow.csv as pacsv

    from ..fleet import read_fleet
    from .progress import status

    from .._files import replacing, writable

    quarantine_path = writable(args.quarantine or args.out.with_name(args.out.stem + ".quarantine.csv"))
    writable(args.out)
    with status(f"importing {args.extract}"):
        fleet = read_fleet(args.extract)
        if fleet.quarantine.num_rows:    # first: a quarantine that cannot be written leaves no fleet behind
            with replacing(quarantine_path) as partial:
                pacsv.write_csv(fleet.quarantine, partial)
        fleet.write(args.out)
    _print_summary(fleet, args.json, f"wrote {args.out}" + (
        f"; {fleet.quarantined_lines} bad rows quarantined in {quarantine_path}" if fleet.quarantine.num_rows else ""))
    if fleet.quarantine.num_rows and not args.json:
        for row in fleet.quarantine.slice(0, 10).to_pylist():
            print(f"  line {row['line']}: {row['column'] or '-'}: {row['reason']}")
        if fleet.quarantine.num_rows > 10:
            print(f"  ... {fleet.quarantine.num_rows - 10} more in {quarantine_path}")
    return 0


def show(args) -> int:
    from ..fleet import read_fleet

    _print_summary(read_fleet(args.fleet), args.json, None)
    return 0


def _print_summary(fleet, as_json: bool, headline: str | None) -> None:
    summary = fleet.summary()
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if headline:
        console.print(headline)
    console.print(f"{summary['devices']:,} devices, {summary['installations']:,} P2P installations, "
                  f"{summary['quarantined_lines']:,} quarantined rows (source: {summary['source']})")
    for key in ("ppmid_variant", "smi_status", "join_mode", "manufacturer", "supplier", "firmware_version"):
        table = Table(title=key, show_header=False, min_width=40)
        for value, count in list(summary[key].items())[:12]:
            table.add_row(value, f"{count:,}")
        console.print(table)
