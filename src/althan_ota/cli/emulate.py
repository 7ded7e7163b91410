"""``althan-ota emulate``: emulate a rollout over a fleet on the default (documented) parameters."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("emulate", help="emulate an OTA rollout over a fleet of P2P Alt HAN installations")
    p.add_argument("installations", type=int, help="number of installations (two bridges each)")
    p.add_argument("--image-size", type=int, default=240_000, help="image bytes (default 240000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="default: every core")
    p.add_argument("--parquet", metavar="FILE", help="write the per-device table to a Parquet file")
    p.add_argument("--json", action="store_true", help="print the fleet summary as JSON")
    p.set_defaults(handler=run)


def run(args) -> int:
    from dataclasses import asdict

    from rich.progress import Progress

    from ..emulate import emulate

    with Progress(transient=True) as bar:
        task = bar.add_task("emulating", total=args.installations)
        result = emulate(args.installations, args.image_size, seed=args.seed, n_threads=args.threads,
                         progress=lambda done, total: bar.update(task, completed=done))
    summary = asdict(result.summary())
    if args.parquet:
        import pyarrow.parquet as pq

        pq.write_table(result.to_arrow(), args.parquet)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{summary['devices']:,} devices, image {args.image_size:,} B, seed {args.seed}")
    print("outcomes: " + ", ".join(f"{k} {v:,}" for k, v in summary["outcomes"].items()))
    print("completion (read-back): " + ", ".join(
        f"p{q * 100:g} {v / 3600:.2f} h" for q, v in summary["completion_quantiles_s"].items()))
    print(f"airtime: HAN {summary['airtime_han_s'] / 3600:,.0f} h, bridge {summary['airtime_bridge_s'] / 3600:,.0f} h;"
          f" duty-cycle waits {summary['dc_wait_s'] / 3600:,.0f} h")
    return 0
