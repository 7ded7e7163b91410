"""A campaign seen while it runs, and a campaign whose disk fills up (issue 20: status and reports of a
running campaign; item 6).

The run is a real ``althan-ota campaign run`` process; status and reports are read by other processes
(``althan-ota campaign status`` and ``report campaign``) while it holds its store. The full disk is a real
small tmpfs (the test skips where it cannot mount one; CI runs as root)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from althan_ota.campaign import CampaignPlan, CampaignStore, create_campaign
from althan_ota.campaign import snapshot as snapshot_module
from althan_ota.campaign.store_tables import DEVICES, EVENTS
from althan_ota.errors import AltHanError
from althan_ota.fleet import generate_fleet

OLD = (0x01020000, 0x01030000, 0x01030100)


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "althan_ota", *args], capture_output=True, text=True, **kw)


def _run_args(fleet_path: Path, store: Path, tmp_path: Path, image_size: int = 400_000) -> list[str]:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"max_wave_installations": 100, "wave_growth": 1.3, "canary_installations": 10}))
    args = ["campaign", "run", "--fleet", str(fleet_path), "--plan", str(plan), "--target-version", "0x01040000",
            "--image-size", str(image_size), "--store", str(store), "--campaign-id", "live", "--threads", "1",
            "--seed", "3", "--json"]
    for version in OLD:
        args += ["--upgrade-path", f"0x{version:08X}:0x01040000"]
    return args


@pytest.fixture(scope="module")
def fleet_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("live") / "fleet.parquet"
    generate_fleet(8000, seed=3).write(path)
    return path


def test_status_and_a_report_from_other_processes_while_the_campaign_runs(fleet_path, tmp_path):
    store = tmp_path / "campaigns.duckdb"
    writer = subprocess.Popen([sys.executable, "-m", "althan_ota", *_run_args(fleet_path, store, tmp_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stopped = False
    try:
        deadline = time.time() + 120
        while time.time() < deadline and writer.poll() is None:
            try:
                with CampaignStore.for_reading(store) as seen:
                    if seen.snapshot_at and "live" in seen.campaigns() and seen.committed_waves("live"):
                        os.kill(writer.pid, signal.SIGSTOP)   # hold the writer mid-run, its store locked
                        stopped = True
                        break
            except (AltHanError, duckdb.Error):
                pass            # nothing published yet
            time.sleep(0.02)
        if not stopped:
            pytest.skip("the run finished before a snapshot could be read")
        with CampaignStore.for_reading(store) as seen:
            if seen.status("live") != "running":    # it finished between the look and the stop
                pytest.skip("the run finished before it could be held mid-run")
        with pytest.raises(duckdb.Error, match="Conflicting lock"):
            duckdb.connect(str(store), read_only=True)        # the store itself is still the writer's

        status = _cli("campaign", "status", "--store", str(store), "--json", check=True)
        (summary,) = json.loads(status.stdout)
        assert summary["status"] == "running" and summary["snapshot_at"] is not None
        assert 1 <= summary["waves"]["committed"] < 41 and "in use by a running campaign" in status.stderr

        report = _cli("report", "campaign", "--store", str(store), "--out", str(tmp_path / "mid"), "--json",
                      check=True)
        mid = json.loads(report.stdout)
        assert mid["status"] == "running" and mid["devices"] == summary["devices"]
        assert "reporting from its snapshot" in report.stderr
        mid_waves = summary["waves"]["decisions"]
    finally:
        if stopped:
            os.kill(writer.pid, signal.SIGCONT)
        out, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err
    final = json.loads(out)
    assert final["status"] == "finished" and final["waves"]["decisions"][:len(mid_waves)] == mid_waves
    assert not Path(str(store) + ".snapshot").exists()        # the writer let go: readers read the store
    after = json.loads(_cli("campaign", "status", "--store", str(store), "--json", check=True).stdout)
    assert after[0]["snapshot_at"] is None and after[0]["states"] == final["states"]


def _small_store(tmp_path: Path, budget: float) -> tuple[CampaignStore, str]:
    fleet = generate_fleet(30, seed=4)
    plan = CampaignPlan(name="batches", target_version=0x01040000, image_size=20_000,
                        upgrade_paths=tuple((v, 0x01040000) for v in OLD))
    store = CampaignStore(tmp_path / "batches.duckdb")
    store.snapshots.budget = budget
    store.snapshots._opened -= snapshot_module.FIRST_AFTER_S     # as if held for a while already
    return store, create_campaign(store, plan, fleet, fleet_path="<memory>", campaign_id="batches")


def _event_batch(campaign_id: str, first: int, size: int) -> tuple[pa.Table, pa.Table]:
    ids = [f"70-B3-D5-00-00-00-{i // 256:02X}-{i % 256:02X}" for i in range(first, first + size)]
    n = len(ids)
    devices = pa.table({"campaign_id": [campaign_id] * n, "device_id": ids, "installation_id": [None] * n,
                        "ppmid_variant": ["PPMID"] * n, "wave": [0] * n, "state": [1] * n, "reason": [0] * n,
                        "attempts": [1] * n, "t": [float(first)] * n, "version_before": [0x01020000] * n,
                        "version_after": [0x01020000] * n}, schema=DEVICES)
    events = pa.table({"campaign_id": devices["campaign_id"], "device_id": devices["device_id"], "t": devices["t"],
                       "state": devices["state"], "reason": devices["reason"], "wave": devices["wave"],
                       "attempt": devices["attempts"]}, schema=EVENTS)
    return devices, events


def _snapshot_events(store: CampaignStore) -> int:
    with duckdb.connect(str(store.path) + ".snapshot", read_only=True) as reader:
        return reader.execute("SELECT count(*) FROM events WHERE t >= 1000").fetchall()[0][0]


def test_every_committed_batch_of_events_is_published(tmp_path):
    """A live campaign commits batches of events for days, not waves: each commit publishes."""
    store, cid = _small_store(tmp_path, budget=1.0)      # no pacing: every commit copies
    count = "SELECT count(*) FROM events WHERE t >= 1000"
    held = subprocess.Popen(       # another process keeps the first snapshot open all along
        [sys.executable, "-c", "import duckdb, sys\n"
         f"c = duckdb.connect(sys.argv[1], read_only=True)\nprint(c.execute({count!r}).fetchall()[0][0], flush=True)\n"
         f"sys.stdin.read()\nprint(c.execute({count!r}).fetchall()[0][0])", str(store.path) + ".snapshot"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert held.stdout.readline().strip() == "0"
    for batch in range(3):
        store.insert_devices(cid, *_event_batch(cid, 1000 + 10 * batch, 10))
        assert _snapshot_events(store) == 10 * (batch + 1)
    still, _ = held.communicate("", timeout=60)
    assert still.strip() == "0"           # its file was replaced under a new name, not changed
    store.close()
    assert not Path(str(store.path) + ".snapshot").exists()


@pytest.mark.parametrize("by_file_copy", [True, False])
def test_a_published_snapshot_holds_the_store_and_the_writer_keeps_its_lock(tmp_path, monkeypatch, by_file_copy):
    """Publishing copies the checkpointed file (or, failing that, copies through DuckDB): either way the
    snapshot holds what the store holds, and the writer still holds the store's lock afterwards (a copy made
    by this process would have dropped it: POSIX locks go with any descriptor of the file closing)."""
    if not by_file_copy:
        monkeypatch.setattr(snapshot_module.Publisher, "_copy_checkpointed_file", lambda self, partial: False)
    store, cid = _small_store(tmp_path, budget=1.0)
    store.insert_devices(cid, *_event_batch(cid, 1000, 40))
    store.snapshots.publish()
    assert store.snapshots.last_error is None and _snapshot_events(store) == 40
    probe = subprocess.run([sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1], read_only=True)",
                            str(store.path)], capture_output=True, text=True)
    assert probe.returncode != 0 and "Conflicting lock" in probe.stderr
    with duckdb.connect(str(store.path) + ".snapshot", read_only=True) as reader:
        published = reader.execute("SELECT * FROM devices ORDER BY ALL").fetchall()
    assert published == store.db.execute("SELECT * FROM devices ORDER BY ALL").fetchall()
    store.close()


def test_publishing_is_paced_to_a_share_of_the_writers_time(tmp_path, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(snapshot_module.time, "monotonic", lambda: clock[0])
    store, cid = _small_store(tmp_path, budget=0.1)
    publisher = store.snapshots
    publisher._last_end, publisher._last_cost = clock[0], 2.0       # the last copy took 2 s, just now
    store.insert_devices(cid, *_event_batch(cid, 1000, 5))
    assert publisher.pending and _snapshot_events(store) == 0       # due only 18 s after that copy
    clock[0] += 17.9
    store.insert_devices(cid, *_event_batch(cid, 2000, 5))
    assert publisher.pending and _snapshot_events(store) == 0
    clock[0] += 0.2
    store.insert_devices(cid, *_event_batch(cid, 3000, 5))
    assert not publisher.pending and _snapshot_events(store) == 15
    publisher._last_end, publisher._last_cost = clock[0], 2.0
    store.insert_devices(cid, *_event_batch(cid, 4000, 5))
    assert publisher.pending
    publisher.publish_pending()                                     # a quiet writer's idle loop
    assert not publisher.pending and _snapshot_events(store) == 20
    store.set_status(cid, "paused")                                 # a status change publishes at once
    with duckdb.connect(str(store.path) + ".snapshot", read_only=True) as reader:
        assert reader.execute("SELECT status FROM campaigns").fetchall() == [("paused",)]
    store.close()


def test_a_short_lived_writer_publishes_nothing(tmp_path):
    store = CampaignStore(tmp_path / "short.duckdb")
    store.insert_devices("none", *_event_batch("none", 1000, 3))
    assert store.snapshots.pending and not Path(str(store.path) + ".snapshot").exists()
    store.close()
    assert not Path(str(store.path) + ".snapshot").exists()


# --- a disk that fills up during a run (item 6) ------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_during_a_run_says_how_to_resume_and_resume_works_on_a_larger_disk(fleet_path, tmp_path,
                                                                                  small_disk):
    small = small_disk / "campaigns.duckdb"
    full = _cli(*_run_args(fleet_path, small, tmp_path, image_size=20_000))
    assert full.returncode == 1 and "Traceback" not in full.stderr, full.stderr
    (message,) = full.stderr.strip().splitlines()
    assert "CampaignStoreError" in message and "No space left on device" in message
    assert f"althan-ota campaign resume live --store {small}" in message

    larger = tmp_path / "larger"
    larger.mkdir()
    for part in small_disk.iterdir():
        if part.name.startswith("campaigns.duckdb") and not part.name.endswith(".snapshot"):
            shutil.copy(part, larger / part.name)
    resumed = _cli("campaign", "resume", "live", "--store", str(larger / "campaigns.duckdb"), "--json")
    assert resumed.returncode == 0, resumed.stderr
    reference = _cli(*_run_args(fleet_path, tmp_path / "reference.duckdb", tmp_path, image_size=20_000), check=True)
    with CampaignStore(larger / "campaigns.duckdb", read_only=True) as a, \
            CampaignStore(tmp_path / "reference.duckdb", read_only=True) as b:
        query = "SELECT * EXCLUDE (campaign_id) FROM {} ORDER BY ALL"
        for table in ("devices", "events", "transfers", "waves"):
            assert a.db.sql(query.format(table)).fetchall() == b.db.sql(query.format(table)).fetchall(), table
    assert json.loads(resumed.stdout)["states"] == json.loads(reference.stdout)["states"]
