"""Views of one campaign from its store: version distribution before and after, devices per state over
time, completion times, airtime per link, failures by reason, and the site visits the campaign avoided.

Site visits are counted per premises, by the campaign's own definition (``campaign.site_visits``), so this
view, ``campaign summarise`` and ``althan-ota demo`` print the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from ..campaign import Reason, State
from ..campaign.site_visits import count_site_visits
from ..campaign.outcomes import CATEGORIES, STATE_CATEGORY
from . import _duck, building_sizes
from .store_reader import CATALOG, Store

DEFAULT_VISIT_COST = 150.0   # GBP per site visit; a parameter, since contracts differ
AIRTIME_LINKS = (("HAN", "han_airtime_s"), ("bridge link", "bridge_airtime_s"),
                 ("duty-cycle wait", "duty_cycle_wait_s"))
LINKS = AIRTIME_LINKS + (("download (wall time)", "download_s"),)


@dataclass
class CampaignViews:
    campaign: dict
    summary: dict
    versions: pa.Table        # version, before, after
    progress: pa.Table        # t_s, state, devices (devices in each state at the end of each time bin)
    completion: pa.Table      # lower_s, upper_s, devices (histogram of time to verified)
    airtime: pa.Table         # ppmid_variant, link, devices, total_s, mean_s, p50_s, p90_s, p99_s
    failures: pa.Table        # state, reason, devices (failed and not-eligible end states)
    buildings: pa.Table = field(default_factory=building_sizes.SCHEMA.empty_table)   # completion by building size
    tables: dict = field(init=False)

    def __post_init__(self):
        self.tables = {"versions": self.versions, "progress": self.progress, "completion": self.completion,
                       "airtime": self.airtime, "failures": self.failures, "buildings": self.buildings}


def _labels(enum) -> str:
    """A VALUES list mapping an enum's codes to labels, for joins in SQL."""
    return "(VALUES " + ", ".join(f"({int(m)}, '{m.label}')" for m in enum) + ") AS {}(code, label)"


