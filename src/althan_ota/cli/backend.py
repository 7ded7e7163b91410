"""``althan-ota backend``: which CPU tier each kernel family uses, and which it could use."""

from __future__ import annotations

import json


def register(sub) -> None:
    p = sub.add_parser("backend", help="show the CPU tier chosen for each kernel family")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def run(args) -> int:
    from .. import backend, cpu_features, tiers

    report = {"cpu": cpu_features(), "chosen": backend(), "available": tiers()}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print("CPU: " + ", ".join(k for k, v in report["cpu"].items() if v))
    for family, tier in report["chosen"].items():
        print(f"{family:10s} {tier:12s} (available: {', '.join(report['available'][family])})")
    return 0
