"""``althan-ota demo``: the main job on embedded defaults, end to end, with nothing to start by hand.

A synthetic fleet; a signed test release from "Alt HAN Co" verified for the test environment; a campaign
planned from it (targets, upgrade paths, the pair order the compatibility table allows); the campaign run
against the emulator into an embedded DuckDB store; the outcome printed, and the reports written.
"""

from __future__ import annotations

import json
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ._io import positive, seed


def register(sub) -> None:
    p = sub.add_parser("demo", help="run a complete campaign on a synthetic fleet (embedded defaults)")
    p.add_argument("--installations", type=positive, default=20_000, help="P2P installations (default 20000)")
    p.add_argument("--image-size", type=positive, default=240_000, help="Manufacturer Image bytes (default 240000)")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--out", type=Path, default=Path("althan-ota-demo"), help="output folder (replaced)")
    p.add_argument("--threads", type=positive)
    p.add_argument("--json", action="store_true", help="print the campaign summary as JSON")
    p.add_argument("--profile", type=Path, metavar="FILE",
                   help="record wall time, CPU seconds and resident memory per stage: print the table (stderr) "
                        "and write it to FILE as JSON")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..stage_profile import StageProfile

    if args.profile is None:
        return _run(args)
    with StageProfile() as profile:
        code = _run(args)
    profile.write(args.profile, command="demo", installations=args.installations, image_size=args.image_size,
                  seed=args.seed, threads=args.threads)
    print(profile.table(), file=sys.stderr)
    return code


def _run(args) -> int:
    from ..fleet import generate_fleet
    from ..stage_profile import stage
    from .campaign import _print
    from .progress import status

    def say(text: str) -> None:
        if not args.json:
            print(text)

    if args.out.exists():
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True)
    with status("generating the fleet"), stage("fleet generation"):
        fleet = generate_fleet(args.installations, seed=args.seed)
        _return_freed_memory()
    fleet_path = args.out / "fleet.parquet"
    # the file is for the reports (and a person); nothing before them reads it, so it is written on a
    # second core while the release, the plan and the campaign run; then that thread readies matplotlib for
    # the HTML page (a second of imports and fonts otherwise spent while the page is drawn)
    with ThreadPoolExecutor(1, thread_name_prefix="fleet-write") as writer:
        fleet_written = writer.submit(_write_fleet, fleet, fleet_path)
        plots_ready = writer.submit(_warm_up_plots)
        summary, bundle, release, store_path = _campaign(args, fleet, fleet_path, say)
        del fleet
        fleet_written.result()
        plots_ready.result()
    summary["outputs"] = {"fleet": str(fleet_path), "release": str(bundle.path), "store": str(store_path)}
    _return_freed_memory()      # the fleet, the plan and the waves' tables: the reports start from less
    with status("writing the reports"):
        summary["outputs"].update(_reports(args.out, fleet_path, store_path, release))
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print(summary, False)
        for name, path in summary["outputs"].items():
            print(f"  {name}: {path}")
    return 0


def _return_freed_memory() -> None:
    """Hand the pages of freed temporaries back to the system: Arrow's allocator and glibc's keep them for
    reuse, so a stage that drew many (fleet generation, the campaign's wave tables) would otherwise hold the
    process's resident memory up through every later stage (370 -> 170 MB before the reports at 300,000
    installations). Results do not change; the next allocations fetch fresh pages."""
    import ctypes
    import ctypes.util

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    libc = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(libc), "malloc_trim", None) if libc else None
    if trim is not None:        # glibc only; other C libraries return freed memory by themselves or not at all
        trim(0)


def _warm_up_plots() -> None:
    from ..report import plots

    plots.warm_up()


def _write_fleet(fleet, path: Path) -> None:
    from ..stage_profile import stage

    with stage("fleet write"):
        fleet.write(path)


