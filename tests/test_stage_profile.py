"""The stage profile behind ``althan-ota demo --profile``: wall, CPU and resident memory per stage."""

from __future__ import annotations

import json
import mmap
import time

import pytest

from althan_ota.cli import main
from althan_ota.stage_profile import StageProfile, stage


def touched_pages(mib: int) -> mmap.mmap:
    """Fresh resident memory that ``close()`` returns to the system: malloc (numpy's allocator) may hand out
    pages the process already holds, or keep a freed block, depending on what earlier tests did."""
    block = mmap.mmap(-1, mib * 2**20)
    for _ in range(mib):
        block.write(b"\x01" * 2**20)
    return block


def test_stage_is_a_no_op_without_an_active_profile():
    with stage("nothing records this"):
        pass
    with StageProfile() as profile:
        pass
    assert profile.rows == []


def test_a_stage_sees_the_peak_of_memory_it_frees_before_it_ends():
    with StageProfile() as profile:
        with stage("allocate and free"):
            block = touched_pages(256)
            time.sleep(0.05)                           # the sampler's interval is 5 ms
            block.close()
        with stage("idle"):
            time.sleep(0.02)
    alloc, idle = profile.rows
    assert alloc.stage == "allocate and free" and idle.stage == "idle"
    assert alloc.peak_delta_mb >= 192
    assert alloc.rss_end_mb < alloc.rss_peak_mb - 192  # freed again
    assert idle.peak_delta_mb < 16


def test_cpu_seconds_count_busy_work_not_sleep():
    with StageProfile() as profile:
        with stage("busy"):
            end = time.process_time() + 0.2
            while time.process_time() < end:
                pass
        with stage("asleep"):
            time.sleep(0.2)
    busy, asleep = profile.rows
    assert busy.cpu_s >= 0.15
    assert asleep.cpu_s < 0.1 and asleep.wall_s >= 0.19


def test_stages_in_two_threads_each_see_their_own_peak():
    import threading

    allocated, release = threading.Event(), threading.Event()

    def other():
        with stage("other thread"):
            block = touched_pages(64)
            allocated.set()
            release.wait(5)
            block.close()

    with StageProfile() as profile:
        with stage("main thread, before"):
            time.sleep(0.02)
        worker = threading.Thread(target=other)
        with stage("main thread, during"):
            worker.start()
            allocated.wait(5)
            time.sleep(0.03)
            release.set()
            worker.join()
    rows = {r.stage: r for r in profile.rows}
    assert rows["other thread"].peak_delta_mb >= 56
    assert rows["main thread, during"].peak_delta_mb >= 56
    assert rows["main thread, before"].peak_delta_mb < 16


def test_profiles_do_not_nest():
    with StageProfile():
        with pytest.raises(RuntimeError, match="already active"):
            StageProfile().__enter__()


def test_demo_profile_records_every_stage(tmp_path, capsys):
    out, profile_path = tmp_path / "demo", tmp_path / "profile.json"
    assert main(["demo", "--installations", "1000", "--out", str(out), "--profile", str(profile_path)]) == 0
    data = json.loads(profile_path.read_text())
    names = [s["stage"] for s in data["stages"]]
    # the fleet file is written on another thread while the release, plan and campaign run, and the HTML
    # page's campaign section is built on another while the fleet report and out-of-sync run
    assert names.count("fleet write") == 1 and names.count("campaign section (beside)") == 1
    assert names.index("campaign section (beside)") > names.index("summary")
    assert names.index("campaign section (beside)") < names.index("html report")
    names.remove("fleet write")
    names.remove("campaign section (beside)")
    assert names[:4] == ["fleet generation", "release", "plan", "campaign create"]
    assert names[-4:] == ["summary", "fleet report", "out-of-sync", "html report"]
    waves = [n for n in names if n.startswith("wave ")]
    n_waves = len(waves) // 3
    assert n_waves >= 2
    assert waves == [f"wave {w} {part}" for w in range(n_waves) for part in ("emulate", "tables", "store")]
    assert data["installations"] == 1000 and data["process_peak_mb"] > 0
    assert all(s["wall_s"] >= 0 and s["cpu_s"] >= 0 and s["rss_peak_mb"] >= s["rss_start_mb"]
               for s in data["stages"])
    table = capsys.readouterr().err
    assert "html report" in table and "peak +MB" in table


def test_e2e_bench_rows_group_the_waves(tmp_path):
    from althan_ota.bench import e2e

    profile = e2e.profile_demo(1000, tmp_path / "demo")
    results = e2e.stage_results(profile, 1000, 2050)
    kernels = [r.kernel.split(": ", 1)[1] for r in results]
    assert kernels[0] == "end to end" and results[0].seconds == profile.total[0]
    for group in ("fleet generation", "fleet write", "plan", "emulate, all waves", "tables, all waves",
                  "store, all waves", "fleet report", "out-of-sync", "campaign section (beside)", "html report"):
        assert kernels.count(group) == 1, group
    emulate = next(r for r in results if r.kernel.endswith("emulate, all waves"))
    assert emulate.seconds == pytest.approx(sum(r.wall_s for r in profile.rows if r.stage.endswith(" emulate")))
    assert all(r.suite == "e2e" and r.impl == "althan-ota" and r.ratio is None for r in results)
