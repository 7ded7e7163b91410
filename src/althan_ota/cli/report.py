"""``althan-ota report fleet|suppliers|reconcile|out-of-sync|campaign|html``: the firmware reports, as
CSV/Parquet/JSON for machines and one HTML page for people; ``--json`` prints a summary for scripts."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from ..errors import ParameterError
from ._io import amount, count


def _date(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def register(sub) -> None:
    p = sub.add_parser("report", help="fleet firmware, supplier, reconciliation, out-of-sync, campaign and HTML reports")
    rep = p.add_subparsers(dest="report_command", metavar="REPORT", required=True)

    def common(q, out_default: str, *, fleet=True, store=True, fmt=True) -> None:
        if fleet:
            q.add_argument("--fleet", type=Path, required=True,
                           help="fleet inventory: Parquet from 'althan-ota fleet', or a CSV/Parquet extract")
        if store:
            q.add_argument("--store", type=Path, help="campaign store (DuckDB file) for verified versions and causes")
        q.add_argument("--out", type=Path, default=Path(out_default), help=f"output (default {out_default})")
        if fmt:
            q.add_argument("--format", choices=("csv", "parquet", "json"),
                           help="output format (default: from --out's suffix, else csv)")
        q.add_argument("--json", action="store_true", help="print a JSON summary")

    f = rep.add_parser("fleet", help="the DCC-style report: every installed Alt HAN bridge and its firmware")
    common(f, "fleet-report.csv")
    f.add_argument("--extract-date", type=_date, help="when the inventory was extracted (last_confirmed otherwise)")
    f.set_defaults(handler=fleet)

    s = rep.add_parser("suppliers", help="the fleet report split into one file per supplier")
    common(s, "supplier-reports")
    s.add_argument("--extract-date", type=_date)
    s.set_defaults(handler=suppliers)

    r = rep.add_parser("reconcile", help="compare the fleet report, supplier reports and the AHI")
    r.add_argument("--fleet", type=Path, required=True, help="the DCC-style fleet report (CSV or Parquet)")
    r.add_argument("--ahi", type=Path, required=True, help="Alt HAN Inventory extract (CSV or Parquet)")
    r.add_argument("--suppliers", type=Path, nargs="*", default=[],
                   help="supplier reports: files, or a directory of .csv/.parquet files")
    r.add_argument("--stale-days", type=count, default=365, help="confirmed longer ago than this is stale")
    r.add_argument("--as-of", type=_date, help="the date staleness is measured from (default: now)")
    common(r, "reconciliation.csv", fleet=False, store=False)
    r.add_argument("--updates", type=Path, help="proposed AHI updates (default: ahi-updates.<format> beside --out)")
    r.set_defaults(handler=reconcile)

    o = rep.add_parser("out-of-sync", help="pairs whose two bridges run different firmware, with cause and action")
    common(o, "out-of-sync.csv")
    o.add_argument("--compat", type=Path, help="pair compatibility table (hub_version, meter_version, compatible)")
    o.set_defaults(handler=out_of_sync)

    c = rep.add_parser("campaign", help="campaign views: versions, progress, completion, airtime, failures, visits")
    c.add_argument("--store", type=Path, required=True)
    c.add_argument("--campaign", help="campaign ID (default: the one that started last)")
    c.add_argument("--visit-cost", type=amount, default=150.0, help="cost of one site visit, GBP (default 150)")
    c.add_argument("--fleet", type=Path, help="the fleet the campaign ran on, for completion by building size "
                   "(default: the fleet file the campaign was planned on, if it is still there)")
    common(c, "campaign-report", fleet=False, store=False)
    c.set_defaults(handler=campaign)

    h = rep.add_parser("html", help="one self-contained HTML page with plots")
    common(h, "report.html", fmt=False)
    h.add_argument("--extract-date", type=_date)
    h.add_argument("--ahi", type=Path, help="also reconcile with this AHI extract")
    h.add_argument("--suppliers", type=Path, nargs="*", default=[])
    h.add_argument("--stale-days", type=count, default=365)
    h.add_argument("--as-of", type=_date)
    h.add_argument("--compat", type=Path)
    h.add_argument("--campaign")
    h.add_argument("--visit-cost", type=amount, default=150.0)
    h.set_defaults(handler=html)


def _session(args):
    from ..report import Session

    session = Session(args.fleet, store=getattr(args, "store", None),
                      extract_date=getattr(args, "extract_date", None))
    _note_snapshot(session.store)
    return session


def _note_snapshot(store) -> None:
    """Say so when the store was in use by a running campaign and its snapshot was read instead."""
    if store is not None and store.snapshot_at is not None:
        print(f"althan-ota: {store.path} is in use by a running campaign; reporting from its snapshot of "
              f"{store.snapshot_at.isoformat()}", file=sys.stderr)


def _emit(args, summary: dict, lines: list[str]) -> int:
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print("\n".join(lines))
    return 0


def _counts(column) -> dict:
    import pyarrow.compute as pc

    rows = pc.value_counts(column.drop_null()).to_pylist()
    return {r["values"]: r["counts"] for r in sorted(rows, key=lambda r: (-r["counts"], str(r["values"])))}


def fleet(args) -> int:
    import pyarrow.compute as pc

    from ..report.export import format_of, write_table
    from .progress import status

    with status("building the fleet firmware report"):
        table = _session(args).fleet_report()
        out = write_table(table, args.out, args.format)
    summary = {"out": str(out), "format": format_of(out, args.format), "devices": table.num_rows,
               "status": _counts(table["status"]), "ppmid_variant": _counts(table["ppmid_variant"]),
               "confirmed_by": _counts(pc.fill_null(table["confirmed_by"], "none")),
               "firmware_version": _counts(table["firmware_version"])}
    return _emit(args, summary, [f"wrote {out}: {table.num_rows:,} Alt HAN bridges",
                                 *(f"  {k}: {v:,}" for k, v in list(summary["firmware_version"].items())[:10])])


def suppliers(args) -> int:
    from ..report.firmware import supplier_file_stem
    from ..report.export import format_of, write_table
    from .progress import status

    fmt = format_of(Path(f"x.{args.format or 'csv'}"), args.format)
    files = {}
    with status("building the supplier reports"):
        for name, table in _session(args).supplier_reports().items():
            path = write_table(table, args.out / f"{supplier_file_stem(name)}.{fmt}", fmt)
            files[name] = {"path": str(path), "devices": table.num_rows}
    return _emit(args, {"out": str(args.out), "format": fmt, "suppliers": files},
                 [f"wrote {len(files)} supplier reports to {args.out}/",
                  *(f"  {name}: {f['devices']:,} bridges -> {f['path']}" for name, f in files.items())])


def _supplier_files(paths: list[Path]) -> list[Path]:
    files = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".parquet", ".pq", ".gz"))
            if not found:   # checking no supplier at all would pass silently: say so instead
                raise ParameterError(f"{path}: no supplier reports in this folder (.csv, .csv.gz or .parquet)")
            files += found
        else:
            files.append(path)
    return files


def reconcile(args) -> int:
    from ..report.export import format_of, write_table
    from ..report.reconcile import reconcile as run
    from .progress import status

    fmt = format_of(args.out, args.format)
    updates_path = args.updates or args.out.with_name(f"ahi-updates.{fmt}")
    with status("reconciling"):
        result = run(args.fleet, args.ahi, _supplier_files(args.suppliers), stale_days=args.stale_days,
                     as_of=args.as_of)
        write_table(result.devices, args.out, fmt)
        write_table(result.updates, updates_path, format_of(updates_path, args.format))
    summary = result.summary() | {"out": str(args.out), "updates": str(updates_path)}
    return _emit(args, summary, [
        f"wrote {args.out}: {summary['devices']:,} devices; {updates_path}: {result.updates.num_rows:,} proposed AHI updates",
        *(f"  {k}: {v:,}" for k, v in summary["class"].items()),
        *(f"  missing from {k}: {v:,}" for k, v in summary["missing_from"].items())])


def out_of_sync(args) -> int:
    from ..report.out_of_sync import summarise
    from ..report.export import format_of, write_table
    from .progress import status

    with status("finding out-of-sync pairs"):
        table = _session(args).out_of_sync(args.compat)
        out = write_table(table, args.out, args.format)
    summary = summarise(table) | {"out": str(out), "format": format_of(out, args.format)}
    return _emit(args, summary, [f"wrote {out}: {table.num_rows:,} out-of-sync pairs",
                                 *(f"  {k}: {v:,}" for k, v in summary["urgency"].items()),
                                 *(f"  {k}: {v:,}" for k, v in summary["cause"].items())])


def campaign(args) -> int:
    from ..report.campaign_views import campaign_views
    from ..report.export import format_of, write_table
    from ..report.store_reader import open_store

    fmt = format_of(Path(f"x.{args.format or 'csv'}"), args.format)
    store = open_store(args.store)
    _note_snapshot(store)
    views = campaign_views(store, args.campaign, visit_cost=args.visit_cost, fleet=args.fleet)
    files = {name: str(write_table(table, args.out / f"{name}.{fmt}", fmt)) for name, table in views.tables.items()}
    from .._files import replacing

    with replacing(args.out / "summary.json") as partial:
        partial.write_text(json.dumps(views.summary, indent=2, default=str) + "\n")
    s, v = views.summary, views.summary["site_visits"]
    return _emit(args, views.summary | {"files": files}, [
        f"campaign {s['campaign_id']} ({s['name']}, {s['status']}): {s['devices']:,} devices; wrote {args.out}/",
        f"  verified {s['verified']:,}, in progress {s['in_progress']:,}, failed {s['failed']:,}, "
        f"not eligible {s['not_eligible']:,}",
        f"  site visits avoided {v['avoided']:,} (£{v['cost_avoided']:,.0f}); still needed {v['still_needed']:,}",
        *_building_lines(views.buildings)])


def _building_lines(table) -> list[str]:
    from ..report.building_sizes import non_empty

    def hours(seconds) -> str:
        return "-" if seconds is None else f"{seconds / 3600:.1f}"

    rows = non_empty(table).to_pylist()
    return ["  completion by building size (installations: buildings, median / p90 / max hours, failed share):",
            *(f"    {r['building_size']:>7}: {r['buildings']:,} buildings, {hours(r['median_s'])} / "
              f"{hours(r['p90_s'])} / {hours(r['max_s'])} h, {r['failure_share']:.1%} failed"
              + (f", {r['in_progress']:,} in progress" if r["in_progress"] else "") for r in rows)] if rows else []


def html(args) -> int:
    from ..report.html import write_html
    from ..report.reconcile import reconcile as run
    from .progress import status

    with status("building the HTML report"):
        session = _session(args)
        reconciliation = None
        if args.ahi:
            reconciliation = run(session.fleet_report(), args.ahi, _supplier_files(args.suppliers),
                                 stale_days=args.stale_days, as_of=args.as_of)
        out = write_html(args.out, session, compatibility=args.compat, reconciliation=reconciliation,
                         campaign_id=args.campaign, visit_cost=args.visit_cost)
    size = out.stat().st_size
    return _emit(args, {"out": str(out), "bytes": size}, [f"wrote {out} ({size / 1024:,.0f} KiB)"])
