"""The fleet-wide book of SRV 11.4 request slots, which first requests and every retry draw from.

Every day has requests_per_day slots, evenly spaced in the daily window (slot_times); a request is one
slot, so a day never carries more requests than the cap and none goes outside the window, whether it is a
unit's first request or a retry. A unit's requests (two for a pair with both bridges targeted) go out
together, so they take consecutive free slots of one day and the unit goes at the time of the first.

The book is a set of taken slots and nothing else, so it can be rebuilt from the REQUESTED events a store
holds (each unit's requests share one time: the first slot's), and a resumed run draws exactly the slots an
uninterrupted one would.

Requests are booked as the campaign learns of them: a wave's first requests, then its retries attempt by
attempt (each attempt's in order of due time), then the next wave's. A slot once booked is kept, so a
retry due early but learnt of late (a third attempt) may find the slots it wanted taken by a second attempt
due later; it then takes the next free ones, never earlier ones than its back-off allows.

Supplier quotas (the plan's ``supplier_quotas``): a supplier with a quota sends at most that many requests a
day, first requests and retries alike, inside the fleet-wide cap. A unit is charged to its supplier (its
``supplier`` code: the index of the supplier in ``quota_names(plan)``, -1 for a supplier without a quota).
A quota is a ceiling, never a reservation: slots a supplier leaves unused go to whoever is next in campaign
order (a supplier without a quota, or one with quota left), and unused quota is never lent to another
supplier. With quotas, first requests keep campaign order within each supplier only: a unit whose supplier
has spent the day's quota waits for the next day while later units of other suppliers go ahead of it.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

import numpy as np

from ..errors import CampaignError, ParameterError

if TYPE_CHECKING:
    from .plan import CampaignPlan


def slot_times(plan: CampaignPlan, slots: np.ndarray) -> np.ndarray:
    """Time of request slots, in seconds from the campaign start (00:00 UTC of its first day): slot s is
    the (s mod requests_per_day)-th of day s // requests_per_day, evenly spaced in the daily window."""
    cap = int(plan.requests_per_day)
    day, index = np.divmod(np.asarray(slots, dtype=np.int64), cap)
    window_s = (plan.window_end_h - plan.window_start_h) * 3600.0
    return day * 86400.0 + plan.window_start_h * 3600.0 + index / cap * window_s


def first_slot_at(plan: CampaignPlan, t: float) -> int:
    """The first request slot whose time is at or after ``t`` (seconds from the campaign start)."""
    return int(first_slots_at(plan, np.array([t], dtype=np.float64))[0])


def first_slots_at(plan: CampaignPlan, t: np.ndarray) -> np.ndarray:
    """first_slot_at over an array of times."""
    t = np.asarray(t, dtype=np.float64)
    cap = int(plan.requests_per_day)
    day = np.floor(t / 86400.0).astype(np.int64)
    window_s = (plan.window_end_h - plan.window_start_h) * 3600.0
    into_window = (t - day * 86400.0 - plan.window_start_h * 3600.0) / window_s * cap
    index = np.maximum(0, np.ceil(into_window - 1e-9)).astype(np.int64)
    slot = np.where(index >= cap, (day + 1) * cap, day * cap + index)
    # the division rounds: settle the last step on the times themselves, so "at or after" holds exactly
    slot += slot_times(plan, slot) < t
    slot -= (slot > 0) & (slot_times(plan, slot - 1) >= t)
    return slot


def request_times(plan: CampaignPlan, requests: np.ndarray, first_slot: int = 0,
                  supplier: np.ndarray | None = None) -> np.ndarray:
    """Release time of each unit, in campaign order, given how many SRV 11.4 requests it sends, on a book
    with nothing taken yet (see request_slots)."""
    return slot_times(plan, request_slots(plan, requests, first_slot, supplier))


def request_slots(plan: CampaignPlan, requests: np.ndarray, first_slot: int = 0,
                  supplier: np.ndarray | None = None) -> np.ndarray:
    """The first request slot of each unit, in campaign order, from ``first_slot`` on, when no slot is
    taken yet: a unit whose requests would not all fit in what is left of a day (or of its supplier's
    quota for the day) opens the next one."""
    return RequestBook(plan).take_in_order(requests, first_slot, supplier)