def _campaign(args, fleet, fleet_path: Path, say):
    """Release, plan and the campaign run into the store; returns the summary, bundle, release and store."""
    from ..campaign import CampaignStore, create_campaign, plan_from_release, run_campaign, summarise
    from ..release import verify_bundle
    from ..stage_profile import stage
    from ..testing.release_bundles import make_test_release
    from .progress import progress_bar

    say(f"fleet: {len(fleet):,} devices in {args.installations:,} P2P installations -> {fleet_path}")

    with stage("release"):
        bundle = make_test_release(args.out / "release.zip", environment="test", seed=args.seed,
                                   image_size=args.image_size)
        release = verify_bundle(bundle.path, "test", bundle.trusted_keys,
                                manufacturer_keys=bundle.manufacturer_keys)
    say(f"release {release.release_id} ({release.environment}) verified with key {release.key_id[:16]}...: "
        + ", ".join(f"{img.model} 0x{img.file_version:08X} ({len(img.data):,} B)" for img in release.images))

    with stage("plan"):
        plan = plan_from_release(release, fleet, name="demo", environment="test", canary_installations=200,
                                 requests_per_day=20_000)
    say(f"plan: target 0x{plan.target_version:08X} for {', '.join(plan.models)}; pair order {plan.pair_order}; "
        f"{len(plan.unsafe_installations):,} pairs have no safe order and are left out")
    store_path = args.out / "campaigns.duckdb"
    with CampaignStore(store_path) as store:
        with stage("campaign create"):
            cid = create_campaign(store, plan, fleet, fleet_path=str(fleet_path.resolve()), seed=args.seed,
                                  campaign_id="demo")
        # the store holds the plan now (the runner reads it back); its per-unit arrays need not stay alive
        del plan
        with progress_bar("running the campaign (emulated)", 1.0) as update:
            run_campaign(store, cid, fleet=fleet, progress=lambda d, t: update(d / t), n_threads=args.threads)
        with stage("summary"):
            summary = summarise(store, cid)
    return summary, bundle, release, store_path


def _reports(out: Path, fleet_path: Path, store_path: Path, release) -> dict:
    """The DCC-style fleet report, the out-of-sync triage (with the release's compatibility table) and the
    HTML page over the demo's fleet and store.

    The page's campaign section reads the store alone, so it is built on a thread of its own, over its own
    DuckDB connection, while the fleet report and out-of-sync run: those leave part of the second core idle
    (their sorts' merges, the CSV writer) and drawing the section's figures is Python that DuckDB's work
    does not hold up. The section's DuckDB has a cap of its own, the reports' session's: its per-device window
    over the store's events holds about 0.7 GB at national scale and spilled under a lower cap (a quarter
    of it at a quarter of the scale cost 40% more CPU); with the fleet report's 1.2 GB beside it the reports
    stay below the campaign's peak."""
    from ..report import Session
    from ..report.export import write_table
    from ..report.html import Figures, write_html
    from ..stage_profile import stage

    paths = {}
    with Figures() as figures, ThreadPoolExecutor(1, thread_name_prefix="campaign-section") as beside:
        campaign = beside.submit(_campaign_section, store_path, fleet_path, figures)
        session = Session(fleet_path, store=store_path)     # checks the fleet file: a scan the section overlaps
        with stage("fleet report"):
            paths["fleet_report"] = session.write_fleet_report(out / "fleet-report.csv")
        with stage("out-of-sync"):
            paths["out_of_sync"] = write_table(session.out_of_sync(release.compatibility), out / "out-of-sync.csv")
        with stage("html report"):
            paths["html_report"] = write_html(out / "report.html", session, compatibility=release.compatibility,
                                              campaign_id="demo", campaign=campaign, figures=figures)
    return {name: str(path) for name, path in paths.items()}


def _campaign_section(store_path: Path, fleet_path: Path, figures) -> list:
    from ..report import _duck
    from ..report.html import campaign_section
    from ..report.store_reader import open_store
    from ..stage_profile import stage

    with stage("campaign section (beside)"):
        con = _duck.connect()
        try:
            _duck.bound_memory(con, _duck.REPORT_MEMORY_LIMIT)
            return campaign_section(open_store(store_path, con), "demo", fleet=fleet_path, figures=figures)
        finally:
            con.close()

