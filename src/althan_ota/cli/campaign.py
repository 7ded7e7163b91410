"""``althan-ota campaign plan|run|pause|resume|abort|status``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._io import add_tls_options, amount, count, fraction, positive, seed, tls_config

EXECUTORS = ("emulator", "dcc")


def _version(text: str) -> int:
    value = int(text, 16)
    if not 0 <= value < 2**32:
        raise ValueError(text)
    return value


def _path(text: str) -> tuple[int, int]:
    a, _, b = text.partition(":")
    return _version(a), _version(b)


def _supplier(text: str) -> tuple[str, int | None]:
    """``--supplier NAME`` or ``NAME=N``: a supplier the campaign covers, with its daily quota of SRV 11.4
    requests. (Parsed after argparse, as any text is a supplier name.)"""
    from ..errors import ParameterError

    name, equals, quota = text.rpartition("=") if "=" in text else (text, "", "")
    if not name.strip():
        raise ParameterError(f"--supplier {text}: expected NAME or NAME=REQUESTS_PER_DAY")
    if not equals:
        return name, None
    try:
        return name, positive(quota)
    except argparse.ArgumentTypeError as exc:
        raise ParameterError(f"--supplier {text}: the quota: {exc}") from None


def _plan_args(p) -> None:
    p.add_argument("--fleet", type=Path, required=True, help="fleet file (Parquet or CSV)")
    p.add_argument("--name", default="campaign")
    p.add_argument("--plan", type=Path, help="a plan as JSON (CampaignPlan fields); flags below override it")
    p.add_argument("--release", type=Path, help="a release bundle (verified for --environment with --trusted-key): "
                   "the campaign takes its image, versions, upgrade paths and pair order from it")
    p.add_argument("--trusted-key", type=Path, action="append", default=[],
                   help="Alt HAN Co release public key (PEM file or a directory of them); repeatable")
    p.add_argument("--image", type=Path, help="a bare firmware image (ZigBee OTA or GB upgrade image), for "
                   "what-if planning only: a real campaign takes its image from --release")
    p.add_argument("--target-version", type=_version, help="hex, e.g. 0x01040000 (taken from --image if given)")
    p.add_argument("--image-size", type=positive, help="bytes (taken from --image if given)")
    p.add_argument("--upgrade-path", type=_path, action="append", default=[], metavar="FROM:TO",
                   help="hex versions; repeat for each allowed running version")
    p.add_argument("--supplier", action="append", dest="suppliers", metavar="NAME[=N]",
                   help="scope the campaign to this energy supplier's devices (the inventory's supplier column); "
                        "=N: at most N of its SRV 11.4 requests a day, first requests and retries, inside "
                        "--requests-per-day (unused quota is not given to another supplier); repeatable")
    p.add_argument("--environment", choices=("test", "production"))
    p.add_argument("--pair-order", choices=("meter_first", "hub_first", "concurrent"))
    p.add_argument("--canary", type=count, dest="canary_installations")
    p.add_argument("--requests-per-day", type=positive)
    p.add_argument("--pause-failure-rate", type=fraction)
    p.add_argument("--abort-failure-rate", type=fraction)
    p.add_argument("--site-visit-cost", type=amount)
    p.add_argument("--building-concurrency", type=positive, metavar="N",
                   help="at most N installations of one building downloading at once (default: no cap)")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--threads", type=positive, help="emulator threads (default: every core)")


def register(sub) -> None:
    p = sub.add_parser("campaign", help="plan, run and track a firmware campaign")
    c = p.add_subparsers(dest="campaign_command", metavar="ACTION", required=True)

    plan = c.add_parser("plan", help="predict a campaign by emulating it (nothing is stored)")
    _plan_args(plan)
    plan.add_argument("--json", action="store_true")
    plan.set_defaults(handler=do_plan)

    run = c.add_parser("run", help="create a campaign in a store and run it against the emulator")
    _plan_args(run)
    run.add_argument("--store", type=Path, default=Path("campaigns.duckdb"))
    run.add_argument("--campaign-id")
    run.add_argument("--json", action="store_true")
    _executor_args(run)
    run.set_defaults(handler=do_run)

    for action, text in (("resume", "continue a paused or interrupted campaign"),
                         ("pause", "pause after the wave in flight"), ("abort", "abort: cancel what is not done"),
                         ("status", "show a campaign's progress and outcome")):
        a = c.add_parser(action, help=text)
        a.add_argument("campaign_id", nargs="?" if action == "status" else None)
        a.add_argument("--store", type=Path, default=Path("campaigns.duckdb"))
        a.add_argument("--threads", type=positive)
        a.add_argument("--json", action="store_true")
        if action == "resume":
            _executor_args(a)
        a.set_defaults(handler={"resume": do_resume, "pause": do_pause, "abort": do_abort,
                                "status": do_status}[action])


def _executor_args(p) -> None:
    g = p.add_argument_group("executor", "what carries out the waves: the emulator (default) or, live, the DCC "
                             "over DUIS (docs/live.md)")
    g.add_argument("--executor", choices=EXECUTORS, default="emulator")
    g.add_argument("--dcc-url", help="the DCC's DUIS endpoint base (requests go to URL/duis)")
    g.add_argument("--listen", metavar="HOST:PORT", help="where to receive the DCC's responses and alerts")
    g.add_argument("--key", type=Path, help="the DCC user's XML-signing private key")
    g.add_argument("--cert", type=Path, help="its certificate (names the user ID)")
    g.add_argument("--certs", type=Path, help="folder of trusted certificates (the DSP's)")
    g.add_argument("--schema", type=Path, help="DUIS XSD: validate received messages against it")
    g.add_argument("--firmware", type=Path, help="the image SRV 11.4 carries (default: --image)")
    g.add_argument("--dsp-id", help="the DSP's entity ID (default: DCC Boxed's 90-B3-D5-1F-30-00-00-02)")
    g.add_argument("--time-scale", type=amount, metavar="S",
                   help="wall-clock mode: hold each request until the run's clock reaches its request-book time, "
                        "S emulated seconds per wall second (1 for a real DCC; default: deterministic mode, each "
                        "request carrying its book time for `dcc serve`)")
    g.add_argument("--quiet-s", type=amount, default=5.0,
                   help="deterministic mode: wall-clock seconds without a message after which silent devices time "
                        "out; wall-clock mode: how long past a device's timeout late deliveries are waited for")
    add_tls_options(g, server="the listener", peer="the DCC")


def _executor(args):
    """The executor the flags choose: None for the emulator (run_campaign's default)."""
    if args.executor == "emulator":
        return None
    from ..errors import ParameterError
    from ..live import DccExecutor, LiveOptions
    from ..live.options import DCC_BOXED_DSP, parse_listen

    firmware = args.firmware or getattr(args, "image", None)
    missing = [flag for flag, value in (("--dcc-url", args.dcc_url), ("--listen", args.listen), ("--key", args.key),
                                        ("--cert", args.cert), ("--certs", args.certs), ("--firmware", firmware))
               if value is None]
    if missing:
        raise ParameterError(f"--executor dcc needs {', '.join(missing)}")
    return DccExecutor(LiveOptions(dcc_url=args.dcc_url, listen=parse_listen(args.listen), key=args.key,
                                   cert=args.cert, certs=args.certs, firmware=firmware, schema=args.schema,
                                   dsp_id=args.dsp_id or DCC_BOXED_DSP, quiet_s=args.quiet_s,
                                   time_scale=args.time_scale, tls=tls_config(args)))


def build_plan(args, fleet):
    """The plan the flags describe (campaign.plan_from_options does the work)."""
    from ..campaign import plan_from_options
    from ..errors import ParameterError

    if args.release and not args.trusted_key:
        raise ParameterError("--release needs --trusted-key: the Alt HAN Co release key to verify it with")
    return plan_from_options(fleet, name=args.name, plan=args.plan, release=args.release,
                             trusted_keys=args.trusted_key, image=args.image, upgrade_paths=args.upgrade_path,
                             **_overrides(args))


def _overrides(args) -> dict:
    keys = ("target_version", "image_size", "environment", "pair_order", "canary_installations",
            "requests_per_day", "pause_failure_rate", "abort_failure_rate", "site_visit_cost",
            "building_concurrency")
    overrides = {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}
    if args.suppliers:
        from ..errors import ParameterError

        suppliers = [_supplier(text) for text in args.suppliers]
        names = [name for name, _ in suppliers]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ParameterError(f"--supplier {', '.join(twice)} given more than once")
        overrides["suppliers"] = names
        quotas = {name: quota for name, quota in suppliers if quota is not None}
        if quotas:
            overrides["supplier_quotas"] = quotas
    return overrides


def _progress(label: str):
    from .progress import progress_bar

    return progress_bar(label, 1.0)


def do_plan(args) -> int:
    from ..campaign import predict
    from ..fleet import read_fleet

    fleet = read_fleet(args.fleet)
    plan = build_plan(args, fleet)
    with _progress("emulating waves") as update:
        summary = predict(plan, fleet, seed=args.seed, progress=lambda d, t: update(d / t), n_threads=args.threads)
    _print(summary, args.json)
    return 0


def do_run(args) -> int:
    from ..campaign import CampaignStore, create_campaign, run_campaign, summarise
    from ..fleet import read_fleet

    fleet = read_fleet(args.fleet)
    plan = build_plan(args, fleet)
    executor = _executor(args)
    with CampaignStore(args.store) as store:
        cid = create_campaign(store, plan, fleet, fleet_path=str(args.fleet.resolve()), seed=args.seed,
                              campaign_id=args.campaign_id)
        if not args.json:
            print(f"campaign {cid} created in {args.store}")
        with _progress(f"running {cid}") as update:
            run_campaign(store, cid, fleet=fleet, progress=lambda d, t: update(d / t), n_threads=args.threads,
                         executor=executor)
        _print(summarise(store, cid), args.json)
    return 0


def _existing_store(path: Path) -> None:
    """Resume, pause, abort and status work on a store that exists: opening a missing one would create it."""
    from ..errors import CampaignError

    if not path.is_file():
        raise CampaignError(f"no campaign store at {path}" + (" (it is a directory)" if path.is_dir() else "")
                            + "; give the --store that 'campaign run' wrote")


def do_resume(args) -> int:
    from ..campaign import CampaignStore, run_campaign, summarise

    _existing_store(args.store)
    executor = _executor(args)
    with CampaignStore(args.store) as store:
        with _progress(f"resuming {args.campaign_id}") as update:
            run_campaign(store, args.campaign_id, progress=lambda d, t: update(d / t), n_threads=args.threads,
                         executor=executor)
        _print(summarise(store, args.campaign_id), args.json)
    return 0


def _act(args, action: str) -> int:
    from ..campaign import CampaignStore, abort_campaign, control, pause_campaign
    from ..errors import CampaignError

    _existing_store(args.store)
    try:
        store = CampaignStore(args.store)
    except CampaignError:
        # another process (a running campaign) holds the store: ask it through the control file
        control.request(str(args.store), args.campaign_id, action)
        print(f"asked the running campaign {args.campaign_id} to {action} after its current wave")
        return 0
    with store:
        (pause_campaign if action == "pause" else abort_campaign)(store, args.campaign_id)
        print(f"campaign {args.campaign_id}: {store.status(args.campaign_id)}")
    return 0


def do_pause(args) -> int:
    return _act(args, "pause")


def do_abort(args) -> int:
    return _act(args, "abort")


def do_status(args) -> int:
    import sys

    from ..campaign import CampaignStore, summarise

    _existing_store(args.store)
    # while a campaign runs, its process holds the store: the snapshot it publishes is read instead
    with CampaignStore.for_reading(args.store) as store:
        ids = [args.campaign_id] if args.campaign_id else store.campaigns()
        snapshot_at = store.snapshot_at.isoformat() if store.snapshot_at else None
        summaries = [summarise(store, cid) | {"snapshot_at": snapshot_at} for cid in ids]
    if snapshot_at:
        print(f"althan-ota: {args.store} is in use by a running campaign; showing its snapshot of {snapshot_at}",
              file=sys.stderr)
    if args.json:
        print(json.dumps(summaries, indent=2))
    else:
        for s in summaries:
            _print(s, False)
    return 0


def _print(summary: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    s = summary
    print(f"campaign {s['campaign_id']} ({s['environment']}), target {s['target_version']}: {s['status']}, "
          f"{s['waves']['committed']} waves committed")
    print(f"  devices: {s['devices']:,}; " + ", ".join(f"{k} {v:,}" for k, v in s["states"].items()))
    cd = s["completion_days"]
    if cd.get("0.5") is not None:
        print(f"  completion (days from start): median {cd['0.5']}, p90 {cd['0.9']}, p99 {cd['0.99']}, "
              f"last {cd['1.0']}")
    print(f"  airtime: HAN {s['airtime_hours']['han']:,} h, bridge link {s['airtime_hours']['bridge']:,} h; "
          f"duty-cycle waits {s['duty_cycle_wait_hours']:,} h; {s['exchanges']:,} block exchanges, "
          f"{s['exchange_retries']:,} retried")
    sv = s["site_visits"]
    print(f"  site visits avoided: {sv['avoided']:,} of {sv['premises_targeted']:,} premises (cost avoided "
          f"{sv['cost_avoided']:,.0f} at {sv['visit_cost']:,.0f} each); still needed: {sv['still_needed']:,} "
          f"({sv['needed_cad_joined']:,} with a bridge joined as CAD, {sv['needed_failed']:,} after a failure)")
    print(f"  pairs out of sync: {s['pairs_out_of_sync']:,}")
    for r in s["reasons"][:8]:
        print(f"    {r['state']:18s} {r['reason']:20s} {r['devices']:,}")
