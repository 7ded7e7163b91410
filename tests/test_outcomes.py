"""The outcome table (campaign/outcomes.py): every C emulator outcome and every DUIS outcome has a row, the
rows agree with each other, and every (state, reason) a row records is understood by the reports: the store
opener accepts it, out-of-sync triage gives it the row's cause and action, the campaign views count it in the
row's category."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from report_data import NEW, OLD, campaign_row, make_fleet, write_store

from althan_ota.campaign import FAILED, FINAL, IN_PROGRESS, CampaignStore, Reason, State, create_campaign, run_campaign
from althan_ota.campaign import outcomes
from althan_ota.campaign.outcomes import (BY_KEY, CATEGORIES, CAUSES, DUIS, EMULATOR, FAILURE_CLASSES, OUTCOME_ROWS,
                                          STATE_CATEGORY, check_table, outcome, state_pairs)
from althan_ota.campaign.plan import CampaignPlan, RetryPolicy
from althan_ota.emulate import BridgeLink, EmulationParams, OtaParams, OutageParams
from althan_ota.emulate.result import OUTCOMES
from althan_ota.errors import CampaignError
from althan_ota.fleet import generate_fleet
from althan_ota.fleet.schema import HUB_SIDE
from althan_ota.report import Session, open_store
from althan_ota.report.campaign_views import campaign_views

S, R = State, Reason

# the DUIS layer's keys and the rows agreed for them (/work/briefs/duis_outcomes.md): key -> (state, reason, retry)
DUIS_ROWS = {
    "duis_acknowledged": (S.REQUESTED, R.NONE, None),
    "duis_rejected": (S.TRANSFER_FAILED, R.DCC_REJECTED, None),
    "duis_not_applicable": (S.NOT_ELIGIBLE, R.DCC_NOT_APPLICABLE, None),
    "duis_not_commissioned": (S.NOT_ELIGIBLE, R.NOT_COMMISSIONED, None),
    "duis_request_in_progress": (S.TRANSFER_FAILED, R.OTHER_REQUEST_IN_PROGRESS, "unreachable"),
    "csp_delivered": (S.IMAGE_AT_CH, R.NONE, None),
    "csp_delivery_failed": (S.TRANSFER_FAILED, R.WAN_FAILURE, "unreachable"),
    "ch_transfer_success": (S.DOWNLOADED, R.NONE, None),
    "ch_image_discarded": (S.HASH_MISMATCH, R.IMAGE_DISCARDED, "hash"),
    "ch_hardware_mismatch": (S.NOT_ELIGIBLE, R.HARDWARE_MISMATCH, None),
    "ch_transfer_failure": (S.TRANSFER_FAILED, R.HAN_LINK, "transfer"),
    "ppmid_activation_success": (S.ACTIVATED, R.NONE, None),
    "ppmid_activation_failure": (S.ACTIVATION_FAILED, R.ACTIVATION_FAILURE, "activation"),
    "readback_current": (S.VERIFIED, R.NONE, None),
    "readback_mismatch": (S.ACTIVATION_FAILED, R.READBACK_MISMATCH, "activation"),
    "duis_no_response": (S.UNREACHABLE, R.TIMEOUT, "unreachable"),
}


def test_every_c_outcome_has_a_row():
    emulator = [row.key for row in OUTCOME_ROWS if row.source == EMULATOR]
    missing = [name for name in OUTCOMES if name not in emulator]
    assert not missing, f"C outcomes without a row in campaign/outcomes.py: {missing}"
    assert sorted(emulator) == sorted(OUTCOMES)
    assert [row.key for row in outcomes.emulator_rows()] == list(OUTCOMES)      # indexed by outcome code
    check_table()


def test_a_c_outcome_without_a_row_is_named():
    with pytest.raises(CampaignError, match=r"the C engine's outcome 'no_such_outcome' \(csrc/emu.h\) has no row"):
        check_table((*OUTCOMES, "no_such_outcome"))
    with pytest.raises(CampaignError, match="emulator row 'hash_failure' is not an outcome of the C engine"):
        check_table(tuple(o for o in OUTCOMES if o != "hash_failure"))


def test_rows_that_disagree_are_named(monkeypatch):
    row = BY_KEY["timeout"]
    clash = dataclasses.replace(row, key="duplicate_timeout", cause="wan_ch")
    monkeypatch.setattr(outcomes, "OUTCOME_ROWS", OUTCOME_ROWS + (clash,))
    with pytest.raises(CampaignError, match=r"\(unreachable, timeout\) means .*wan_ch"):
        check_table()
    monkeypatch.setattr(outcomes, "OUTCOME_ROWS", OUTCOME_ROWS + (dataclasses.replace(row, key="x", cause="nope"),))
    with pytest.raises(CampaignError, match="row 'x': unknown out-of-sync cause 'nope'"):
        check_table()


def test_duis_rows_are_the_agreed_vocabulary():
    duis = {row.key: (row.state, row.reason, row.retry) for row in OUTCOME_ROWS if row.source == DUIS}
    assert duis == DUIS_ROWS


def test_unknown_key_is_a_clear_error():
    with pytest.raises(CampaignError, match="no outcome 'nope' in the outcome table"):
        outcome("nope")


def test_state_sets_and_retry_classes_come_from_the_table():
    # the same sets the campaign had before the table, now derived from the rows' categories
    assert FAILED == {S.TRANSFER_FAILED, S.HASH_MISMATCH, S.ACTIVATION_FAILED, S.UNREACHABLE}
    assert IN_PROGRESS == {S.TARGETED, S.REQUESTED, S.IMAGE_AT_CH, S.DOWNLOADING, S.DOWNLOADED, S.ACTIVATED}
    assert FINAL == set(State) - IN_PROGRESS
    assert set(STATE_CATEGORY) == set(State) and set(STATE_CATEGORY.values()) == set(CATEGORIES)
    assert FAILURE_CLASSES == ("transfer", "unreachable", "activation", "hash")
    assert set(RetryPolicy().max_attempts) == set(FAILURE_CLASSES)     # every class has a default
    for row in OUTCOME_ROWS:
        if row.state in FAILED:
            assert row.category == "failed", row.key


@pytest.fixture(scope="module")
def one_device_per_pair(tmp_path_factory):
    """A store where installation k's hub-side ends in the k-th (state, reason) of the table and its
    meter-side is verified (a pair out of sync unless the hub-side was verified too)."""
    pairs = sorted(state_pairs())
    specs = {f"P{k:02d}": {} for k in range(len(pairs))}
    fleet = make_fleet(specs)
    rows = fleet.table.to_pylist()
    devices = []
    for k, (state, reason) in enumerate(pairs):
        for row in (r for r in rows if r["installation_id"] == f"P{k:02d}"):
            hub = row["ppmid_variant"] == HUB_SIDE
            devices.append({"campaign_id": "C1", "device_id": row["device_id"], "installation_id": row["installation_id"],
                            "ppmid_variant": row["ppmid_variant"], "end": State(state) if hub else S.VERIFIED,
                            "reason": Reason(reason) if hub else R.NONE, "before": OLD, "target": NEW})
    store = tmp_path_factory.mktemp("pairs") / "store.duckdb"
    write_store(store, [campaign_row("C1", NEW)], devices)
    return fleet, store, pairs


def test_every_pair_of_the_table_is_understood_by_the_reports(one_device_per_pair):
    fleet, store, pairs = one_device_per_pair
    text = {c.key: c for c in CAUSES}
    got = {r["installation_id"]: r for r in Session(fleet, store=store).out_of_sync().to_pylist()}
    for k, (state, reason) in enumerate(pairs):
        row = state_pairs()[(state, reason)]
        inst = f"P{k:02d}"
        if row.category == "verified":
            assert inst not in got, inst
            continue
        cause = text[row.cause]
        expected = cause.text + (f" ({Reason(reason).label})" if cause.shows_reason and reason else "")
        assert got[inst]["cause"] == expected, (inst, row.key)
        assert got[inst]["next_action"] == cause.action.replace("{side}", "the hub-side"), (inst, row.key)
    views = campaign_views(open_store(store), "C1")
    per_category = dict.fromkeys(CATEGORIES, 0)
    for state, _ in pairs:
        per_category[STATE_CATEGORY[State(state)]] += 1
    per_category["verified"] += len(pairs)                     # every meter-side
    assert {c: views.summary[c] for c in CATEGORIES} == per_category
    ended = {(State(s).label, Reason(r).label) for s, r in pairs
             if STATE_CATEGORY[State(s)] not in ("verified", "in_progress")}
    assert {(r["state"], r["reason"]) for r in views.failures.to_pylist()} == ended


def test_the_campaign_records_the_tables_rows_for_the_engines_outcomes(tmp_path):
    """A lossy run: every device row holds the state and reason the table gives its engine outcome."""
    fleet = generate_fleet(300, seed=3)
    lossy = EmulationParams(ota=OtaParams(min_block_period_s=0.01, max_consecutive_failures=2),
                            outages=OutageParams.none(), wan_delay_median_s=60.0, bridge=BridgeLink(per=0.6))
    versions = np.unique(fleet.column("firmware_version").astype(np.uint32))
    plan = CampaignPlan(name="t", target_version=0x01040000, image_size=24_000,
                        upgrade_paths=tuple((int(v), 0x01040000) for v in versions if v != 0x01040000),
                        canary_installations=50, pause_failure_rate=1.0, abort_failure_rate=1.0)
    with CampaignStore(tmp_path / "s.duckdb") as store:
        create_campaign(store, plan, fleet, "mem", seed=1, emulation=lossy, campaign_id="c")
        run_campaign(store, "c", fleet=fleet)
        devices = store.table("devices", "c").to_pylist()
    recorded = {(d["state"], d["reason"]) for d in devices}
    assert recorded <= set(state_pairs())
    assert (int(S.TRANSFER_FAILED), int(R.BRIDGE_LINK)) in recorded    # the engine's abort, on the meter-side
    assert (int(S.VERIFIED), int(R.NONE)) in recorded
