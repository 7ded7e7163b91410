"""Data the report tests share: small hand-made fleets and campaign stores with exactly known histories,
and a realistic seeded store (althan_ota.testing.campaign_history) over a synthetic fleet."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa

from althan_ota.campaign import Reason, State
from althan_ota.campaign import store_tables
from althan_ota.fleet.inventory import validate
from althan_ota.fleet.schema import HUB_SIDE, METER_SIDE

STARTED = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)
OLD, NEW, NEWER = 0x01000000, 0x01000100, 0x01000200


def device_id(k: int) -> str:
    return "-".join(f"{b:02X}" for b in (0x70B3D5000000 * 0x10000 + k).to_bytes(8, "big"))


def ch_id(k: int) -> str:
    return "-".join(f"{b:02X}" for b in (0x00DB12 << 40 | k).to_bytes(8, "big"))


def fleet_rows(specs: dict[str, dict]) -> list[dict]:
    """One hub-side and one meter-side row per installation; ``specs[inst]`` overrides hub_*/meter_* fields."""
    rows, k = [], 0
    for n, (inst, spec) in enumerate(specs.items()):
        for side, variant in (("hub", HUB_SIDE), ("meter", METER_SIDE)):
            k += 1
            rows.append({
                "device_id": device_id(k), "device_type": "PPMID", "ppmid_variant": variant,
                "manufacturer": "Northbridge Radio", "model": f"NB-{side.upper()}",
                "hardware_version": "1", "firmware_version": f"0x{spec.get(side + '_version', OLD):08X}",
                "smi_status": spec.get(side + "_status", "Commissioned"),
                "join_mode": spec.get(side + "_join", "PPMID"), "ch_id": ch_id(n + 1), "mpan": None,
                "mprn": "123456", "installation_id": inst, "supplier": spec.get("supplier", "Albion Energy"),
            })
    return rows


def make_fleet(specs: dict[str, dict]):
    rows = fleet_rows(specs)
    table = pa.table({k: pa.array([r[k] for r in rows], pa.string()) for k in rows[0]})
    fleet = validate(table, np.arange(2, len(rows) + 2))
    assert fleet.quarantine.num_rows == 0, fleet.quarantine.to_pylist()
    return fleet


def history(end_state: State, reason: Reason = Reason.NONE, t0: float = 100.0) -> list[tuple[float, int, int, int]]:
    """(t, state, reason, attempt) events of one device ending in ``end_state``."""
    if end_state in (State.NOT_ELIGIBLE, State.WITHDRAWN):        # never requested
        return [(0.0, end_state, reason, 1)]
    path = [State.TARGETED, State.REQUESTED, State.IMAGE_AT_CH, State.DOWNLOADING, State.DOWNLOADED,
            State.ACTIVATED, State.VERIFIED]
    if end_state in path:
        steps = path[:path.index(end_state) + 1]
        return [(0.0 if s == State.TARGETED else t0 + 600.0 * i, s, 0, 1) for i, s in enumerate(steps)]
    before = {State.TRANSFER_FAILED: 3, State.UNREACHABLE: 2, State.HASH_MISMATCH: 5,
              State.ACTIVATION_FAILED: 6, State.CANCELLED: 2}[end_state]
    steps = path[:before]
    return [(0.0 if s == State.TARGETED else t0 + 600.0 * i, s, 0, 1) for i, s in enumerate(steps)] + \
        [(t0 + 600.0 * before, end_state, reason, 1)]


def write_store(path, campaigns: list[dict], devices: list[dict]) -> None:
    """``devices``: campaign_id, device_id, installation_id, ppmid_variant, end (State), reason, before,
    target (version_after when verified), wave."""
    events, device_rows, transfers = [], [], []
    for d in devices:
        hist = history(d["end"], d.get("reason", Reason.NONE), d.get("t0", 100.0))
        for t, s, r, a in hist:
            events.append({"campaign_id": d["campaign_id"], "device_id": d["device_id"], "t": t, "state": int(s),
                           "reason": int(r), "wave": d.get("wave", 0), "attempt": a})
        last = hist[-1]
        device_rows.append({
            "campaign_id": d["campaign_id"], "device_id": d["device_id"], "installation_id": d.get("installation_id"),
            "ppmid_variant": d.get("ppmid_variant"), "wave": -1 if d["end"] == State.NOT_ELIGIBLE else d.get("wave", 0),
            "state": int(last[1]), "reason": int(last[2]), "attempts": 1, "t": last[0],
            "version_before": d["before"],
            "version_after": d["target"] if d["end"] == State.VERIFIED else d["before"]})
        if any(s == State.DOWNLOADING for _, s, _, _ in hist):
            transfers.append({"campaign_id": d["campaign_id"], "device_id": d["device_id"], "exchanges": 5000,
                              "retries": 100, "han_airtime_s": 27.0,
                              "bridge_airtime_s": 95.0 if d.get("ppmid_variant") == METER_SIDE else 0.0,
                              "duty_cycle_wait_s": 40.0 if d.get("ppmid_variant") == METER_SIDE else 0.0,
                              "download_s": 1300.0})
    con = duckdb.connect(str(path))
    for name, rows, schema in (("campaigns", campaigns, store_tables.CAMPAIGNS),
                               ("devices", device_rows, store_tables.DEVICES),
                               ("events", events, store_tables.EVENTS),
                               ("transfers", transfers, store_tables.TRANSFERS)):
        con.register("incoming", pa.Table.from_pylist(rows, schema=schema))
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming")
        con.unregister("incoming")
    con.close()


def campaign_row(cid: str, target: int, started: dt.datetime = STARTED, status: str = "finished") -> dict:
    return {"campaign_id": cid, "name": f"test {cid}", "environment": "test", "target_version": target,
            "image_sha256": "00" * 32, "created_at": started - dt.timedelta(days=1), "started_at": started,
            "status": status, "plan_json": "{}"}
