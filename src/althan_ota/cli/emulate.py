"""``althan-ota emulate``: emulate a rollout over a fleet on the default (documented) parameters."""

from __future__ import annotations

import json

from ._io import fraction, positive, seed


def register(sub) -> None:
    p = sub.add_parser("emulate", help="emulate an OTA rollout over a fleet of P2P Alt HAN installations")
    p.add_argument("installations", type=positive, help="number of installations (two bridges each)")
    p.add_argument("--image-size", type=positive, default=240_000, help="image bytes (default 240000)")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--threads", type=positive, default=None, help="default: every core")
    p.add_argument("--image", metavar="FILE", help="bytes fidelity: send every block of this image as a real "
                                                   "frame (CCM*, FCS) and check its SHA-256 on each device")
    p.add_argument("--corrupt-image-prob", type=fraction, default=0.0,
                   help="with --image: probability that a CH serves a corrupted copy (default 0)")
    p.add_argument("--contention", nargs="?", const="stepped", choices=("stepped", "statistical"),
                   help="shared air: the installations sit in blocks of flats drawn as `fleet generate` draws "
                        "them (1 to 80 a building), and each building's installations share their channels "
                        "(the per-building engine). stepped (the default): every frame on its channel; "
                        "statistical: each attempt meets the failure rate and access delay the stepped model "
                        "measured at its contention level (fast enough for a national fleet)")
    p.add_argument("--han-channels", type=positive, default=1,
                   help="with --contention: 2.4 GHz HAN channels per building (default 1)")
    p.add_argument("--bridge-channels", type=positive, default=1,
                   help="with --contention: sub-GHz bridge channels per building (default 1)")
    p.add_argument("--building-cap", type=positive, default=None,
                   help="with --contention: at most this many installations of a building download at once "
                        "(the others wait for a place; default: no cap)")
    p.add_argument("--parquet", metavar="FILE", help="write the per-device table to a Parquet file")
    p.add_argument("--json", action="store_true", help="print the fleet summary as JSON")
    p.set_defaults(handler=run)


def run(args) -> int:
    from dataclasses import asdict

    from rich.progress import Progress

    import numpy as np

    from ..emulate import EmulationParams, emulate
    from ..emulate.bytes import ByteParams
    from ..errors import ParameterError
    from ..fleet.synthetic import _buildings as draw_buildings   # the building sizes `fleet generate` draws

    if args.image:
        with open(args.image, "rb") as f:
            image = f.read()
        args.image_size = len(image)
        kw = dict(fidelity="bytes", image=image, byte_params=ByteParams(corrupt_image_prob=args.corrupt_image_prob))
    else:
        kw = dict(image_size=args.image_size)
    if args.contention:
        kw["params"] = EmulationParams(contention=True, han_channels=args.han_channels,
                                       bridge_channels=args.bridge_channels, building_cap=args.building_cap,
                                       contention_model=args.contention)
        kw["buildings"] = draw_buildings(np.random.default_rng(args.seed), args.installations).astype(np.int64)
    elif args.han_channels != 1 or args.bridge_channels != 1 or args.building_cap is not None:
        raise ParameterError("--han-channels, --bridge-channels and --building-cap need --contention")
    with Progress(transient=True) as bar:
        task = bar.add_task("emulating", total=args.installations)
        result = emulate(args.installations, seed=args.seed, n_threads=args.threads,
                         progress=lambda done, total: bar.update(task, completed=done, total=total), **kw)
    summary = asdict(result.summary())
    if args.parquet:
        import pyarrow.parquet as pq

        from .._files import replacing

        with replacing(args.parquet) as partial:
            pq.write_table(result.to_arrow(), partial)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{summary['devices']:,} devices, image {args.image_size:,} B, seed {args.seed}")
    print("outcomes: " + ", ".join(f"{k} {v:,}" for k, v in summary["outcomes"].items()))
    print(f"out-of-sync pairs (bridges left on different versions): {summary['out_of_sync_pairs']:,}")
    print("completion (read-back): " + ", ".join(
        f"p{q * 100:g} {v / 3600:.2f} h" for q, v in summary["completion_quantiles_s"].items()))
    print(f"airtime: HAN {summary['airtime_han_s'] / 3600:,.0f} h, bridge {summary['airtime_bridge_s'] / 3600:,.0f} h;"
          f" duty-cycle waits {summary['dc_wait_s'] / 3600:,.0f} h")
    if args.image:
        print(f"frames: {int(result.frames_built.sum()):,} built, {int(result.frames_rejected_fcs.sum()):,} "
              f"rejected by FCS, {int(result.frames_rejected_mic.sum()):,} by MIC, "
              f"{int(result.undetected_errors.sum()):,} undetected; images hashed OK on "
              f"{int(result.hash_ok.sum()):,} devices")
    return 0
