"""``althan-ota bench``: kernel and engine speed on every CPU tier, against peers, in one run."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

from ._io import number_in


def register(sub) -> None:
    p = sub.add_parser("bench", help="benchmark the kernels against the peers a user would otherwise pick")
    p.add_argument("suites", nargs="*", help="suites to run (default: all)")
    p.add_argument("--quick", action="store_true", help="a few repeats only: checks the benchmarks still run")
    p.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    p.add_argument("--out", type=Path, help="also save the JSON rows to this file (a baseline for later runs)")
    p.add_argument("--baseline", type=Path, help="a saved run to gate against; exit 1 on a regression")
    p.add_argument("--max-slowdown", type=number_in(1.0), default=1.25,
                   help="how many times worse a row may get before the gate fails (default 1.25)")
    p.add_argument("--gate", choices=("time", "ratio"), default="time",
                   help="time: our best times against the baseline's (same machine type); ratio: our "
                        "ratios against the peers measured in the same run (any machine)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from ..bench import gate, run_suites

    baseline = gate.load(args.baseline) if args.baseline else None    # a bad file fails before the run
    results = run_suites(args.suites or None, quick=args.quick)
    rows = [r.as_dict() for r in results]
    if args.out:
        from .._files import replacing

        with replacing(args.out) as partial:
            partial.write_text(json.dumps(rows, indent=2))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        _print_table(results, args.quick)
    if baseline is None:
        return 0
    return _report_gate(gate.compare(rows, baseline, args.max_slowdown, args.gate), args)


def _report_gate(findings, args) -> int:
    failed = [f for f in findings if f.failed]
    unit = "s" if args.gate == "time" else "x"
    out = sys.stderr if args.json else sys.stdout
    print(f"gate ({args.gate}, at most {args.max_slowdown:g}x worse than {args.baseline}): "
          f"{len(findings) - len(failed)} of {len(findings)} rows pass", file=out)
    for f in failed:
        what = "missing from this run" if f.current is None else \
            f"{f.baseline:.4g}{unit} -> {f.current:.4g}{unit}" + (f" ({f.factor:.2f}x worse)" if f.factor else "")
        print(f"  FAIL {f.suite}: {f.kernel} [{f.impl}]: {what}", file=out)
    return 1 if failed else 0


def _print_table(results, quick: bool) -> None:
    from .. import backend
    from ..bench import SUITES
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"althan-ota bench ({platform.machine()}, {platform.processor() or 'cpu'}; "
                        f"tiers {backend()})" + (" [quick]" if quick else ""))
    for col in ("suite", "kernel", "implementation", "speed", "vs peer"):
        table.add_column(col)
    for r in results:
        # Result.baseline is the peer a row was compared with (not the --baseline run)
        ratio = f"{r.ratio:.1f}x {r.baseline}" if r.ratio is not None else ""
        table.add_row(*(escape(cell) for cell in (r.suite, r.kernel, r.impl, r.rate_text(), ratio)))
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    if not SUITES:
        print("no benchmark suites are registered yet")
