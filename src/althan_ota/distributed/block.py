"""A block of flats planned at several per-building concurrency caps: how long the whole block takes.

Each point (cap, channels per building, seed) is a campaign dry-run (create_campaign + run_campaign on an
in-memory store) over one synthetic building of ``flats`` installations, all eligible, released in one wave
whose requests go out within seconds, so the cap alone paces the building. The block's completion time
runs from its first SRV 11.4 request to its last device's final state (as report/building_sizes.py times a
building). Channels per building: as the sweep axis ``channel`` (grid.with_channels). With shared air a
campaign needs a cap to know its buildings, so "no cap" is then a cap of ``flats`` (which never binds within
one engine call: the block has no more flats).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ..campaign.outcomes import STATE_CATEGORY
from ..campaign.plan import CampaignPlan
from ..campaign.runner import create_campaign, run_campaign
from ..campaign.states import State
from ..campaign.store import CampaignStore
from ..emulate import EmulationParams
from ..fleet import Fleet, generate_fleet
from .grid import with_channels

BLOCK_ID = "BLOCK"
TARGET_VERSION = 0x7F000000       # above every version the synthetic fleet runs
SCHEMA = pa.schema([("building_concurrency", pa.int64()), ("channels", pa.int64()), ("seeds", pa.int64()),
                    ("block_median_s", pa.float64()), ("block_min_s", pa.float64()), ("block_max_s", pa.float64()),
                    ("device_p90_s", pa.float64()), ("failure_share", pa.float64())])


def block_fleet(flats: int, seed: int = 0) -> Fleet:
    """``flats`` P2P installations in one building, every one commissioned, joined as a PPMID."""
    fleet = generate_fleet(flats, seed=seed, standard_ppmids=0.0, cad_joined=0.0, suspended=0.0,
                           decommissioned=0.0)
    table = fleet.table.drop_columns([c for c in ("building_id",) if c in fleet.table.column_names])
    return Fleet(table=table.append_column("building_id", pa.array([BLOCK_ID] * len(table), pa.string())),
                 source=f"block of {flats} flats")


def plan_block(flats: int, caps: list[int | None], channels: list[int | None] = (None,),
               image_size: int = 240_000, seeds: int = 3, seed: int = 0,
               params: EmulationParams | None = None) -> pa.Table:
    """One row per (cap, channels): the block's completion time over ``seeds`` seeds (median, min, max), the
    devices' p90 time to a final state, and the share of devices that failed. ``None`` in ``caps``: no cap;
    in ``channels``: the parameters' own channel set-up."""
    params = params or EmulationParams()
    fleet = block_fleet(flats, seed)
    versions = sorted(set(fleet.column("firmware_version").astype(np.int64).tolist()) - {TARGET_VERSION})
    rows = []
    for channel_count in channels:
        emulation = params if channel_count is None else with_channels(params, channel_count)
        for cap in caps:
            held = flats if cap is None and emulation.contention else cap
            plan = CampaignPlan(name="block", target_version=TARGET_VERSION, image_size=image_size,
                                upgrade_paths=tuple((v, TARGET_VERSION) for v in versions),
                                canary_installations=flats, max_wave_installations=flats,
                                requests_per_day=200_000, pause_failure_rate=1.0, abort_failure_rate=1.0,
                                building_concurrency=held)
            runs = [_one_run(plan, fleet, emulation, seed + k) for k in range(seeds)]
            block = np.array([r[0] for r in runs])
            rows.append({"building_concurrency": cap, "channels": channel_count, "seeds": seeds,
                         "block_median_s": float(np.median(block)), "block_min_s": float(block.min()),
                         "block_max_s": float(block.max()), "device_p90_s": float(np.median([r[1] for r in runs])),
                         "failure_share": float(np.mean([r[2] for r in runs]))})
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def _one_run(plan: CampaignPlan, fleet: Fleet, emulation: EmulationParams, seed: int) -> tuple[float, float, float]:
    """(block completion, devices' p90 time to a final state from the first request, failed share)."""
    with CampaignStore(":memory:") as store:
        cid = create_campaign(store, plan, fleet, fleet_path="<memory>", seed=seed, emulation=emulation,
                              campaign_id="block")
        run_campaign(store, cid, fleet=fleet)
        failed = sorted(int(s) for s, category in STATE_CATEGORY.items() if category == "failed")
        first, last, p90, share = store.db.execute(f"""
            WITH r AS (SELECT min(t) AS t0 FROM events WHERE campaign_id = ? AND state = {int(State.REQUESTED)})
            SELECT (SELECT t0 FROM r), max(t), quantile_cont(t, 0.9),
                   avg(CASE WHEN state IN ({', '.join(map(str, failed))}) THEN 1.0 ELSE 0.0 END)
            FROM devices WHERE campaign_id = ? AND wave >= 0""", [cid, cid]).fetchall()[0]
    return last - first, p90 - first, share
