"""Out-of-sync pairs: installations whose hub-side and meter-side bridges run different firmware, each with
its likely cause and the next action.

A side's cause comes from its latest campaign in the store (its end state and reason) or, for a device no
campaign has touched, from the inventory (joined as CAD, suspended, not commissioned, never targeted). The
pair's cause is that of the side still behind: the side that did not reach ``verified``; when both are
behind, the more serious of the two (CAUSES is ordered by seriousness). Pairs whose versions a release's
compatibility table marks incompatible are urgent; compatible ones benign; unlisted ones unknown.
"""

from __future__ import annotations

import pyarrow as pa

from ..campaign import Reason, State
from ..campaign.outcomes import CAUSES, VERIFIED_CAUSE, state_pairs
from ..fleet.schema import HUB_SIDE, JOINED_AS_CAD, METER_SIDE
from . import _duck
from .firmware import current_sql
from .inputs import read_compatibility
from .store_reader import CATALOG

CAUSE_SCHEMA = pa.schema([("key", pa.string()), ("rank", pa.int32()), ("cause", pa.string()),
                          ("action", pa.string())])
URGENCY_ORDER = ("urgent", "unknown", "benign")

OUT_OF_SYNC_SCHEMA = pa.schema([
    ("installation_id", pa.string()), ("supplier", pa.string()), ("manufacturer", pa.string()),
    ("ch_id", pa.string()), ("hub_device_id", pa.string()), ("meter_device_id", pa.string()),
    ("hub_version", pa.string()), ("meter_version", pa.string()), ("hub_status", pa.string()),
    ("meter_status", pa.string()), ("compatibility", pa.string()), ("urgency", pa.string()),
    ("side", pa.string()), ("cause", pa.string()), ("next_action", pa.string()),
    ("hub_cause", pa.string()), ("meter_cause", pa.string()),
])


def _labels(enum) -> pa.Table:
    return pa.table({"code": pa.array([int(m) for m in enum], pa.uint8()), "label": [m.label for m in enum]})


def _side_cause_sql(has_store: bool) -> str:
    """Cause key of one side (columns join_mode, smi_status of the inventory; ``oc.cause``: the outcome table's
    cause of the state and reason of the side's latest campaign row)."""
    inventory_only = f"""CASE WHEN smi_status = 'Suspended' THEN 'suspended'
                              WHEN smi_status <> 'Commissioned' THEN 'not_commissioned'
                              ELSE 'never_targeted' END"""
    if not has_store:
        return f"CASE WHEN join_mode = '{JOINED_AS_CAD}' THEN 'joined_as_cad' ELSE {inventory_only} END"
    return f"""CASE WHEN join_mode = '{JOINED_AS_CAD}' THEN 'joined_as_cad'
                     WHEN lc.state IS NULL THEN {inventory_only}
                     ELSE oc.cause END"""


def _outcome_causes() -> pa.Table:
    """(state, reason) -> cause key, for every pair the outcome table lets a producer write (the attached store
    was checked to hold no other: report.store_reader.open_store)."""
    pairs = state_pairs()
    return pa.table({"state": pa.array([s for s, _ in pairs], pa.uint8()),
                     "reason": pa.array([r for _, r in pairs], pa.uint8()),
                     "cause": [row.cause for row in pairs.values()]})


def _latest_campaign_sql(where: str = "") -> str:
    """Each device's row in the campaign that started last among those it was in (of the devices ``where``,
    a condition on ``d``, selects)."""
    return f"""SELECT d.device_id, arg_max(d.state, coalesce(c.started_at, c.created_at)) AS state,
                      arg_max(d.reason, coalesce(c.started_at, c.created_at)) AS reason
               FROM {CATALOG}.devices d JOIN {CATALOG}.campaigns c USING (campaign_id) {where}
               GROUP BY d.device_id"""


