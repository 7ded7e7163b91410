"""Places per building: at most ``building_concurrency`` installations of one building downloading at once.

Blocks of flats share their radio channels, so a plan may cap how many of a building's installations take
the image at once. A unit (an installation, or a plain PPMID) is *busy* from the moment its attempt starts
until its download ends (or, when it never finishes downloading, until the attempt's outcome is known).

The rule: a unit whose attempt is requested at t0 starts at max(t0, the cap-th latest busy end booked for
its building so far). Fewer than ``cap`` earlier bookings of the building then end after its start, so at no
instant are more than ``cap`` of the building's units busy, whatever order the bookings come in (first
requests in campaign order, then the retries the campaign learns of later). The request itself keeps its
slot in the request book: the held unit's image, download and activation move later, as when the head-end
holds a building's downloads until one of its places frees.

The state is only the ``cap`` latest busy ends per building, which the store's events give back exactly
(``busy_ends_from_store``), so a resumed run holds units exactly as an uninterrupted one. A unit's engine
result does not depend on when it starts (its randomness is keyed on seed, attempt and unit), so the hold is
applied to the emulated times after the engine call: results depend only on the seed. That holds while
installations do not share the air. With shared air (``EmulationParams.contention``) who overlaps whom
changes the results, so campaign/emulation.py instead gives the engine each unit's request time, the cap
(``building_cap``) and the places still held from earlier calls (``held_places``: the booked ends, each
counting against the cap until it frees); the engine takes a place when the image reaches the hub rather
than at the request, so shared-air results at caps above 1 follow that rule.
"""

from __future__ import annotations

import heapq

import numpy as np

NO_BUILDING = -1     # a unit whose inventory names no building is a building of its own: never held


class BuildingPlaces:
    """The ``cap`` latest busy ends of each building (a min-heap per building)."""

    def __init__(self, cap: int | None):
        self.cap = cap
        self._ends: dict[int, list[float]] = {}

    def start_times(self, building: np.ndarray, t0: np.ndarray, busy_s: np.ndarray) -> np.ndarray:
        """When each unit starts, booked in the order given: ``t0`` its request time, ``busy_s`` how long it
        stays busy once started (seconds), ``building`` its building code (NO_BUILDING: none)."""
        t0 = np.asarray(t0, dtype=np.float64)
        if self.cap is None:
            return t0.copy()
        start = t0.copy()
        building = np.asarray(building, dtype=np.int64)
        busy_s = np.asarray(busy_s, dtype=np.float64)
        for i in np.flatnonzero(building != NO_BUILDING).tolist():
            ends = self._ends.setdefault(int(building[i]), [])
            if len(ends) >= self.cap:
                start[i] = max(start[i], ends[0])
            self._book(ends, float(start[i] + busy_s[i]))
        return start

    def mark_busy(self, building: np.ndarray, end: np.ndarray) -> None:
        """Book the busy ends of attempts already run (read back from a store)."""
        if self.cap is None:
            return
        for b, e in zip(np.asarray(building, dtype=np.int64).tolist(), np.asarray(end, dtype=np.float64).tolist()):
            if b != NO_BUILDING:
                self._book(self._ends.setdefault(b, []), e)

    def latest_ends(self) -> dict[int, list[float]]:
        """Each building's booked ends, sorted: two equal books hold units alike."""
        return {b: sorted(e) for b, e in self._ends.items()}

    def _book(self, ends: list[float], end: float) -> None:
        if len(ends) < self.cap:
            heapq.heappush(ends, end)
        elif end > ends[0]:
            heapq.heapreplace(ends, end)


def building_codes(building_id) -> np.ndarray:
    """An int64 code per row for a building_id column (an Arrow column or array; null or empty: NO_BUILDING)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = building_id.combine_chunks() if isinstance(building_id, pa.ChunkedArray) else building_id
    encoded = pc.dictionary_encode(pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column))
    return pc.fill_null(encoded.indices, NO_BUILDING).to_numpy(zero_copy_only=False).astype(np.int64)


def unit_ids(installation_id, device_id):
    """The unit a row belongs to: its installation, or the device itself for a plain PPMID (no installation)."""
    import pyarrow.compute as pc

    return pc.coalesce(installation_id, device_id)


def busy_ends_from_store(events, devices) -> tuple[np.ndarray, np.ndarray]:
    """(unit id, busy end) per unit and attempt of committed waves, from the store's events and devices
    tables: the latest over the unit's devices of the DOWNLOADED time, or, for a device that never finished
    downloading in that attempt, of its attempt's last event (unit_ids names the units)."""
    import duckdb

    from .states import State

    con = duckdb.connect()
    try:
        con.register("events", events)
        con.register("devices", devices)
        relation = con.sql("""
            WITH per_device AS (
                SELECT e.device_id, e.attempt,
                       coalesce(max(e.t) FILTER (WHERE e.state = ?), max(e.t)) AS busy_end
                FROM events e WHERE e.wave >= 0 AND e.attempt >= 1
                GROUP BY e.device_id, e.attempt)
            SELECT coalesce(d.installation_id, d.device_id) AS unit, p.attempt, max(p.busy_end) AS busy_end
            FROM per_device p JOIN devices d USING (device_id)
            GROUP BY unit, p.attempt ORDER BY unit, p.attempt""", params=[int(State.DOWNLOADED)])
        rows = (getattr(relation, "to_arrow_table", None) or relation.arrow)()   # DuckDB >= 1.4 / before
    finally:
        con.close()
    return rows["unit"].to_numpy(zero_copy_only=False), rows["busy_end"].to_numpy()
