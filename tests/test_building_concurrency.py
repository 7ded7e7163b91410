"""The per-building concurrency cap of a campaign plan: a block of 200 flats never has more than the cap of
its installations downloading at once (read back from the stored events), the same seed gives the same run,
and a resumed run holds installations exactly as an uninterrupted one."""

from __future__ import annotations

import dataclasses

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from althan_ota.campaign import CampaignPlan, CampaignStore, create_campaign, run_campaign
from althan_ota.campaign.building_places import NO_BUILDING, BuildingPlaces
from althan_ota.campaign.states import State
from althan_ota.emulate import EmulationParams, OtaParams, OutageParams
from althan_ota.errors import ParameterError
from althan_ota.fleet import Fleet, generate_fleet

OLD = (0x01020000, 0x01030000, 0x00050003, 0x20190410, 0x20210902)
NEW = 0x01040000
FAST = EmulationParams(ota=OtaParams(min_block_period_s=0.01), outages=OutageParams.none(),
                       wan_delay_median_s=60.0)


def block_plan(**overrides) -> CampaignPlan:
    # every request of a wave goes out within seconds, so without a cap the whole wave downloads at once
    fields = dict(name="block", target_version=NEW, image_size=60_000, upgrade_paths=tuple((v, NEW) for v in OLD),
                  canary_installations=40, wave_growth=4.0, max_wave_installations=200,
                  requests_per_day=200_000)
    return CampaignPlan(**(fields | overrides))


@pytest.fixture(scope="module")
def block():
    """200 flats (and their plain PPMIDs) in one building."""
    fleet = generate_fleet(200, seed=5)
    table = fleet.table
    if "building_id" in table.column_names:
        table = table.drop_columns(["building_id"])
    return Fleet(table=table.append_column("building_id", pa.array(["BLOCK-1"] * len(table), pa.string())),
                 source="block")


def most_downloading_at_once(store: CampaignStore, campaign_id: str) -> int:
    """From the stored events: the most installations of one building downloading at one instant, where a
    device downloads from its DOWNLOADING event to its next event of that attempt. A place handed over at one
    instant is no overlap: times within a microsecond are one instant (the campaign clock is float seconds, the
    engine's integer nanoseconds)."""
    con = duckdb.connect()
    con.register("events", store.table("events", campaign_id))
    con.register("devices", store.table("devices", campaign_id))
    return con.execute("""
        WITH ordered AS (
            SELECT device_id, attempt, state, t,
                   lead(t) OVER (PARTITION BY device_id, attempt ORDER BY t, state) AS t_next
            FROM events WHERE attempt >= 1),
        spans AS (
            SELECT coalesce(d.installation_id, d.device_id) AS unit, o.attempt,
                   min(o.t) AS t0, max(o.t_next) AS t1
            FROM ordered o JOIN devices d USING (device_id)
            WHERE o.state = ? GROUP BY unit, o.attempt)
        SELECT max(n) FROM (SELECT (SELECT count(*) FROM spans b WHERE b.t0 <= a.t0 AND a.t0 < b.t1 - 1e-6) AS n
                            FROM spans a)""", [int(State.DOWNLOADING)]).fetchone()[0]


def run(fleet, plan, tmp_path, name, seed=3, **kwargs):
    store = CampaignStore(tmp_path / f"{name}.duckdb")
    create_campaign(store, plan, fleet, "mem", seed=seed, emulation=FAST, campaign_id="c")
    run_campaign(store, "c", fleet=fleet, **kwargs)
    return store


def final(store):
    return (store.table("devices", "c").sort_by([("device_id", "ascending")]),
            store.table("events", "c").sort_by([("device_id", "ascending"), ("t", "ascending"),
                                                 ("state", "ascending")]))


