"""Site visits: the one definition every summary and report uses.

A site visit goes to a premises, and one visit serves every device there (both bridges of a P2P installation
sit in the same building), so visits are counted per premises, not per device. A premises is an installation
(a plain PPMID without one is its own premises). The premises a campaign targeted are those with a device in
one of its waves, or one that joined the HAN as a CAD (it needs a visit whatever the campaign does).

- a visit is **avoided** at a premises where every targeted device was verified over the air (or already ran
  the campaign's version), at least one of them by this campaign;
- a visit is **still needed** at a premises where any device's outcome calls for one (the outcome table's
  ``site_visit``: joined as CAD, or a failure an engineer must fix); ``needed_cad_joined`` and
  ``needed_failed`` split those premises by why (a premises may count in both).
"""

from __future__ import annotations

from dataclasses import dataclass

from .outcomes import Reason, state_pairs
from .states import State


@dataclass(frozen=True)
class SiteVisits:
    premises_targeted: int
    avoided: int
    still_needed: int
    needed_cad_joined: int
    needed_failed: int

    def summary(self, visit_cost: float) -> dict:
        """Counts and costs at ``visit_cost`` per visit, as every report prints them."""
        return {"premises_targeted": self.premises_targeted, "avoided": self.avoided,
                "still_needed": self.still_needed, "needed_cad_joined": self.needed_cad_joined,
                "needed_failed": self.needed_failed, "visit_cost": visit_cost,
                "cost_avoided": round(self.avoided * visit_cost, 2),
                "cost_still_needed": round(self.still_needed * visit_cost, 2)}


SITE_VISIT_COLUMNS = ("premises_targeted", "avoided", "still_needed", "needed_cad_joined", "needed_failed")


def count_site_visits(con, devices: str, campaign_id: str) -> SiteVisits:
    """Site visits of one campaign, from its ``devices`` table (a campaign store's, named as ``con`` sees it)."""
    row = con.execute(site_visits_query(devices, "x.campaign_id = ?"), [campaign_id]).fetchall()[0]
    return SiteVisits(*(int(v) for v in row))


def site_visits_query(devices: str, where: str, groups: tuple[str, ...] = (), scope: tuple[str, ...] = ()) -> str:
    """SQL giving SITE_VISIT_COLUMNS (after the ``groups`` columns, one row per group) over the rows of
    ``devices`` (aliased ``x``) that ``where`` keeps. A premises is one per campaign: ``scope`` names the
    columns that tell campaigns apart when ``devices`` holds several (a programme over many stores)."""
    needs_visit = [pair for pair, row in state_pairs().items() if row.site_visit]
    visit_pairs = ", ".join(f"({s}, {r})" for s, r in needs_visit)
    cad = int(Reason.JOINED_AS_CAD)
    keys = ", ".join(f"x.{c}" for c in (*groups, *scope))
    outer = ", ".join(groups)
    return f"""
        WITH visit(state, reason) AS (VALUES {visit_pairs}),
        d AS (
            SELECT {keys + "," if keys else ""} coalesce(x.installation_id, x.device_id) AS premises, x.state,
                   x.reason, v.state IS NOT NULL AS needs_visit
            FROM {devices} x LEFT JOIN visit v ON v.state = x.state AND v.reason = x.reason
            WHERE ({where}) AND (x.wave >= 0 OR x.reason = {cad})),
        p AS (
            SELECT {", ".join((*groups, *scope)) + "," if keys else ""} premises,
                   bool_and(state = {int(State.VERIFIED)} OR state = {int(State.NOT_ELIGIBLE)}
                            AND reason = {int(Reason.ALREADY_CURRENT)}) AS all_verified,
                   bool_or(state = {int(State.VERIFIED)}) AS any_verified,
                   bool_or(needs_visit) AS needs_visit,
                   bool_or(needs_visit AND reason = {cad}) AS cad_joined,
                   bool_or(needs_visit AND reason <> {cad}) AS failed
            FROM d GROUP BY ALL)
        SELECT {outer + "," if outer else ""} count(*)::BIGINT AS premises_targeted,
               count(*) FILTER (WHERE all_verified AND any_verified)::BIGINT AS avoided,
               count(*) FILTER (WHERE needs_visit)::BIGINT AS still_needed,
               count(*) FILTER (WHERE cad_joined)::BIGINT AS needed_cad_joined,
               count(*) FILTER (WHERE failed)::BIGINT AS needed_failed
        FROM p {"GROUP BY " + outer if outer else ""}"""