def campaign_views(store: Store, campaign_id: str | None = None, *, visit_cost: float = DEFAULT_VISIT_COST,
                   bins: int = 120, fleet=None) -> CampaignViews:
    """``fleet`` (a Fleet, Arrow table or fleet file) places devices in buildings for the completion by building
    size; by default the fleet file the campaign was planned on, when it is still there."""
    con = store.con
    cid = store.campaign_id(campaign_id)
    info = next(c for c in store.campaigns() if c["campaign_id"] == cid)
    q = _duck.quote(cid)
    where = f"campaign_id = {q}"
    fmt = "printf('0x%08X', {})"

    versions = _duck.arrow(con, f"""
        SELECT {fmt.format('version')} AS version, sum(before)::BIGINT AS before, sum(after)::BIGINT AS after FROM (
            SELECT version_before AS version, 1 AS before, 0 AS after FROM {CATALOG}.devices WHERE {where}
            UNION ALL
            SELECT version_after, 0, 1 FROM {CATALOG}.devices WHERE {where})
        GROUP BY version ORDER BY sum(before) + sum(after) DESC, version""")

    # devices per state over time: +1 when a device enters a state, -1 when its next event moves it on
    t_max = con.execute(f"SELECT coalesce(max(t), 0) FROM {CATALOG}.events WHERE {where}").fetchall()[0][0]
    width = max(float(t_max), 1.0) / bins
    # partitioned by the device ID's hash first: the IDs share their first bytes (the manufacturer's OUI),
    # which makes sorting on them alone slow; the ID itself keeps devices whose hashes collide apart
    progress = _duck.arrow(con, f"""
        WITH e AS (
            SELECT state, t,
                   lead(t) OVER (PARTITION BY hash(device_id), device_id ORDER BY t, attempt, state) AS t_next
            FROM {CATALOG}.events WHERE {where}),
        changes AS (
            SELECT state, least(floor(t / {width}), {bins - 1})::INTEGER AS bin, 1 AS delta FROM e
            UNION ALL
            SELECT state, least(floor(t_next / {width}), {bins - 1})::INTEGER, -1 FROM e WHERE t_next IS NOT NULL),
        grid AS (SELECT s.state, b.bin FROM (SELECT DISTINCT state FROM changes) s,
                                            range({bins}) AS b(bin)),
        summed AS (SELECT state, bin, sum(delta) AS delta FROM changes GROUP BY state, bin),
        per_bin AS (SELECT g.state, g.bin, coalesce(c.delta, 0) AS delta FROM grid g LEFT JOIN summed c USING (state, bin))
        SELECT ((bin + 1) * {width})::DOUBLE AS t_s, l.label AS state,
               sum(delta) OVER (PARTITION BY per_bin.state ORDER BY bin)::BIGINT AS devices
        FROM per_bin JOIN {_labels(State).format('l')} ON l.code = per_bin.state
        ORDER BY bin, per_bin.state""")

    # time to verified: its quantiles and a 60-bin histogram up to the last, from one grouping of the
    # events by device (a grouping per use cost a scan of the events each)
    completion = _duck.arrow(con, f"""
        WITH d AS (SELECT device_id, min(t) AS t FROM {CATALOG}.events
                   WHERE {where} AND state = {int(State.VERIFIED)} GROUP BY device_id),
             q AS (SELECT count(*) AS n, quantile_cont(t, 0.5) AS p50, quantile_cont(t, 0.9) AS p90,
                          quantile_cont(t, 0.99) AS p99, max(t) AS last,
                          greatest(coalesce(max(t), 0)::DOUBLE, 1.0) / 60 AS width FROM d),
             counts AS (SELECT least(floor(d.t / q.width), 59)::INTEGER AS bin, count(*) AS n FROM d, q GROUP BY bin)
        SELECT (r.bin * q.width)::DOUBLE AS lower_s, ((r.bin + 1) * q.width)::DOUBLE AS upper_s,
               coalesce(counts.n, 0)::BIGINT AS devices,
               q.n AS verified, q.p50, q.p90, q.p99, q.last
        FROM range(60) AS r(bin) CROSS JOIN q LEFT JOIN counts USING (bin) ORDER BY r.bin""")
    quantiles = [completion[name][0].as_py() for name in ("verified", "p50", "p90", "p99", "last")]
    completion = completion.select(["lower_s", "upper_s", "devices"])

    # every link from one join of the transfers with the devices (a join per link cost seconds at national
    # scale): each transfer row once per link, its value picked by the link's number
    value = "CASE l.k " + " ".join(f"WHEN {k} THEN x.{column}" for k, (_, column) in enumerate(LINKS)) + " END"
    links = "(VALUES " + ", ".join(f"({k}, '{link}')" for k, (link, _) in enumerate(LINKS)) + ") AS l(k, link)"
    airtime = _duck.arrow(con, f"""
        SELECT ppmid_variant, link, devices, total_s, mean_s, p50_s, p90_s, p99_s FROM (
            SELECT k, coalesce(ppmid_variant, 'unknown') AS ppmid_variant, link, count(*)::BIGINT AS devices,
                   sum(v)::DOUBLE AS total_s, avg(v)::DOUBLE AS mean_s, quantile_cont(v, 0.5)::DOUBLE AS p50_s,
                   quantile_cont(v, 0.9)::DOUBLE AS p90_s, quantile_cont(v, 0.99)::DOUBLE AS p99_s
            FROM (SELECT l.k, l.link, d.ppmid_variant, {value} AS v
                  FROM {CATALOG}.transfers x LEFT JOIN {CATALOG}.devices d USING (campaign_id, device_id)
                  CROSS JOIN {links}
                  WHERE x.{where}) AS per_link(k, link, ppmid_variant, v)
            GROUP BY ALL)
        ORDER BY k, ppmid_variant""")

    ended = sorted(int(s) for s, category in STATE_CATEGORY.items() if category not in ("verified", "in_progress"))
    failures = _duck.arrow(con, f"""
        SELECT s.label AS state, r.label AS reason, count(*)::BIGINT AS devices
        FROM {CATALOG}.devices d JOIN {_labels(State).format('s')} ON s.code = d.state
        JOIN {_labels(Reason).format('r')} ON r.code = d.reason
        WHERE d.{where} AND d.state IN ({', '.join(map(str, ended))})
        GROUP BY ALL ORDER BY devices DESC, state, reason""")

    states = dict(con.execute(f"""SELECT state, count(*) FROM {CATALOG}.devices WHERE {where}
                                  GROUP BY state""").fetchall())
    by_category = dict.fromkeys(CATEGORIES, 0)
    for state, devices in states.items():
        by_category[STATE_CATEGORY[State(state)]] += int(devices)
    summary = {
        "campaign_id": cid, "name": info["name"], "status": info["status"],
        "target_version": f"0x{int(info['target_version']):08X}" if info["target_version"] is not None else None,
        "devices": int(sum(states.values())), **by_category,
        "completion_s": {"devices": int(quantiles[0]), "p50": quantiles[1], "p90": quantiles[2],
                         "p99": quantiles[3], "max": quantiles[4]},
        "site_visits": count_site_visits(con, f"{CATALOG}.devices", cid).summary(visit_cost),
    }
    buildings = building_sizes.completion_by_building_size(con, cid, _device_buildings(con, cid, fleet))
    return CampaignViews(campaign=info, summary=summary, versions=versions, progress=progress,
                         completion=completion, airtime=airtime, failures=failures, buildings=buildings)


def _device_buildings(con, cid: str, fleet):
    """Where the devices' buildings come from: the fleet given, else the campaign's fleet file, else none."""
    if fleet is None:
        try:
            row = con.execute(f"SELECT fleet_path FROM {CATALOG}.run_state WHERE campaign_id = ?", [cid]).fetchall()
            row = row[0] if row else None
        except duckdb.CatalogException:       # a store from a live runner without emulator run state
            row = None
        fleet = Path(row[0]) if row and row[0] and Path(row[0]).is_file() else None
    if fleet is None:
        return pa.table({"device_id": pa.array([], pa.string())})
    return fleet
