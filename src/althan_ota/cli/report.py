"""``althan-ota report fleet|suppliers|reconcile|out-of-sync|campaign|programme|history|work-lists|smi-hygiene|business-case|html``: the firmware reports, as
CSV/Parquet/JSON for machines and one HTML page for people; ``--json`` prints a summary for scripts."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from ..errors import ParameterError
from ._io import amount, count, fraction, integer_in, positive


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
    f.add_argument("--snapshot", type=Path, metavar="HISTORY", help="also keep the report as the month's snapshot "
                   "in this history folder (the month of --extract-date, else this month): see 'report history'")
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
    r.add_argument("--snapshot", type=Path, metavar="HISTORY", help="also keep the proposed AHI updates as the "
                   "month's in this history folder (the month of --as-of, else this month)")
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

    g = rep.add_parser("programme", help="every campaign of the stores per supplier, manufacturer/model and month")
    g.add_argument("stores", type=Path, nargs="+", metavar="STORE", help="campaign stores (DuckDB files)")
    g.add_argument("--fleet", type=Path, help="the latest fleet extract: who supplies each device now (default: "
                   "the fleet file each campaign was planned on)")
    g.add_argument("--visit-cost", type=amount, default=150.0, help="cost of one site visit, GBP (default 150)")
    common(g, "programme-report", fleet=False, store=False)
    g.set_defaults(handler=programme)

    w = rep.add_parser("work-lists", help="one file per supplier of devices to investigate, with reason and action")
    common(w, "work-lists")
    w.add_argument("--compat", type=Path, help="pair compatibility table (hub_version, meter_version, compatible)")
    w.add_argument("--ahi", type=Path, help="also reconcile with this AHI extract")
    w.add_argument("--suppliers", type=Path, nargs="*", default=[], help="supplier reports for the reconciliation")
    w.add_argument("--stale-days", type=count, default=365)
    w.add_argument("--as-of", type=_date)
    w.add_argument("--extract-date", type=_date)
    w.set_defaults(handler=work_lists)

    m = rep.add_parser("smi-hygiene", help="per supplier: SMI amendments, 12.2 pre-notifications, site visits")
    m.add_argument("--smi", type=Path, required=True, help="SMI extract (CSV or Parquet; the fleet report's columns)")
    m.add_argument("--release", type=Path, action="append", default=[],
                   help="release bundle whose images name known Alt HAN bridge models (repeatable)")
    m.add_argument("--cpl", type=Path, action="append", default=[], help="CPL entries (JSON or CSV; repeatable)")
    m.add_argument("--visit-cost", type=amount, default=150.0, help="cost of one site visit, GBP (default 150)")
    m.add_argument("--duis", action="store_true", help="also write each pre-notification as an SRV 12.2 DUIS "
                   "request (unsigned; sign with 'althan-ota duis sign'): needs --user-id, --target and counters")
    m.add_argument("--user-id", help="--duis: your DCC user ID (EUI-64)")
    m.add_argument("--target", help="--duis: the DSP's EUI-64")
    counters = m.add_mutually_exclusive_group()
    counters.add_argument("--first-counter", type=integer_in(1, 2 ** 64 - 1),
                          help="--duis: the first originator counter (one more per request)")
    counters.add_argument("--counter-store", type=Path, help="--duis: campaign store that keeps your originator "
                          "counters: the next ones are taken from it")
    common(m, "smi-hygiene", fleet=False, store=False)
    m.set_defaults(handler=smi_hygiene)

    from ..report.business_case import DEFAULTS, SHARES

    b = rep.add_parser("business-case", help="OTA costs against visits and replacements avoided; break-even")
    b.add_argument("--fleet", type=Path, help="fleet inventory: counts the premises with installed Alt HAN bridges "
                   "and their suppliers")
    b.add_argument("--premises", type=positive, help="premises with Alt HAN bridges (instead of --fleet)")
    b.add_argument("--suppliers", type=positive, help="energy suppliers (instead of --fleet)")
    for name, figure in DEFAULTS.items():
        b.add_argument(f"--{name.replace('_', '-')}", type=fraction if name in SHARES else amount, dest=name,
                       help=f"{figure.unit} (default {figure.value:g}: {figure.source})")
    b.add_argument("--out", type=Path, default=Path("business-case"), help="output folder (default business-case)")
    b.add_argument("--json", action="store_true", help="print a JSON summary")
    b.set_defaults(handler=business_case)

    y = rep.add_parser("history", help="month on month from the snapshots: deltas, out-of-sync ages, AHI updates")
    y.add_argument("history", type=Path, metavar="HISTORY", help="the folder 'report fleet --snapshot' writes")
    common(y, "history-report", fleet=False, store=False)
    y.set_defaults(handler=history)

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
    h.add_argument("--programme", type=Path, action="append", default=[], metavar="STORE",
                   help="add the programme section over these campaign stores (repeatable; see 'report programme')")
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
        if args.snapshot:
            from ..report.history import append_snapshot, month_of

            append_snapshot(args.snapshot, "fleet", table, month_of(args.extract_date))
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


def _optional_reconciliation(args, session):
    """The reconciliation of the session's fleet report with --ahi and --supplier-report files, or None
    without --ahi (work-lists and the HTML page take it when given)."""
    if not args.ahi:
        return None
    from ..report.reconcile import reconcile as run

    return run(session.fleet_report(), args.ahi, _supplier_files(args.suppliers), stale_days=args.stale_days,
               as_of=args.as_of)


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
        if args.snapshot:
            from ..report.history import append_snapshot, month_of

            append_snapshot(args.snapshot, "ahi_updates", result.updates, month_of(args.as_of))
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


def programme(args) -> int:
    from .._files import replacing
    from ..report.export import format_of, write_table
    from ..report.programme import programme_views
    from .progress import status

    fmt = format_of(Path(f"x.{args.format or 'csv'}"), args.format)
    with status("building the programme view"):
        views = programme_views(args.stores, args.fleet, visit_cost=args.visit_cost)
        files = {name: str(write_table(table, args.out / f"{name}.{fmt}", fmt)) for name, table in views.tables.items()}
        with replacing(args.out / "summary.json") as partial:
            partial.write_text(json.dumps(views.summary, indent=2, default=str) + "\n")
    s = views.summary
    return _emit(args, s | {"out": str(args.out), "files": files}, [
        f"programme: {s['campaigns']} campaign(s) in {len(s['stores'])} store(s), {s['targeted']:,} devices "
        f"targeted; wrote {args.out}/",
        *(f"  {row['supplier']}: targeted {row['targeted']:,}, verified {row['verified']:,}, failed {row['failed']:,},"
          f" visits avoided {row['visits_avoided']:,}" for row in views.suppliers.to_pylist()),
        f"  {s['supplier_changes']:,} device(s) changed supplier during the programme",
        *([f"  {s['withdrawn']:,} device(s) withdrawn from a campaign after leaving its scope (withdrawn.{fmt})"]
          if s["withdrawn"] else []),
        *(f"  {row['campaign_id']} / {row['supplier']}: at most {row['busiest_day']:,} requests a day "
          f"(quota {row['quota']:,})" for row in views.quota_use().to_pylist() if row["quota"] is not None)])


def work_lists(args) -> int:
    from ..report.export import format_of
    from ..report.work_lists import work_lists as build, write_work_lists
    from .progress import status

    fmt = format_of(Path(f"x.{args.format or 'csv'}"), args.format)
    with status("building the work-lists"):
        session = _session(args)
        reconciliation = _optional_reconciliation(args, session)
        table = build(session.out_of_sync(args.compat), reconciliation)
        files = write_work_lists(table, args.out, fmt)
    counts = _counts(table["supplier"])
    return _emit(args, {"out": str(args.out), "format": fmt, "devices": table.num_rows,
                        "suppliers": {name: {"path": str(path), "devices": counts[name]} for name, path in files.items()}},
                 [f"wrote {len(files)} work-list(s) to {args.out}/: {table.num_rows:,} devices to investigate",
                  *(f"  {name}: {counts[name]:,} -> {path}" for name, path in files.items())])


def smi_hygiene(args) -> int:
    from .._files import replacing
    from ..report.export import format_of, write_table
    from ..report.firmware import supplier_file_stem
    from ..report.listing import read_listing
    from ..report.smi_hygiene import by_supplier, known_bridges, smi_hygiene as build

    if not args.release and not args.cpl:
        raise ParameterError("smi-hygiene needs --release or --cpl: they name the known Alt HAN bridge models")
    fmt = format_of(Path(f"x.{args.format or 'csv'}"), args.format)
    result = build(read_listing(args.smi), known_bridges(args.release, args.cpl), visit_cost=args.visit_cost)
    files: dict = {}
    for kind, table in result.tables.items():
        for supplier, rows in by_supplier(table).items():
            path = write_table(rows, args.out / supplier_file_stem(supplier) / f"{kind}.{fmt}", fmt)
            files.setdefault(supplier, {})[kind] = {"path": str(path), "rows": rows.num_rows}
    if args.duis:
        written = _prenotification_files(args, result.prenotifications)
        for supplier, count_written in written.items():
            files.setdefault(supplier, {})["duis"] = {"path": str(args.out / supplier_file_stem(supplier) / "duis"),
                                                      "rows": count_written}
    with replacing(args.out / "summary.json") as partial:
        partial.write_text(json.dumps(result.summary, indent=2) + "\n")
    s = result.summary
    return _emit(args, s | {"out": str(args.out), "suppliers": files}, [
        f"SMI hygiene: {s['amendments']:,} variant amendments, {s['prenotifications']:,} pre-notifications, "
        f"{s['site_visits']:,} site visits (£{s['site_visit_cost']:,.0f}); wrote {args.out}/",
        *(f"  {name}: " + ", ".join(f"{kind} {f['rows']:,}" for kind, f in kinds.items())
          for name, kinds in files.items())])


def business_case(args) -> int:
    from .._files import replacing
    from ..report.business_case import DEFAULTS, business_case as build, render_page
    from ..report.export import write_table

    if args.fleet is not None:
        if args.premises or args.suppliers:
            raise ParameterError("give --fleet, or --premises and --suppliers, not both")
        premises, suppliers = _fleet_premises(args.fleet)
        source = f"counted in {args.fleet}"
    elif args.premises and args.suppliers:
        premises, suppliers, source = args.premises, args.suppliers, "given"
    else:
        raise ParameterError("the business case needs --fleet, or --premises and --suppliers")
    case = build(premises, suppliers, premises_source=source, **{name: getattr(args, name) for name in DEFAULTS})
    files = {name: str(write_table(table, args.out / f"{name}.csv", "csv")) for name, table in case.tables.items()}
    with replacing(args.out / "business-case.html") as partial:
        partial.write_text(render_page(case), encoding="utf-8")
    files["page"] = str(args.out / "business-case.html")
    s = case.summary
    rate = s["break_even_defect_rate"]
    return _emit(args, s | {"out": str(args.out), "files": files}, [
        f"business case for {s['premises']:,} premises, {s['suppliers']} suppliers; wrote {args.out}/",
        f"  one-off £{s['one_off_cost']:,.0f}; campaigns over {s['device_life_years']:g} years "
        f"£{s['campaign_costs_over_life']:,.0f}; savings £{s['savings_over_life']:,.0f}",
        f"  net benefit £{s['net_benefit_over_life']:,.0f}; break-even at "
        + ("no defect rate" if rate is None else f"{rate * 100:.3f}% of premises needing a fix a year")])


def _fleet_premises(path: Path) -> tuple[int, int]:
    """Premises (installations, or plain devices) with installed Alt HAN bridges, and their suppliers."""
    from ..report import Session

    report = Session(path).fleet_report()
    import pyarrow.compute as pc

    premises = pc.coalesce(report["installation_id"], report["device_id"])
    return pc.count_distinct(premises).as_py(), max(1, pc.count_distinct(report["supplier"].drop_null()).as_py())


def _prenotification_files(args, prenotifications) -> dict[str, int]:
    """Write each pre-notification as DUIS XML under OUT/<supplier>/duis/; {supplier: requests written}."""
    from lxml import etree

    from .._files import replacing
    from ..duis.identifiers import eui
    from ..report.firmware import supplier_file_stem
    from ..report.smi_hygiene import prenotification_requests

    if not args.user_id or not args.target:
        raise ParameterError("--duis needs --user-id and --target (the DSP's EUI-64)")
    n = prenotifications.num_rows
    if args.counter_store is not None:
        from ..campaign.store import CampaignStore

        with CampaignStore(args.counter_store) as store:
            counters = store.next_request_counters(eui(args.user_id, "--user-id"), n) if n else []
    elif args.first_counter is not None:
        counters = list(range(args.first_counter, args.first_counter + n))
    else:
        raise ParameterError("--duis needs --first-counter or --counter-store for the originator counters")
    written: dict[str, int] = {}
    for supplier, device, root in prenotification_requests(prenotifications, user_id=args.user_id,
                                                            dsp_id=args.target, counters=counters):
        supplier = supplier or "unknown"
        path = args.out / supplier_file_stem(supplier) / "duis" / f"12.2-{device}.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path) as partial:
            partial.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
        written[supplier] = written.get(supplier, 0) + 1
    return written


def history(args) -> int:
    from ..report.export import format_of, write_table
    from ..report.history import history_views

    fmt = format_of(Path(f"x.{args.format or 'csv'}"), args.format)
    views = history_views(args.history)
    files = {name: str(write_table(table, args.out / f"{name}.{fmt}", fmt)) for name, table in views.tables.items()}
    s = views.summary
    lines = [f"history {args.history}: {s['months']} month(s), {s['first_month']} to {s['latest_month']}; "
             f"wrote {args.out}/"]
    lines += [f"  {r['month']}: {r['devices']:,} devices, +{r['added']:,} -{r['removed']:,}, upgraded "
              f"{r['upgraded']:,}, status changes {r['status_changes']:,}" for r in views.deltas.to_pylist()]
    lines.append(f"  {views.out_of_sync.num_rows:,} pair(s) out of sync in {s['latest_month']}")
    if s["reconciliations"]:
        import pyarrow.compute as pc

        outcomes = {r["values"]: r["counts"] for r in pc.value_counts(views.ahi_updates["outcome"]).to_pylist()}
        lines.append("  proposed AHI updates: " + ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items())))
    return _emit(args, s | {"out": str(args.out), "files": files}, lines)


def html(args) -> int:
    from ..report.html import write_html
    from .progress import status

    with status("building the HTML report"):
        session = _session(args)
        reconciliation = _optional_reconciliation(args, session)
        programme = None
        if args.programme:
            from ..report.programme import programme_views

            programme = programme_views(args.programme, args.fleet, visit_cost=args.visit_cost)
        out = write_html(args.out, session, compatibility=args.compat, reconciliation=reconciliation,
                         campaign_id=args.campaign, visit_cost=args.visit_cost, programme=programme)
    size = out.stat().st_size
    return _emit(args, {"out": str(out), "bytes": size}, [f"wrote {out} ({size / 1024:,.0f} KiB)"])
