"""A seeded, plausible campaign history written as a campaign store (the tables of ``campaign.store_tables``):
what the reports' tests, benchmarks and README samples read until the campaign engine writes real ones.

Each targeted bridge is planned at t = 0 and requested when its wave opens; then the image crosses the WAN
to the Communications Hub, the bridge pulls it block by block (slower and more failure-prone on a poor link;
the meter-side also crosses the bridge link under a duty-cycle limit), activates it and is read back.
Failures happen where they do in the field (WAN, no answer, HAN or bridge link, timeout, hash, activation),
each as an outcome of the campaign's outcome table; a failed transfer is retried once. Everything is drawn column-wise with numpy; ``snapshot_s`` cuts the history to
show a campaign still running.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..campaign import State, outcome
from ..campaign import store_tables
from ..fleet.inventory import Fleet
from ..fleet.schema import BRIDGE_VARIANTS, JOINED_AS_CAD, METER_SIDE

IMAGE_BYTES = 240_000
BLOCK_BYTES = 48
WAVE_SPACING_S = 12 * 3600.0
# where an attempt can fail: (stage it fails at, probability (None: the link's), outcome key); the stages are
# those of _STAGES: 1 the image crossing the WAN, 3 the download, 4 the hash check, 5 activation and read-back
_HAZARDS = ((1, 0.03, "wan_failed"), (1, 0.01, "duis_no_response"), (3, None, "aborted"), (3, 0.005, "timeout"),
            (4, 0.003, "hash_failure"), (5, 0.006, "activation_failed"), (5, 0.002, "readback_mismatch"))
# a transfer that failed (not a hash or an activation failure) is retried once
_RETRIED = [k for k, (_, _, key) in enumerate(_HAZARDS) if outcome(key).retry in ("transfer", "unreachable")]
_STAGES = (State.REQUESTED, State.IMAGE_AT_CH, State.DOWNLOADING, State.DOWNLOADED, State.ACTIVATED,
           State.VERIFIED)


def write_sample_store(path: str | Path, fleet: Fleet | pa.Table, *, campaign_id: str = "C-0001",
                       manufacturer: str | None = None, target_version: int | None = None, waves: int = 4,
                       seed: int = 0, snapshot_s: float | None = None,
                       started_at: dt.datetime = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)) -> dict:
    """Add one campaign over ``manufacturer``'s bridges (default: the most common) to the store at ``path``
    (created if missing). Returns a summary: campaign ID, target version, devices, events."""
    import duckdb

    table = fleet.table if isinstance(fleet, Fleet) else fleet
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5707E]))
    bridges = table.filter(pc.is_in(table["ppmid_variant"], pa.array(BRIDGE_VARIANTS)))
    if manufacturer is None:
        counts = pc.value_counts(bridges["manufacturer"]).to_pylist()
        manufacturer = max(counts, key=lambda c: (c["counts"], c["values"]))["values"]
    rows = bridges.filter(pc.equal(bridges["manufacturer"], manufacturer))
    n = rows.num_rows
    version_before = rows["firmware_version"].to_numpy().astype(np.uint32)
    if target_version is None:   # a new release: the manufacturer's most common version with its minor bumped
        target_version = int(pc.mode(rows["firmware_version"])[0]["mode"].as_py()) + 0x100
    meter = pc.equal(rows["ppmid_variant"], METER_SIDE).to_numpy(zero_copy_only=False)
    status = rows["smi_status"].to_numpy(zero_copy_only=False)
    column = {name: (rows[name].to_numpy(zero_copy_only=False) if name in rows.column_names else np.full(n, 0.05))
              for name in ("han_per", "bridge_per")}
    link_per = np.where(meter, column["bridge_per"], column["han_per"]).astype(float)

    reason = np.zeros(n, dtype=np.uint8)
    reason[status == "Suspended"] = outcome("suspended").reason
    reason[status == "Decommissioned"] = outcome("decommissioned").reason
    reason[(reason == 0) & (status != "Commissioned")] = outcome("not_commissioned").reason
    reason[(reason == 0) & (version_before == target_version)] = outcome("already_current").reason
    reason[(reason == 0) & (rng.random(n) < 0.01)] = outcome("excluded").reason
    reason[pc.equal(rows["join_mode"], JOINED_AS_CAD).to_numpy(zero_copy_only=False)] = outcome("joined_as_cad").reason
    eligible = reason == 0
    # signed before -1 meets it: numpy >= 2.5 refuses a negative Python int beside a uint64 array
    wave = np.where(eligible, _spread(pc.fill_null(rows["installation_id"], ""), waves).astype(np.int32),
                    np.int32(-1))

    # one TARGETED slot at t = 0, then the slots of each attempt; 255 marks a slot that never happens. Attempt 1
    # starts when the device's wave opens; a transfer that failed for a retryable reason is retried 6-18 h later.
    times, states = [np.zeros((n, 1))], [np.zeros((n, 1), np.uint8)]
    reasons, attempts = [np.zeros((n, 1), np.uint8)], [np.ones((n, 1), np.int32)]
    start = wave * WAVE_SPACING_S + rng.uniform(0, 3600, n)
    running = eligible.copy()
    blocks_done = np.zeros(n)
    for attempt in (1, 2):
        t, s, r, valid, ended_at, why, done = _attempt(rng, start, link_per, meter, attempt)
        valid &= running[:, None]
        times.append(t)
        states.append(np.where(valid, s, 255).astype(np.uint8))
        reasons.append(np.where(valid, r, 0).astype(np.uint8))
        attempts.append(np.full(t.shape, attempt, np.int32))
        blocks_done += np.where(running, done, 0)
        running &= np.isin(why, _RETRIED)
        start = ended_at + rng.uniform(6 * 3600, 18 * 3600, n)
    t = np.concatenate(times, axis=1)
    s = np.concatenate(states, axis=1)
    r = np.concatenate(reasons, axis=1)
    a = np.concatenate(attempts, axis=1)
    s[~eligible, 0] = State.NOT_ELIGIBLE
    r[~eligible, 0] = reason[~eligible]
    valid = s != 255
    end_of_history = float(t[valid].max()) if valid.any() else 0.0
    if snapshot_s is not None:
        valid &= t <= snapshot_s
    last = t.shape[1] - 1 - np.argmax(valid[:, ::-1], axis=1)
    at = np.arange(n)
    final_state, final_reason, final_t = s[at, last], r[at, last], t[at, last]
    verified = final_state == State.VERIFIED

    device_ids = rows["device_id"].combine_chunks()
    event_rows, event_cols = np.nonzero(valid)
    events = pa.table({
        "campaign_id": pa.array(np.full(len(event_rows), campaign_id)),
        "device_id": pc.take(device_ids, pa.array(event_rows)),
        "t": pa.array(t[event_rows, event_cols]),
        "state": pa.array(s[event_rows, event_cols]),
        "reason": pa.array(r[event_rows, event_cols]),
        "wave": pa.array(wave[event_rows]),
        "attempt": pa.array(a[event_rows, event_cols]),
    }, schema=store_tables.EVENTS)
    devices = pa.table({
        "campaign_id": pa.array(np.full(n, campaign_id)), "device_id": device_ids,
        "installation_id": rows["installation_id"], "ppmid_variant": rows["ppmid_variant"],
        "wave": pa.array(wave), "state": pa.array(final_state), "reason": pa.array(final_reason),
        "attempts": pa.array(a[at, last] * eligible), "t": pa.array(final_t),
        "version_before": pa.array(version_before),
        "version_after": pa.array(np.where(verified, np.uint32(target_version), version_before).astype(np.uint32)),
    }, schema=store_tables.DEVICES)
    transfers = _transfers(rng, campaign_id, device_ids, blocks_done, link_per, meter)
    finished = snapshot_s is None or snapshot_s >= end_of_history
    plan = {"manufacturer": manufacturer, "waves": waves, "wave_spacing_s": WAVE_SPACING_S,
            "image_bytes": IMAGE_BYTES, "block_bytes": BLOCK_BYTES, "retries": 1, "seed": seed}
    campaigns = pa.table({
        "campaign_id": [campaign_id], "name": [f"{manufacturer} to 0x{target_version:08X}"],
        "environment": ["test"], "target_version": pa.array([target_version], pa.uint32()),
        "image_sha256": [f"{seed:064x}"], "created_at": pa.array([started_at - dt.timedelta(days=7)], pa.timestamp("s", tz="UTC")),
        "started_at": pa.array([started_at], pa.timestamp("s", tz="UTC")),
        "status": ["finished" if finished else "running"], "plan_json": [json.dumps(plan)],
    }, schema=store_tables.CAMPAIGNS)

    con = duckdb.connect(str(path))
    try:
        for name, data in (("campaigns", campaigns), ("devices", devices), ("events", events),
                           ("transfers", transfers)):
            con.register("incoming", data)
            con.execute(f"CREATE TABLE IF NOT EXISTS {name} AS SELECT * FROM incoming WHERE false")
            con.execute(f"INSERT INTO {name} SELECT * FROM incoming")
            con.unregister("incoming")
    finally:
        con.close()
    return {"campaign_id": campaign_id, "manufacturer": manufacturer, "target_version": f"0x{target_version:08X}",
            "devices": n, "eligible": int(eligible.sum()), "verified": int(verified.sum()), "events": len(event_rows)}


def _attempt(rng, start, link_per, meter, attempt):
    """One attempt's six stage slots (n, 6): times, states, reasons, which slots happen, when the attempt
    ended, which of _HAZARDS ended it (-1: none) and the fraction of the image's blocks it moved."""
    n = len(start)
    blocks = IMAGE_BYTES / BLOCK_BYTES
    period = np.where(meter, 0.9, 0.25) * (1 + link_per / (1 - link_per))     # seconds per block exchange
    durations = np.stack([
        rng.uniform(1, 120, n),                                   # wave open -> SRV 11.4 accepted
        rng.lognormal(np.log(600), 0.8, n),                       # image across the WAN to the CH
        rng.uniform(5, 300, n),                                   # device starts pulling
        blocks * period * rng.lognormal(0, 0.25, n),              # the download itself
        rng.uniform(600, 7200, n),                                # activation time
        rng.uniform(300, 1800, n),                                # SRV 11.2 read-back
    ], axis=1)
    times = start[:, None] + np.cumsum(durations, axis=1)
    states = np.tile(np.array(_STAGES, np.uint8), (n, 1))
    reasons = np.zeros((n, 6), np.uint8)
    p_link = np.clip(0.01 + 0.8 * link_per, 0, 0.6) / attempt
    fail_stage = np.full(n, 6)
    fail_state = np.zeros(n, np.uint8)
    fail_reason = np.zeros(n, np.uint8)
    why = np.full(n, -1)
    for k, (stage, p, key) in enumerate(_HAZARDS):
        row = outcome(key)
        hit = (rng.random(n) < (p_link if p is None else p)) & (fail_stage > stage)
        fail_stage[hit], fail_state[hit], why[hit] = stage, row.state, k
        fail_reason[hit] = np.where(meter, row.reason_on(1), row.reason_on(0))[hit]
    failed = fail_stage < 6
    at = np.flatnonzero(failed)
    states[at, fail_stage[at]] = fail_state[at]
    reasons[at, fail_stage[at]] = fail_reason[at]
    fraction = np.where(fail_stage > 3, 1.0, np.where(fail_stage == 3, rng.uniform(0.05, 0.95, n), 0.0))
    # a link failure happens part-way through the download
    times[at, 3] = np.where(fail_stage[at] == 3, times[at, 2] + durations[at, 3] * fraction[at], times[at, 3])
    valid = np.arange(6)[None, :] <= fail_stage[:, None]
    ended_at = times[np.arange(n), np.minimum(fail_stage, 5)]
    return times, states, reasons, valid, ended_at, why, fraction


