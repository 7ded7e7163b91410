"""The main job end to end: ``althan-ota demo`` (fleet, release, plan, every wave against the emulator, the
store, the reports) under the stage profile, one row for the whole job and one per stage group.

There is no peer: nothing else runs this job. The rows carry no ratio, so the ``time`` gate
(``althan-ota bench e2e --baseline FILE``) is what holds them: each stage's wall time against a run recorded
earlier on the same kind of machine, the ratio printed per stage. Quick mode: 20,000 installations (41,000
devices), one run. Full mode: 2,000,000 installations (4.1 M devices), the national fleet, for a quiet
machine; its memory is in ``althan-ota demo --installations 2000000 --profile FILE`` (docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

from . import Result

QUICK_INSTALLATIONS = 20_000
FULL_INSTALLATIONS = 2_000_000
# profile stages -> the group a row reports ("wave 3 emulate" -> "emulate, all waves")
_GROUPS = {"fleet generation": "fleet generation", "fleet write": "fleet write", "release": "release",
           "plan": "plan", "campaign create": "campaign create", "summary": "summary",
           "fleet report": "fleet report", "out-of-sync": "out-of-sync",
           "campaign section (beside)": "campaign section (beside)", "html report": "html report"}


def _group(stage: str) -> str:
    if stage.startswith("wave "):
        return f"{stage.rsplit(' ', 1)[1]}, all waves"
    return _GROUPS.get(stage, stage)


def profile_demo(installations: int, out: Path, seed: int = 0):
    """Run the demo into ``out`` under a stage profile; its output is swallowed. Returns the profile."""
    from ..cli import main
    from ..stage_profile import StageProfile

    with StageProfile() as profile, contextlib.redirect_stdout(io.StringIO()):
        code = main(["demo", "--installations", str(installations), "--seed", str(seed), "--out", str(out),
                     "--json"])
    if code != 0:
        raise RuntimeError(f"althan-ota demo --installations {installations} exited with {code}")
    return profile


def run(quick: bool) -> list[Result]:
    import pyarrow.parquet as pq

    installations = QUICK_INSTALLATIONS if quick else FULL_INSTALLATIONS
    with tempfile.TemporaryDirectory(prefix="althan-e2e-") as tmp:
        profile = profile_demo(installations, Path(tmp) / "demo")
        devices = pq.read_metadata(Path(tmp) / "demo" / "fleet.parquet").num_rows
    return stage_results(profile, installations, devices)


def stage_results(profile, installations: int, devices: int) -> list[Result]:
    """One row for the whole job, then one per stage group (the waves' stages summed), in the job's order."""
    scale = f"demo {installations:,} installations"
    totals: dict[str, float] = {}
    for row in profile.rows:
        group = _group(row.stage)
        totals[group] = totals.get(group, 0.0) + row.wall_s
    return [Result("e2e", f"{scale}: end to end", "althan-ota", profile.total[0], devices, "device")] + [
        Result("e2e", f"{scale}: {group}", "althan-ota", seconds, devices, "device")
        for group, seconds in totals.items()]
