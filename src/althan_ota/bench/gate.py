"""Gating performance in CI: this run's results against a baseline run (``althan-ota bench --json`` output
saved earlier, on the same kind of machine).

Two gates: ``time`` compares each of our rows' best time with the baseline's (fails when slower than
``max_slowdown`` times), for runners of one machine type; ``ratio`` compares each row's ratio against its
peer measured in the same run (fails when it fell by more than ``max_slowdown`` times), which holds across
machines of different speed. Rows are matched by suite, kernel and implementation; a row the baseline has
and this run lacks is reported as missing and fails too (a silently dropped benchmark gates nothing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import ParameterError

GATES = ("time", "ratio")


@dataclass
class Finding:
    suite: str
    kernel: str
    impl: str
    baseline: float | None     # seconds (time gate) or ratio against the peer (ratio gate)
    current: float | None
    factor: float | None       # how many times worse (> 1: worse); None when the row is missing
    failed: bool


def load(path: str | Path) -> list[dict]:
    path = Path(path)
    try:
        rows = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ParameterError(f"{path}: not a benchmark baseline (althan-ota bench --json output): {exc}") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) and {"suite", "kernel", "impl", "seconds"} <= set(r)
                                             for r in rows):
        raise ParameterError(f"{path}: not a benchmark baseline: expected the list of rows "
                             "'althan-ota bench --json' prints")
    return rows


def compare(current: list[dict], baseline: list[dict], max_slowdown: float = 1.25,
            gate: str = "time") -> list[Finding]:
    """One finding per baseline row of ours (implementation ``althan-ota...``) that the gate can judge."""
    if gate not in GATES:
        raise ParameterError(f"unknown gate {gate!r} (expected one of {', '.join(GATES)})")
    if not max_slowdown >= 1:
        raise ParameterError(f"max_slowdown must be at least 1, got {max_slowdown}")
    # a row of ours may appear once per peer it is compared with (same time, different ratios): the peer is
    # part of the key
    now = {(r["suite"], r["kernel"], r["impl"], r.get("baseline")): r for r in current}
    findings = []
    for row in baseline:
        if not str(row["impl"]).startswith("althan-ota"):
            continue
        key = (row["suite"], row["kernel"], row["impl"])
        before = row["seconds"] if gate == "time" else row.get("ratio")
        if before is None:
            continue        # no peer in the baseline: nothing to hold the ratio to
        match = now.get((*key, row.get("baseline")))
        if match is None:
            findings.append(Finding(*key, before, None, None, True))
            continue
        after = match["seconds"] if gate == "time" else match.get("ratio")
        if after is None or after <= 0 or before <= 0:
            findings.append(Finding(*key, before, after, None, True))
            continue
        factor = after / before if gate == "time" else before / after
        findings.append(Finding(*key, before, after, factor, factor > max_slowdown))
    return findings
