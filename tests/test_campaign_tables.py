"""A wave's result tables (campaign/emulation.py): events ordered by device slot, time and state, ties kept in
the order they were recorded, against numpy's lexsort as the reference."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from althan_ota.campaign.emulation import WaveOutcome
from althan_ota.campaign.states import State
from althan_ota.fleet import generate_fleet


def test_events_come_in_lexsort_order_with_ties_in_recorded_order():
    fleet = generate_fleet(60, seed=3)
    n = 40
    rng = np.random.default_rng(11)
    rows = np.stack([np.arange(n), np.where(np.arange(n) % 3 == 0, -1, np.arange(n) + n)], axis=1)
    out = WaveOutcome(target_version=0x01040000, rows=rows, state=np.full((n, 2), int(State.VERIFIED), np.uint8),
                      reason=np.zeros((n, 2), np.uint8), attempts=np.ones((n, 2), np.int32),
                      t_final=np.zeros((n, 2)), sums={}, download_s=np.zeros((n, 2)))
    slots = np.flatnonzero((rows >= 0).ravel())
    # batches as the adaptor records them: one state and attempt each; coarse times so that many tie, the
    # same state recorded twice for a slot at one time (told apart by reason and attempt only), and a NaN
    for attempt, state in ((1, State.REQUESTED), (1, State.DOWNLOADING), (2, State.REQUESTED), (2, State.DOWNLOADING),
                           (2, State.VERIFIED)):
        chosen = np.sort(rng.choice(slots, size=len(slots) // 2, replace=False))
        t = np.round(rng.random(len(chosen)) * 4)
        t[0] = np.nan
        out.events.append((chosen, t, int(state), rng.integers(0, 5, len(chosen)).astype(np.uint8), attempt))
    table = out._event_table("C", fleet, 3)

    slot = np.concatenate([e[0] for e in out.events])
    t = np.concatenate([e[1] for e in out.events])
    state = np.concatenate([np.full(len(e[0]), e[2], np.uint8) for e in out.events])
    reason = np.concatenate([e[3] for e in out.events])
    attempt = np.concatenate([np.full(len(e[0]), e[4], np.int32) for e in out.events])
    order = np.lexsort((state, t, slot))
    assert len(np.unique(np.stack([slot, np.nan_to_num(t, nan=-1), state]), axis=1)[0]) < len(slot)   # ties exist
    want_rows = rows.ravel()[slot[order]]
    assert table["device_id"].to_pylist() == fleet.table["device_id"].take(pa.array(want_rows)).to_pylist()
    np.testing.assert_array_equal(table["t"].to_numpy(), t[order])
    np.testing.assert_array_equal(table["state"].to_numpy(), state[order])
    np.testing.assert_array_equal(table["reason"].to_numpy(), reason[order])
    np.testing.assert_array_equal(table["attempt"].to_numpy(), attempt[order])
    assert table["campaign_id"].to_pylist() == ["C"] * len(slot) and set(table["wave"].to_pylist()) == {3}
