"""``althan-ota bench``: kernel and engine speed on every CPU tier, against peers, in one run."""

from __future__ import annotations

import json
import platform
import sys


def register(sub) -> None:
    p = sub.add_parser("bench", help="benchmark the kernels against the peers a user would otherwise pick")
    p.add_argument("suites", nargs="*", help="suites to run (default: all)")
    p.add_argument("--quick", action="store_true", help="a few repeats only: checks the benchmarks still run")
    p.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    p.set_defaults(handler=run)


def run(args) -> int:
    from .. import backend
    from ..bench import SUITES, run_suites

    results = run_suites(args.suites or None, quick=args.quick)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
        return 0
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"althan-ota bench ({platform.machine()}, {platform.processor() or 'cpu'}; "
                        f"tiers {backend()})" + (" [quick]" if args.quick else ""))
    for col in ("suite", "kernel", "implementation", "speed", "vs peer"):
        table.add_column(col)
    for r in results:
        ratio = f"{r.ratio:.1f}x {r.baseline}" if r.ratio is not None else ""
        table.add_row(*(escape(cell) for cell in (r.suite, r.kernel, r.impl, r.rate_text(), ratio)))
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    if not SUITES:
        print("no benchmark suites are registered yet")
    return 0