@pytest.mark.parametrize("cap", [1, 5, 20])
def test_a_block_never_has_more_than_the_cap_downloading(block, tmp_path, cap):
    with run(block, block_plan(building_concurrency=cap), tmp_path, "capped") as store:
        assert store.status("c") == "finished"
        assert 1 <= most_downloading_at_once(store, "c") <= cap
        capped_end = float(store.table("devices", "c")["t"].to_numpy().max())
    with run(block, block_plan(), tmp_path, "free") as store:
        free = most_downloading_at_once(store, "c")
        free_end = float(store.table("devices", "c")["t"].to_numpy().max())
    assert free > cap                     # without a cap the block downloads more at once ...
    assert capped_end > free_end          # ... and so finishes sooner


@pytest.mark.parametrize("cap", [3, 5])
def test_shared_air_keeps_the_cap_across_engine_calls(block, tmp_path, cap):
    """With shared air the engine holds a call's units under the cap, and the places earlier calls still hold
    (waves, and retries a minute after a WAN failure while the rest of the block downloads) count against it:
    the block never has more than the cap downloading. Before the held places, a call put up to the cap of its
    own beside those (cap 3: 5 at once, cap 5: 9)."""
    from althan_ota.campaign.plan import RetryPolicy

    store = CampaignStore(tmp_path / "shared.duckdb")
    shared = dataclasses.replace(FAST, contention=True, wan_failure_prob=0.3, outages=OutageParams())
    plan = block_plan(building_concurrency=cap, retry=RetryPolicy(backoff_s=60.0))
    create_campaign(store, plan, block, "mem", seed=3, emulation=shared, campaign_id="c")
    run_campaign(store, "c", fleet=block)
    attempts = store.table("events", "c")["attempt"].to_numpy()
    assert attempts.max() >= 2                      # retries ran in later engine calls
    assert most_downloading_at_once(store, "c") == cap
    store.close()


def test_same_seed_same_run_and_resume_holds_alike(block, tmp_path):
    plan = block_plan(building_concurrency=5)
    with run(block, plan, tmp_path, "a") as store:
        whole = final(store)
    with run(block, plan, tmp_path, "b") as store:
        again = final(store)
    assert whole[0].equals(again[0]) and whole[1].equals(again[1])
    store = CampaignStore(tmp_path / "c.duckdb")
    create_campaign(store, plan, block, "mem", seed=3, emulation=FAST, campaign_id="c")
    run_campaign(store, "c", fleet=block, max_waves=1)
    run_campaign(store, "c", fleet=block)
    resumed = final(store)
    store.close()
    assert whole[0].equals(resumed[0]) and whole[1].equals(resumed[1])


def test_held_units_start_when_the_cap_th_latest_place_frees():
    places = BuildingPlaces(2)
    start = places.start_times(np.array([7, 7, 7, 7, NO_BUILDING]), np.array([0.0, 1.0, 2.0, 3.0, 4.0]),
                               np.array([10.0, 5.0, 1.0, 1.0, 100.0]))
    # places free at 10 and 6: the third waits for 6, the fourth for 7 (the third's end), the unbuilt never waits
    assert start.tolist() == [0.0, 1.0, 6.0, 7.0, 4.0]
    assert BuildingPlaces(None).start_times(np.array([1, 1]), np.array([0.0, 0.0]), np.array([9.0, 9.0])).tolist() \
        == [0.0, 0.0]


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_the_cap_is_checked(bad):
    with pytest.raises(ParameterError, match="building_concurrency"):
        block_plan(building_concurrency=bad)


def test_the_command_line_caps_a_building(block, tmp_path):
    import subprocess
    import sys

    block.write(tmp_path / "block.parquet")
    args = [sys.executable, "-m", "althan_ota", "campaign", "run", "--fleet", str(tmp_path / "block.parquet"),
            "--target-version", "0x01040000", "--image-size", "60000", "--requests-per-day", "200000",
            "--building-concurrency", "3", "--store", str(tmp_path / "s.duckdb"), "--campaign-id", "c"]
    for v in OLD:
        args += ["--upgrade-path", f"0x{v:08X}:0x01040000"]
    subprocess.run(args, check=True, capture_output=True, text=True)
    with CampaignStore.for_reading(tmp_path / "s.duckdb") as store:
        assert CampaignPlan.from_json(store.campaign("c")["plan_json"]).building_concurrency == 3
        assert most_downloading_at_once(store, "c") <= 3