def _transfers(rng, campaign_id, device_ids, blocks_done, link_per, meter) -> pa.Table:
    started = blocks_done > 0
    rows = np.flatnonzero(started)
    exchanges = np.ceil(blocks_done[rows] * IMAGE_BYTES / BLOCK_BYTES).astype(np.int64)
    per = link_per[rows]
    retries = rng.binomial(exchanges, np.clip(per, 0, 0.95)).astype(np.int64)
    frames = 2 * (exchanges + retries)
    han_airtime = frames * 0.0027                      # request + 48-byte response at 250 kbit/s
    is_meter = meter[rows]
    bridge_airtime = np.where(is_meter, frames * 0.0095, 0.0)
    duty_wait = np.where(is_meter, bridge_airtime * 9.0 * rng.uniform(0.05, 0.3, len(rows)), 0.0)
    download = (exchanges + retries) * np.where(is_meter, 0.9, 0.25)
    return pa.table({
        "campaign_id": pa.array(np.full(len(rows), campaign_id)), "device_id": pc.take(device_ids, pa.array(rows)),
        "exchanges": pa.array(exchanges), "retries": pa.array(retries), "han_airtime_s": pa.array(han_airtime),
        "bridge_airtime_s": pa.array(bridge_airtime), "duty_cycle_wait_s": pa.array(duty_wait),
        "download_s": pa.array(download + duty_wait),
    }, schema=store_tables.TRANSFERS)


def _spread(values: pa.Array, buckets: int) -> np.ndarray:
    """Equal values to the same bucket, spread evenly and deterministically (for the fleet's order)."""
    codes = pc.dictionary_encode(values).combine_chunks().indices.to_numpy().astype(np.uint64) \
        if isinstance(values, pa.ChunkedArray) else pc.dictionary_encode(values).indices.to_numpy().astype(np.uint64)
    with np.errstate(over="ignore"):
        return ((codes * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(40)) % np.uint64(buckets)