def quota_names(plan: CampaignPlan) -> tuple[str, ...]:
    """The suppliers with a daily quota, in the order their codes number them (sorted by name)."""
    return tuple(sorted(plan.supplier_quotas or {}))


def supplier_codes(plan: CampaignPlan, supplier: np.ndarray) -> np.ndarray:
    """The quota code of each supplier name: its index in quota_names(plan), -1 for one without a quota."""
    names = quota_names(plan)
    supplier = np.asarray(supplier, dtype=object)
    codes = np.full(len(supplier), -1, dtype=np.int64)
    for code, name in enumerate(names):
        codes[supplier == name] = code
    return codes


def requests_per_unit(hub_row: np.ndarray, meter_row: np.ndarray) -> np.ndarray:
    """SRV 11.4 requests a unit sends: one per targeted device (a plain PPMID or a pair with one side
    targeted: 1; a pair with both bridges targeted: 2), all at once."""
    return (np.asarray(hub_row) >= 0).astype(np.int64) + (np.asarray(meter_row) >= 0)


class RequestBook:
    """Taken request slots, kept as sorted, disjoint, non-touching runs [start, end)."""

    def __init__(self, plan: CampaignPlan):
        self.plan = plan
        self.cap = int(plan.requests_per_day)
        self._starts: list[int] = []
        self._ends: list[int] = []
        names = quota_names(plan)
        self.quota = np.array([plan.supplier_quotas[name] for name in names], dtype=np.int64)
        # requests charged to each quota'd supplier, per day: {day: array over supplier codes}
        self._charged: dict[int, np.ndarray] = {}

    # -- drawing ---------------------------------------------------------------------------------------
    def take_in_order(self, requests: np.ndarray, from_slot: int, supplier: np.ndarray | None = None) -> np.ndarray:
        """First slot of each unit of a wave, in campaign order: unit i goes at or after unit i-1, on the
        free slots from ``from_slot`` on. One step per free run of slots, not per unit. With supplier quotas
        (``supplier``: each unit's quota code), the order holds within each supplier (see the module)."""
        requests = self._checked(requests, supplier)
        if self._quotas_apply(supplier):
            return self._take_in_order_with_quotas(requests, int(from_slot), np.asarray(supplier, np.int64))
        return self._place_in_order(requests, int(from_slot))

    def _take_in_order_with_quotas(self, requests: np.ndarray, from_slot: int, supplier: np.ndarray) -> np.ndarray:
        """take_in_order under supplier quotas, a day at a time: the units admitted on a day are, per supplier,
        the longest run of its waiting units (in campaign order) its quota left for the day covers; they fill
        the day's free slots in campaign order, and what does not fit waits for the next day."""
        slot = np.full(len(requests), -1, dtype=np.int64)
        waiting = np.arange(len(requests))
        at = from_slot
        while len(waiting):
            day = at // self.cap
            day_end = (day + 1) * self.cap
            code = supplier[waiting]
            left = self.quota - self._charged_on(day)
            within = np.zeros(len(waiting), dtype=np.int64)      # each unit's requests, summed over its supplier's
            for c in np.unique(code[code >= 0]).tolist():        # waiting units up to it
                mine = code == c
                within[mine] = np.cumsum(requests[waiting[mine]])
            admitted = waiting[(code < 0) | (within <= left[np.maximum(code, 0)])]
            placed = self._place_in_order(requests[admitted], at, day_end)
            slot[admitted[:len(placed)]] = placed
            self._charge(day, supplier[admitted[:len(placed)]], requests[admitted[:len(placed)]])
            waiting = waiting[slot[waiting] < 0]
            at = day_end
        return slot

    def _place_in_order(self, requests: np.ndarray, at: int, day_end: int | None = None) -> np.ndarray:
        """Places units in order on the free slots from ``at`` on (before ``day_end`` if given), one step per
        free run of slots: the first slots of the units that fit (a prefix of them; all without day_end)."""
        sent = np.cumsum(requests)
        placed = np.empty(len(requests), dtype=np.int64)
        lo, sent_before = 0, 0
        while lo < len(requests):
            at = self._first_free(at)
            if day_end is not None and at >= day_end:
                break
            end = self._free_run_end(at)
            hi = int(np.searchsorted(sent, sent_before + end - at, side="right"))
            if hi > lo:
                placed[lo:hi] = at + sent[lo:hi] - requests[lo:hi] - sent_before
                used = int(sent[hi - 1]) - sent_before
                self._take(at, at + used)
                sent_before, lo, at = int(sent[hi - 1]), hi, at + used
            else:                    # a pair facing a single free slot: it goes to the next free run
                at = end
        return placed[:lo]

    def take_at_or_after(self, requests: np.ndarray, due_s: np.ndarray,
                         supplier: np.ndarray | None = None) -> np.ndarray:
        """First slot of each retrying unit: the first ``requests[i]`` consecutive free slots of one day at or
        after ``due_s[i]`` (seconds from the campaign start), on a day its supplier's quota (``supplier``: each
        unit's quota code) still covers them. Units draw in order of due time, ties in the order given."""
        requests = self._checked(requests, supplier)
        quotas = self._quotas_apply(supplier)
        supplier = np.asarray(supplier, np.int64) if quotas else np.full(len(requests), -1, np.int64)
        due_s = np.asarray(due_s, dtype=np.float64)
        slot = np.empty(len(requests), dtype=np.int64)
        earliest = first_slots_at(self.plan, due_s)
        for i in np.lexsort((np.arange(len(requests)), due_s)).tolist():
            slot[i] = self._take_one(int(requests[i]), int(earliest[i]), int(supplier[i]))
        return slot

    def charged(self) -> dict[int, np.ndarray]:
        """Requests charged to each supplier with a quota, per day: {day: counts in quota_names order}."""
        return {day: counts.copy() for day, counts in sorted(self._charged.items())}

    def times(self, slots: np.ndarray) -> np.ndarray:
        return slot_times(self.plan, slots)

    # -- rebuilding ------------------------------------------------------------------------------------
    def mark_requested(self, t: np.ndarray, count: np.ndarray, supplier: np.ndarray | None = None) -> None:
        """Take the slots of requests already sent: ``count[i]`` requests that went out together at ``t[i]``
        (a unit's REQUESTED events of one attempt), on a book where nothing is taken yet; with quotas,
        ``supplier[i]`` is the quota code of the supplier they were charged to."""
        if self._starts or self._charged:
            raise CampaignError("a request book is rebuilt from the store's requests only while empty")
        slots = self.slots_of(t)
        if not len(slots):
            return
        if self._quotas_apply(supplier):
            self._charge_rebuilt(slots, np.asarray(count, np.int64), np.asarray(supplier, np.int64))
        order = np.argsort(slots, kind="stable")
        start, end = slots[order], slots[order] + np.asarray(count, dtype=np.int64)[order]
        clash = np.concatenate([start[1:] < end[:-1], [False]]) | (start % self.cap + (end - start) > self.cap)
        if clash.any():
            raise CampaignError(f"the store holds requests at t={float(slot_times(self.plan, start[clash][:1])[0])}"
                                " over a slot already taken or past the day's cap: they were not paced by this plan")
        # consecutive slots of different units make one run
        new_run = np.concatenate([[True], start[1:] != end[:-1]])
        last = np.concatenate([new_run[1:], [True]])
        self._starts, self._ends = start[new_run].tolist(), end[last].tolist()

    def slots_of(self, t: np.ndarray) -> np.ndarray:
        """The slots whose times these are exactly (a request time read back from the store)."""
        t = np.asarray(t, dtype=np.float64)
        window_s = (self.plan.window_end_h - self.plan.window_start_h) * 3600.0
        day = np.floor(t / 86400.0)
        index = np.rint((t - day * 86400.0 - self.plan.window_start_h * 3600.0) / window_s * self.cap)
        slots = (day * self.cap + index).astype(np.int64)
        off = (index < 0) | (index >= self.cap) | (slot_times(self.plan, slots) != t)
        if off.any():
            raise CampaignError(f"the store holds a request at t={float(t[off][0])}, which is no request slot "
                                "of this plan's window and rate cap (a store written before retries were paced "
                                "cannot be resumed)")
        return slots

    def taken_runs(self) -> list[tuple[int, int]]:
        """The taken slots as sorted runs [start, end): two books with the same runs draw the same slots."""
        return list(zip(self._starts, self._ends))

    # -- the quotas ------------------------------------------------------------------------------------
    def _quotas_apply(self, supplier) -> bool:
        return supplier is not None and len(self.quota) > 0

    def _charged_on(self, day: int) -> np.ndarray:
        return self._charged.get(day, np.zeros(len(self.quota), dtype=np.int64))

    def _charge(self, day: int, supplier: np.ndarray, requests: np.ndarray) -> None:
        mine = supplier >= 0
        if mine.any():
            self._charged[day] = self._charged_on(day) + np.bincount(supplier[mine], weights=requests[mine],
                                                                     minlength=len(self.quota)).astype(np.int64)

    def _charge_rebuilt(self, slots: np.ndarray, count: np.ndarray, supplier: np.ndarray) -> None:
        day = slots // self.cap
        for d in np.unique(day).tolist():
            self._charge(d, supplier[day == d], count[day == d])
        over = [(d, c) for d, counts in self._charged.items() for c in np.flatnonzero(counts > self.quota).tolist()]
        if over:
            d, c = over[0]
            raise CampaignError(f"the store holds {int(self._charged[d][c])} requests of supplier "
                                f"{quota_names(self.plan)[c]!r} on day {d}, over its quota of {int(self.quota[c])}: "
                                "they were not paced by this plan")

    # -- the runs --------------------------------------------------------------------------------------
    def _checked(self, requests: np.ndarray, supplier: np.ndarray | None = None) -> np.ndarray:
        requests = np.asarray(requests, dtype=np.int64)
        if len(requests) and requests.max() > self.cap:
            raise ParameterError(f"campaign plan: requests_per_day={self.cap} is below the "
                                 f"{int(requests.max())} requests of one installation, which go out together")
        if self._quotas_apply(supplier) and len(requests):
            supplier = np.asarray(supplier, np.int64)
            if len(supplier) != len(requests):
                raise ParameterError(f"request book: {len(supplier)} supplier codes for {len(requests)} units")
            quota = np.where(supplier >= 0, self.quota[np.maximum(supplier, 0)], self.cap)
            short = np.flatnonzero(requests > quota)
            if len(short):
                name = quota_names(self.plan)[int(supplier[short[0]])]
                raise ParameterError(f"campaign plan: supplier {name!r} has a quota of {int(quota[short[0]])} "
                                     f"requests a day, below the {int(requests[short[0]])} requests of one "
                                     "installation, which go out together")
        return requests

    def _take_one(self, n: int, at: int, supplier: int = -1) -> int:
        while True:
            at = self._first_free(at)
            day = at // self.cap
            if supplier >= 0 and self._charged_on(day)[supplier] + n > self.quota[supplier]:
                at = (day + 1) * self.cap          # the supplier's quota for the day is spent
                continue
            end = self._free_run_end(at)
            if end - at >= n:
                self._take(at, at + n)
                if supplier >= 0:
                    self._charge(day, np.array([supplier]), np.array([n]))
                return at
            at = end

    def _first_free(self, s: int) -> int:
        i = bisect_right(self._starts, s) - 1
        return self._ends[i] if i >= 0 and self._ends[i] > s else s

    def _free_run_end(self, s: int) -> int:
        """End of the free run that starts at free slot ``s``, cut at the end of its day."""
        i = bisect_right(self._starts, s)
        day_end = (s // self.cap + 1) * self.cap
        return min(self._starts[i], day_end) if i < len(self._starts) else day_end

    def _take(self, a: int, b: int) -> None:
        """Take the free slots [a, b), merging with the runs they touch."""
        i = bisect_right(self._starts, a)
        if i > 0 and self._ends[i - 1] == a:
            i -= 1
            self._ends[i] = b
        else:
            self._starts.insert(i, a)
            self._ends.insert(i, b)
        if i + 1 < len(self._starts) and self._starts[i + 1] == b:
            self._ends[i] = self._ends.pop(i + 1)
            self._starts.pop(i + 1)


def retry_times(book: RequestBook, pending: np.ndarray, due: np.ndarray,
                supplier: np.ndarray | None = None) -> np.ndarray:
    """When each retrying unit goes again: ``pending`` (units, 2) says which of its sides retry, ``due`` when
    each may (its back-off). A pair whose two bridges both retry goes together, once the later one is due,
    on the first free slots of the book at or after that (within its supplier's quota: ``supplier``, each
    unit's quota code)."""
    ready = np.nanmax(np.where(pending, due, np.nan), axis=1)
    return book.times(book.take_at_or_after(pending.sum(axis=1), ready, supplier))