def _release_table(compatibility) -> pa.Table:
    """A release bundle's compatibility lists the pairs that work; among the versions it knows, every other
    pair does not. Versions it never mentions (other products) stay unknown."""
    versions = sorted({v for pair in compatibility.pairs for v in pair})
    hub = [h for h in versions for _ in versions]
    meter = [m for _ in versions for m in versions]
    return pa.table({"hub_version": pa.array(hub, pa.uint32()), "meter_version": pa.array(meter, pa.uint32()),
                     "compatible": [compatibility.is_compatible(h, m) for h, m in zip(hub, meter)]})


def out_of_sync(session, compatibility=None) -> pa.Table:
    """OUT_OF_SYNC_SCHEMA rows, urgent first, then by seriousness of cause and installation."""
    con, has_store = session.con, session.store is not None
    con.register("causes", pa.table(
        {"key": [c.key for c in CAUSES], "rank": list(range(len(CAUSES))), "cause": [c.text for c in CAUSES],
         "action": [c.action for c in CAUSES]}, schema=CAUSE_SCHEMA))
    con.register("outcome_causes", _outcome_causes())
    con.register("state_labels", _labels(State))
    con.register("reason_labels", _labels(Reason))
    if hasattr(compatibility, "pairs") and hasattr(compatibility, "is_compatible"):
        compatibility = _release_table(compatibility)
    compat = read_compatibility(compatibility) if compatibility is not None else None
    con.register("compat", compat if compat is not None else pa.table(
        {"hub_version": pa.array([], pa.uint32()), "meter_version": pa.array([], pa.uint32()),
         "compatible": pa.array([], pa.bool_())}))
    latest = _latest_campaign_sql("WHERE d.device_id IN (SELECT device_id FROM apart_devices)") if has_store else \
        "SELECT NULL::VARCHAR AS device_id, NULL::UTINYINT AS state, NULL::UTINYINT AS reason WHERE false"
    side = f"""SELECT cur.*, lc.state, lc.reason, {_side_cause_sql(has_store)} AS cause_key
               FROM apart_devices cur LEFT JOIN latest lc USING (device_id)
               LEFT JOIN outcome_causes oc ON oc.state = lc.state AND oc.reason = lc.reason"""
    # Only installations whose bridges run different versions can be out of sync: found first with one
    # aggregate, so the causes, the store's latest rows and the pairing join touch thousands of devices, not
    # every device of the fleet (which a national fleet's join held in 1.9 GB). The current versions are
    # written out twice rather than as one CTE: DuckDB materialises a CTE read twice, and that copy of every
    # column of every device (4 M at national scale) spilled past the session's memory cap and doubled the
    # run; written twice, the aggregate reads only the columns it needs and the second scan keeps only the
    # apart installations' devices.
    current = current_sql(session.store, session.extract_date)
    apart = f"""SELECT installation_id FROM ({current})
                WHERE ppmid_variant IN {_duck.in_list((HUB_SIDE, METER_SIDE))}
                GROUP BY installation_id HAVING min(version) <> max(version)"""
    verified = _duck.quote(VERIFIED_CAUSE)
    detail = f"""CASE WHEN {{s}}.cause_key = {verified} THEN {verified}
                      WHEN {{s}}.cause_key IN {_duck.in_list([c.key for c in CAUSES if c.shows_reason])}
                          THEN {{c}}.cause || coalesce(' (' || {{rl}}.label || ')', '')
                      ELSE {{c}}.cause END"""
    try:
        table = _duck.arrow(con, f"""
            WITH apart AS ({apart}),
                 apart_devices AS (SELECT * FROM ({current}) SEMI JOIN apart USING (installation_id)),
                 latest AS ({latest}),
                 sides AS ({side}),
                 pairs AS (
                     SELECT h.installation_id, h.supplier, h.manufacturer, h.ch_id,
                            h.device_id AS hub_device_id, m.device_id AS meter_device_id,
                            h.version AS hub_v, m.version AS meter_v, h.smi_status AS hub_status,
                            m.smi_status AS meter_status, h.cause_key AS hub_key, m.cause_key AS meter_key,
                            {detail.format(s='h', c='hc', rl='hr')} AS hub_cause,
                            {detail.format(s='m', c='mc', rl='mr')} AS meter_cause,
                            coalesce(hc.rank, 99) AS hub_rank, coalesce(mc.rank, 99) AS meter_rank
                     FROM sides h JOIN sides m USING (installation_id)
                     LEFT JOIN causes hc ON hc.key = h.cause_key LEFT JOIN causes mc ON mc.key = m.cause_key
                     LEFT JOIN reason_labels hr ON hr.code = h.reason AND h.reason <> 0
                     LEFT JOIN reason_labels mr ON mr.code = m.reason AND m.reason <> 0
                     WHERE h.ppmid_variant = '{HUB_SIDE}' AND m.ppmid_variant = '{METER_SIDE}'
                       AND h.version <> m.version),
                 chosen AS (
                     SELECT *, CASE
                         WHEN hub_key = {verified} AND meter_key = {verified} THEN 'both_verified'
                         WHEN hub_key = {verified} THEN meter_key
                         WHEN meter_key = {verified} OR hub_key = meter_key OR hub_rank <= meter_rank THEN hub_key
                         ELSE meter_key END AS key,
                         CASE
                         WHEN hub_key = {verified} AND meter_key = {verified} OR hub_key = meter_key THEN 'both sides'
                         WHEN hub_key = {verified} THEN 'meter-side'
                         WHEN meter_key = {verified} OR hub_rank <= meter_rank THEN 'hub-side'
                         ELSE 'meter-side' END AS side
                     FROM pairs)
            SELECT p.installation_id, p.supplier, p.manufacturer, p.ch_id, p.hub_device_id, p.meter_device_id,
                   printf('0x%08X', p.hub_v) AS hub_version, printf('0x%08X', p.meter_v) AS meter_version,
                   p.hub_status, p.meter_status,
                   CASE WHEN k.compatible THEN 'compatible' WHEN NOT k.compatible THEN 'incompatible'
                        ELSE 'unknown' END AS compatibility,
                   CASE WHEN k.compatible THEN 'benign' WHEN NOT k.compatible THEN 'urgent'
                        ELSE 'unknown' END AS urgency,
                   p.side,
                   CASE WHEN p.side = 'hub-side' THEN p.hub_cause WHEN p.side = 'meter-side' THEN p.meter_cause
                        WHEN p.key = 'both_verified' THEN c.cause
                        WHEN p.hub_cause = p.meter_cause THEN p.hub_cause ELSE c.cause END AS cause,
                   replace(c.action, '{{side}}', CASE WHEN p.side = 'both sides' THEN p.side
                                                          ELSE 'the ' || p.side END) AS next_action, p.hub_cause, p.meter_cause
            FROM chosen p JOIN causes c ON c.key = p.key
            LEFT JOIN compat k ON k.hub_version = p.hub_v AND k.meter_version = p.meter_v
            ORDER BY CASE WHEN k.compatible IS NULL THEN 1 WHEN k.compatible THEN 2 ELSE 0 END, c.rank,
                     p.installation_id""")
    finally:
        for name in ("causes", "outcome_causes", "state_labels", "reason_labels", "compat"):
            con.unregister(name)
    return table.cast(OUT_OF_SYNC_SCHEMA)


def summarise(table: pa.Table) -> dict:
    """Counts by urgency, side and cause (the cause text without its detail in brackets)."""
    import pyarrow.compute as pc

    def counts(values) -> dict:
        rows = pc.value_counts(values).to_pylist()
        return {r["values"]: r["counts"] for r in sorted(rows, key=lambda r: (-r["counts"], str(r["values"])))}

    general = pc.replace_substring_regex(table["cause"], r" \(.*\)$", "")
    return {"pairs": table.num_rows, "urgency": counts(table["urgency"]), "side": counts(table["side"]),
            "cause": counts(general), "next_action": counts(table["next_action"])}
