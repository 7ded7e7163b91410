"""What a campaign did (or, run on the emulator, will do): outcome counts, completion-time quantiles,
airtime, site visits needed and avoided (per premises: site_visits.py), pairs left out of sync. Computed in
DuckDB over the store."""

from __future__ import annotations

from .plan import CampaignPlan
from .outcomes import Reason
from .site_visits import count_site_visits
from .states import State
from .store import CampaignStore

QUANTILES = (0.5, 0.9, 0.95, 0.99, 1.0)


def summarise(store: CampaignStore, campaign_id: str) -> dict:
    info = store.campaign(campaign_id)
    plan = CampaignPlan.from_json(info["plan_json"])
    db = store.db
    args = [campaign_id]
    states = dict(db.execute("SELECT state, count(*) FROM devices WHERE campaign_id = ? GROUP BY state",
                             args).fetchall())
    reasons = db.execute("SELECT state, reason, count(*) FROM devices WHERE campaign_id = ? AND reason <> 0 "
                         "GROUP BY state, reason ORDER BY 3 DESC", args).fetchall()
    q = ", ".join(f"quantile_cont(t, {x})" for x in QUANTILES)
    quantiles = db.execute(f"SELECT {q} FROM devices WHERE campaign_id = ? AND state = {int(State.VERIFIED)}",
                           args).fetchall()[0]
    air = db.execute("SELECT coalesce(sum(han_airtime_s), 0), coalesce(sum(bridge_airtime_s), 0), "
                     "coalesce(sum(duty_cycle_wait_s), 0), coalesce(sum(exchanges), 0), coalesce(sum(retries), 0) "
                     "FROM transfers WHERE campaign_id = ?", args).fetchall()[0]
    out_of_sync = db.execute(
        "SELECT count(*) FROM (SELECT installation_id FROM devices WHERE campaign_id = ? AND installation_id "
        "IS NOT NULL GROUP BY installation_id HAVING count(DISTINCT version_after) > 1)", args).fetchall()[0][0]
    waves = store.committed_waves(campaign_id)
    return {
        "campaign_id": campaign_id, "name": info["name"], "status": info["status"],
        "environment": info["environment"], "target_version": f"0x{info['target_version']:08X}",
        "devices": sum(int(c) for c in states.values()),
        "states": {State(int(s)).label: int(c) for s, c in sorted(states.items())},
        "reasons": [{"state": State(int(s)).label, "reason": Reason(int(r)).label, "devices": int(c)}
                    for s, r, c in reasons],
        "waves": {"committed": len(waves), "decisions": [w["decision"] for w in waves]},
        "completion_days": {str(x): (None if v is None else round(v / 86400.0, 3))
                            for x, v in zip(QUANTILES, quantiles)},
        "airtime_hours": {"han": round(air[0] / 3600.0, 2), "bridge": round(air[1] / 3600.0, 2)},
        "duty_cycle_wait_hours": round(air[2] / 3600.0, 2),
        "exchanges": int(air[3]), "exchange_retries": int(air[4]),
        "site_visits": count_site_visits(db, "devices", campaign_id).summary(plan.site_visit_cost),
        "pairs_out_of_sync": int(out_of_sync),
    }
