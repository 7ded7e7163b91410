"""Per-supplier daily quotas inside the fleet-wide request cap (``supplier_quotas``, ``--supplier NAME=N``):
first requests and retries, for the request book and a whole campaign, resumed or not."""

from __future__ import annotations

import dataclasses
import html
import json

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from althan_ota.campaign import CampaignPlan, CampaignStore, State, create_campaign, make_waves, run_campaign, target
from althan_ota.campaign.slots import RequestBook, quota_names, slot_times, supplier_codes
from althan_ota.cli import main
from althan_ota.emulate import EmulationParams, OtaParams, OutageParams
from althan_ota.errors import CampaignError, ParameterError
from althan_ota.fleet import generate_fleet

OLD = (0x01020000, 0x01030000, 0x00050003, 0x20190410, 0x20210902)
NEW = 0x01040000
FAST = EmulationParams(ota=OtaParams(min_block_period_s=0.01), outages=OutageParams.none(),
                       wan_delay_median_s=60.0)


def plan_for(**overrides) -> CampaignPlan:
    fields = dict(name="q", target_version=NEW, image_size=24_000, upgrade_paths=tuple((v, NEW) for v in OLD),
                  canary_installations=20, wave_growth=3.0, max_wave_installations=200, requests_per_day=60,
                  window_start_h=8.0, window_end_h=10.0)
    return CampaignPlan(**(fields | overrides))


@pytest.fixture(scope="module")
def fleet():
    return generate_fleet(400, seed=11)


@pytest.fixture(scope="module")
def names(fleet):
    """The fleet's suppliers, most devices first."""
    values, counts = np.unique(fleet.column("supplier").astype(str), return_counts=True)
    return [str(v) for v in values[np.argsort(-counts, kind="stable")]]


# -- the request book ------------------------------------------------------------------------------------

def _per_day(slots: np.ndarray, requests: np.ndarray, cap: int) -> dict[int, int]:
    """Requests per day, counting every slot a unit takes (slot s is on day s // cap)."""
    days: dict[int, int] = {}
    for s, n in zip(slots.tolist(), requests.tolist()):
        for k in range(n):
            days[(s + k) // cap] = days.get((s + k) // cap, 0) + 1
    return days


def test_a_quota_holds_a_supplier_back_while_the_others_go_ahead():
    plan = plan_for(requests_per_day=10, supplier_quotas={"A": 3})
    book = RequestBook(plan)
    codes = supplier_codes(plan, np.array(["A"] * 5 + ["B"] * 3 + [None], dtype=object))
    assert codes.tolist() == [0] * 5 + [-1] * 4
    # A's first three go on day 0, then the other units in order; A's last two open day 1
    slots = book.take_in_order(np.ones(9, int), 0, codes)
    assert slots.tolist() == [0, 1, 2, 10, 11, 3, 4, 5, 6]
    # a retry of A due on day 0 finds A's quota spent there and day 1 holding two of its three
    assert book.take_at_or_after([1, 1], slot_times(plan, [7, 7]), [0, 0]).tolist() == [12, 20]
    # a pair of A needs two of the quota on one day: day 2 has two left, so it goes there
    assert book.take_at_or_after([2], slot_times(plan, [8]), [0]).tolist() == [21]
    assert {d: c.tolist() for d, c in book.charged().items()} == {0: [3], 1: [3], 2: [3]}
    # without supplier codes the quotas do not apply: the book is the fleet-wide one
    assert book.take_in_order(np.ones(2, int), 0).tolist() == [7, 8]


def test_a_unit_above_its_suppliers_quota_is_refused():
    plan = plan_for(requests_per_day=10, supplier_quotas={"A": 1})
    with pytest.raises(ParameterError, match="supplier 'A' has a quota of 1 requests a day, below the 2"):
        RequestBook(plan).take_in_order([1, 2], 0, [0, 0])


@st.composite
def _bookings(draw):
    cap = draw(st.integers(2, 12))
    n_suppliers = draw(st.integers(1, 3))
    quotas = {f"S{i}": draw(st.integers(2, cap + 2)) for i in range(n_suppliers)}
    steps = []
    for _ in range(draw(st.integers(1, 6))):
        n = draw(st.integers(1, 25))
        requests = draw(st.lists(st.integers(1, 2), min_size=n, max_size=n))
        supplier = draw(st.lists(st.integers(-1, n_suppliers - 1), min_size=n, max_size=n))
        if draw(st.booleans()):
            steps.append(("wave", requests, supplier, draw(st.integers(0, 3 * cap))))
        else:
            due = draw(st.lists(st.floats(0, 5 * 86400), min_size=n, max_size=n))
            steps.append(("retry", requests, supplier, due))
    return cap, quotas, steps


@settings(max_examples=150, deadline=None)
@given(_bookings())
def test_no_day_exceeds_the_cap_or_any_quota_for_first_requests_and_retries(booking):
    cap, quotas, steps = booking
    plan = plan_for(requests_per_day=cap, window_start_h=0.0, window_end_h=24.0, supplier_quotas=quotas)
    book = RequestBook(plan)
    taken: list[tuple[int, int, int]] = []        # (first slot, requests, supplier code) of every unit booked
    for kind, requests, supplier, arg in steps:
        requests, supplier = np.array(requests), np.array(supplier)
        if kind == "wave":
            slots = book.take_in_order(requests, arg, supplier)
            assert (slots >= arg).all()
            for code in set(supplier.tolist()):      # campaign order holds within each supplier
                mine = slots[supplier == code]
                assert (np.diff(mine) > 0).all()
        else:
            slots = book.take_at_or_after(requests, np.array(arg), supplier)
            assert (slot_times(plan, slots) >= np.array(arg) - 1e-6).all()      # never before it is due
        taken += zip(slots.tolist(), requests.tolist(), supplier.tolist())
    every = [s + k for s, n, _ in taken for k in range(n)]
    assert len(every) == len(set(every))                                   # a slot once
    assert all(s // cap == (s + n - 1) // cap for s, n, _ in taken)        # a unit's requests on one day
    slots, requests, codes = (np.array(c) for c in zip(*taken))
    assert max(_per_day(slots, requests, cap).values()) <= cap
    for code, name in enumerate(quota_names(plan)):
        mine = codes == code
        if mine.any():
            per_day = _per_day(slots[mine], requests[mine], cap)
            assert max(per_day.values()) <= quotas[name]
            charged = {d: int(c[code]) for d, c in book.charged().items() if c[code]}
            assert charged == per_day


def test_a_book_rebuilt_from_its_requests_charges_the_same_quotas():
    plan = plan_for(requests_per_day=10, supplier_quotas={"A": 3, "B": 4})
    book = RequestBook(plan)
    slots = book.take_in_order(np.array([1, 2, 1, 1, 2, 1]), 0, np.array([0, 1, 0, 0, 0, -1]))
    rebuilt = RequestBook(plan)
    rebuilt.mark_requested(slot_times(plan, slots), [1, 2, 1, 1, 2, 1], [0, 1, 0, 0, 0, -1])
    assert rebuilt.taken_runs() == book.taken_runs()
    assert {d: c.tolist() for d, c in rebuilt.charged().items()} == {d: c.tolist() for d, c in book.charged().items()}
    with pytest.raises(CampaignError, match="requests of supplier 'A' on day 0, over its quota of 3"):
        RequestBook(plan).mark_requested(slot_times(plan, [0, 1, 2, 3]), [1, 1, 1, 1], [0, 0, 0, 0])


# -- the plan ----------------------------------------------------------------------------------------------

def test_quotas_are_stored_in_the_plan_and_old_plans_still_load():
    plan = plan_for(suppliers=("A", "B"), supplier_quotas={"A": 30})
    again = CampaignPlan.from_json(plan.to_json())
    assert again == plan and again.supplier_quotas == {"A": 30}
    old = json.loads(plan_for().to_json())
    del old["supplier_quotas"]                        # a plan written before quotas existed
    assert CampaignPlan.from_dict(old).supplier_quotas is None


@pytest.mark.parametrize("quotas, message", [
    ({}, "non-empty mapping"), ({"A": 0}, "quota of 'A' must be a whole number"),
    ({"A": 2.5}, "quota of 'A' must be a whole number"), ({"A": True}, "quota of 'A'"),
    ({" ": 3}, "no supplier name"), ({"C": 3}, "names 'C', which the plan is not scoped to")])
def test_bad_quotas_are_refused_by_name(quotas, message):
    with pytest.raises(ParameterError, match=message):
        plan_for(suppliers=("A", "B"), supplier_quotas=quotas)


# -- a whole campaign ----------------------------------------------------------------------------------

def _run(fleet, path, plan, interrupt_after=None):
    flaky = dataclasses.replace(FAST, wan_failure_prob=0.4)
    with CampaignStore(path) as store:
        create_campaign(store, plan, fleet, "mem", seed=7, emulation=flaky, campaign_id="q")
        if interrupt_after is not None:
            def interrupt(done, total):
                if done == interrupt_after:
                    raise KeyboardInterrupt
            with pytest.raises(KeyboardInterrupt):
                run_campaign(store, "q", fleet=fleet, progress=interrupt)
        assert run_campaign(store, "q", fleet=fleet).status == "finished"
        return store.table("events", "q").sort_by([("t", "ascending"), ("device_id", "ascending"),
                                                   ("state", "ascending")])


def _quota_plan(names):
    return plan_for(suppliers=tuple(names[:3]), supplier_quotas={names[0]: 25, names[1]: 8},
                    pause_failure_rate=1.0, abort_failure_rate=1.0,
                    retry=dataclasses.replace(plan_for().retry, max_attempts={"unreachable": 3}, backoff_s=600.0))


def _requests_per_day_and_supplier(events, fleet):
    supplier_of = dict(zip(fleet.column("device_id").tolist(), fleet.column("supplier").tolist()))
    ev = events.to_pydict()
    rows = [(int(t // 86400), supplier_of[d], a) for d, t, s, a in zip(ev["device_id"], ev["t"], ev["state"],
                                                                     ev["attempt"]) if s == State.REQUESTED]
    per: dict[tuple[int, str], int] = {}
    for day, supplier, _ in rows:
        per[day, supplier] = per.get((day, supplier), 0) + 1
    return per, sum(a >= 2 for _, _, a in rows)


def test_a_campaign_keeps_every_supplier_within_its_quota_and_the_cap(fleet, names, tmp_path):
    plan = _quota_plan(names)
    events = _run(fleet, tmp_path / "q.duckdb", plan)
    per, retries = _requests_per_day_and_supplier(events, fleet)
    assert retries > 20                                               # retries are charged too
    days = {d for d, _ in per}
    for day in days:
        assert sum(n for (d, _), n in per.items() if d == day) <= plan.requests_per_day
        for name, quota in plan.supplier_quotas.items():
            assert per.get((day, name), 0) <= quota
    # the quotas bind (the cap alone would let the first supplier send more) and the third supplier, without a
    # quota, is held by the cap only
    assert max(per.get((d, names[0]), 0) for d in days) == 25
    assert max(per.get((d, names[1]), 0) for d in days) == 8
    assert max(per.get((d, names[2]), 0) for d in days) > 8
    # every device in scope was requested
    supplier = fleet.column("supplier")
    eligible = target(plan, fleet).eligible
    requested = set(events.filter(events["state"].cast("int64").to_numpy() == int(State.REQUESTED))["device_id"]
                    .to_pylist())
    assert requested == set(fleet.column("device_id")[eligible].tolist())
    assert set(supplier[eligible].tolist()) == set(names[:3])


def test_a_campaign_with_quotas_resumes_exactly(fleet, names, tmp_path):
    plan = _quota_plan(names)
    whole = _run(fleet, tmp_path / "whole.duckdb", plan)
    resumed = _run(fleet, tmp_path / "resumed.duckdb", plan, interrupt_after=2)
    assert whole.equals(resumed)


def _moved_installations(fleet, table, device_ids, source, to):
    """``fleet`` with every device of the installations of ``device_ids`` whose supplier is ``source`` moved to
    ``to`` (a premises changes supplier as a whole), and the devices moved."""
    from althan_ota.fleet import Fleet

    import pyarrow as pa

    installation = dict(zip(fleet.column("device_id").tolist(), fleet.column("installation_id").tolist()))
    sites = {installation[d] for d in device_ids}
    supplier = fleet.column("supplier").tolist()
    moved = [i for i, (site, name) in enumerate(zip(fleet.column("installation_id").tolist(), supplier))
             if site in sites and name == source]
    for i in moved:
        supplier[i] = to
    later = Fleet(table=table.set_column(table.schema.get_field_index("supplier"), "supplier",
                                         pa.array(supplier, pa.string())), source="later")
    return later, {fleet.column("device_id")[i] for i in moved}


def test_a_device_that_moved_between_two_planned_suppliers_keeps_its_requests_charged_to_the_first(
        fleet, names, tmp_path):
    """The store records the supplier each request was charged to: a run resumed on an extract where devices of
    the waves already run moved from one quota'd supplier of the plan to another rebuilds the book with their
    requests still charged to the supplier that sent them, so it equals an uninterrupted run's book, and the
    rest of the campaign goes exactly as it would have."""
    from althan_ota.campaign.runner import request_book

    plan = _quota_plan(names)
    flaky = dataclasses.replace(FAST, wan_failure_prob=0.4)
    whole = _run(fleet, tmp_path / "whole.duckdb", plan)
    with CampaignStore(tmp_path / "moved.duckdb") as store:
        create_campaign(store, plan, fleet, "mem", seed=7, emulation=flaky, campaign_id="q")
        run_campaign(store, "q", fleet=fleet, max_waves=2)
        requested = store.requests_charged("q")
        assert requested["recorded"].to_pylist() and all(requested["recorded"].to_pylist())
        first = sorted({d for d, s in zip(requested["device_id"].to_pylist(), requested["supplier"].to_pylist())
                        if s == names[0]})[:6]
        later, moved = _moved_installations(fleet, fleet.table, first, names[0], names[1])
        assert len(moved) >= 6
        before = request_book(store, "q", fleet)
        after = request_book(store, "q", later)          # what the resumed run starts from
        assert after.taken_runs() == before.taken_runs()
        assert {d: c.tolist() for d, c in after.charged().items()} == \
            {d: c.tolist() for d, c in before.charged().items()}
        assert run_campaign(store, "q", fleet=later).status == "finished"
        resumed = store.table("events", "q").sort_by([("t", "ascending"), ("device_id", "ascending"),
                                                      ("state", "ascending")])
        records = store.request_suppliers("q")
    assert whole.equals(resumed)
    charged = dict(zip(records["device_id"].to_pylist(), records["supplier"].to_pylist()))
    assert {charged[d] for d in moved if d in charged} == {names[0]}
    # the programme view, given the later extract, charges each day's requests as the uninterrupted run's
    from althan_ota.report.programme import programme_views

    def days(path, latest):
        return sorted((r["day"], r["supplier"], r["requests"], r["retries"])
                      for r in programme_views([path], latest).quota_days.to_pylist())

    assert days(tmp_path / "moved.duckdb", later) == days(tmp_path / "whole.duckdb", fleet)


def test_a_store_without_request_records_still_resumes_charging_by_the_fleet(fleet, names, tmp_path):
    """A store written before request records (and planned targets) were kept opens, resumes, and ends as an
    uninterrupted run: its requests are charged by the fleet's suppliers, and the new waves are recorded."""
    plan = _quota_plan(names)
    flaky = dataclasses.replace(FAST, wan_failure_prob=0.4)
    whole = _run(fleet, tmp_path / "whole.duckdb", plan)
    path = tmp_path / "old.duckdb"
    with CampaignStore(path) as store:
        create_campaign(store, plan, fleet, "mem", seed=7, emulation=flaky, campaign_id="q")
        run_campaign(store, "q", fleet=fleet, max_waves=2)
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE requests")
    con.execute("DROP TABLE planned_targets")
    con.close()
    with CampaignStore.for_reading(path) as store:                  # read-only, as the reports open it
        assert store.requests_charged("q").num_rows and not any(store.requests_charged("q")["recorded"].to_pylist())
        assert store.planned_targets("q") is None
        events = store.table("events", "q")
    from althan_ota.report.programme import programme_views

    per, _ = _requests_per_day_and_supplier(events, fleet)               # charged by the fleet's suppliers
    rows = programme_views([path], fleet).quota_days.to_pylist()
    assert {(r["day"], r["supplier"]): r["requests"] for r in rows} == per
    with CampaignStore(path) as store:
        assert run_campaign(store, "q", fleet=fleet).status == "finished"
        resumed = store.table("events", "q").sort_by([("t", "ascending"), ("device_id", "ascending"),
                                                      ("state", "ascending")])
        recorded = store.requests_charged("q")["recorded"].to_pylist()
    assert whole.equals(resumed)
    assert any(recorded) and not all(recorded)                      # the waves run after the upgrade only


def test_the_waves_first_requests_respect_the_quotas(fleet, names):
    plan = _quota_plan(names)
    waves = make_waves(plan, fleet, target(plan, fleet), seed=3)
    requests = (waves.hub_row >= 0).astype(int) + (waves.meter_row >= 0)
    day = (waves.request_offset_s // 86400).astype(int)
    code = waves.quota_code
    for c, name in enumerate(quota_names(plan)):
        assert np.bincount(day[code == c], weights=requests[code == c]).max() == plan.supplier_quotas[name]
    assert np.bincount(day, weights=requests).max() <= plan.requests_per_day


def test_the_command_line_takes_a_quota_with_the_supplier(fleet, names, tmp_path, capsys):
    path = tmp_path / "fleet.parquet"
    fleet.write(path)
    store = tmp_path / "s.duckdb"
    argv = ["campaign", "run", "--fleet", str(path), "--store", str(store), "--campaign-id", "x",
            "--target-version", "0x01040000", "--image-size", "24000", "--supplier", f"{names[0]}=30",
            "--supplier", names[1], "--requests-per-day", "100", "--json"] + \
        sum((["--upgrade-path", f"0x{v:08X}:0x01040000"] for v in OLD), [])
    assert main(argv) == 0
    capsys.readouterr()
    con = duckdb.connect(str(store), read_only=True)
    stored = CampaignPlan.from_json(con.execute("SELECT plan_json FROM campaigns").fetchall()[0][0])
    con.close()
    assert stored.suppliers == (names[0], names[1]) and stored.supplier_quotas == {names[0]: 30}
    for bad, message in (("X=lots", "X=lots: the quota: expected an integer"),
                         ("X=0", "X=0: the quota: expected an integer >= 1"), ("=5", "=5: expected NAME or NAME=")):
        assert main(argv + ["--supplier", bad]) == 1
        assert f"ParameterError: --supplier {message}" in capsys.readouterr().err
    assert main(argv + ["--campaign-id", "y", "--supplier", f"{names[0]}=5"]) == 1
    assert f"--supplier {names[0]} given more than once" in capsys.readouterr().err


def test_the_dcc_executor_keeps_to_the_quotas_as_the_emulator_does(tmp_path):
    """The live executor over DUIS (a real DCC peer process on 127.0.0.1) books first requests and retries from
    the same book: its requests go out at the emulator executor's times, every day within the quotas."""
    from live_peer import EMULATION, Setup, plan as live_plan
    from althan_ota.live import DccExecutor

    setup = Setup(tmp_path)
    try:
        supplier = setup.fleet.column("supplier").astype(str)
        values, counts = np.unique(supplier, return_counts=True)
        busiest = str(values[np.argmax(counts)])
        plan = dataclasses.replace(live_plan(setup.fleet), requests_per_day=12, supplier_quotas={busiest: 4})
        setup.plan_path.write_text(plan.to_json())

        def requests(executor, path):
            with CampaignStore(path) as store:
                create_campaign(store, plan, setup.fleet, str(setup.fleet_path), seed=setup.seed, emulation=EMULATION,
                                campaign_id="q")
                assert run_campaign(store, "q", fleet=setup.fleet, executor=executor, n_threads=1).status == "finished"
                ev = store.table("events", "q")
            ev = ev.filter(ev["state"].cast("int64").to_numpy() == int(State.REQUESTED)).to_pydict()
            return sorted(zip(ev["t"], ev["device_id"], ev["attempt"]))

        emulated = requests(None, tmp_path / "emulated.duckdb")
        setup.start_peer()
        live = requests(DccExecutor(setup.options()), tmp_path / "live.duckdb")
    finally:
        setup.stop_peer()
    assert live == emulated
    assert any(a >= 2 for _, _, a in live)
    supplier_of = dict(zip(setup.fleet.column("device_id").tolist(), supplier.tolist()))
    per_day: dict[tuple[int, bool], int] = {}
    for t, device, _ in live:
        key = (int(t // 86400), supplier_of[device] == busiest)
        per_day[key] = per_day.get(key, 0) + 1
    assert max(n for (_, mine), n in per_day.items() if mine) == 4
    for day in {d for d, _ in per_day}:
        assert per_day.get((day, True), 0) + per_day.get((day, False), 0) <= 12


# -- the programme view ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def quota_store(fleet, names, tmp_path_factory):
    """A store with a quota campaign run on its fleet file, and a later extract that moves a fifth of the
    first (quota'd) supplier's devices to the third supplier."""
    directory = tmp_path_factory.mktemp("quota-programme")
    fleet_path = directory / "fleet.parquet"
    fleet.write(fleet_path)
    plan = _quota_plan(names)
    store = directory / "q.duckdb"
    with CampaignStore(store) as s:
        create_campaign(s, plan, fleet, str(fleet_path), seed=7, emulation=dataclasses.replace(
            FAST, wan_failure_prob=0.4), campaign_id="q")
        assert run_campaign(s, "q", fleet=fleet).status == "finished"
        events = s.table("events", "q")
        in_store = set(s.table("devices", "q")["device_id"].to_pylist())
    table = fleet.table
    supplier = table["supplier"].to_pylist()
    moved = [i for i, name in enumerate(supplier) if name == names[0]][::5]
    for i in moved:
        supplier[i] = names[2]
    import pyarrow as pa
    import pyarrow.parquet as pq

    later = directory / "later.parquet"
    pq.write_table(table.set_column(table.schema.get_field_index("supplier"), "supplier", pa.array(supplier)), later)
    return {"store": store, "plan": plan, "events": events, "later": later,
            "moved": {table["device_id"][i].as_py() for i in moved} & in_store}


def test_the_programme_view_charges_each_days_requests_to_the_supplier_that_requested(fleet, names, quota_store):
    from althan_ota.report.programme import programme_views

    plan = quota_store["plan"]
    per, _ = _requests_per_day_and_supplier(quota_store["events"], fleet)
    ev = quota_store["events"].to_pydict()
    supplier_of = dict(zip(fleet.column("device_id").tolist(), fleet.column("supplier").tolist()))
    retries: dict[tuple[int, str], int] = {}
    for d, t, s, a in zip(ev["device_id"], ev["t"], ev["state"], ev["attempt"]):
        if s == State.REQUESTED and a >= 2:
            retries[int(t // 86400), supplier_of[d]] = retries.get((int(t // 86400), supplier_of[d]), 0) + 1
    for latest in (None, quota_store["later"]):          # a later extract does not move past requests
        views = programme_views([quota_store["store"]], latest)
        rows = views.quota_days.to_pylist()
        assert {(r["day"], r["supplier"]): r["requests"] for r in rows} == per
        assert {(r["day"], r["supplier"]): r["retries"] for r in rows if r["retries"]} == retries
        for r in rows:
            assert r["quota"] == plan.supplier_quotas.get(r["supplier"]) and r["cap"] == plan.requests_per_day
            assert r["quota"] is None or r["requests"] <= r["quota"]
        assert views.summary["quota_days_over"] == 0 and views.summary["requests"] == sum(per.values())
        assert any(r["requests"] == r["quota"] for r in rows)           # the quota bound on some day


def test_a_device_that_moved_supplier_shows_who_requested_it(fleet, names, quota_store):
    from althan_ota.report.programme import programme_views

    views = programme_views([quota_store["store"]], quota_store["later"])
    changes = views.supplier_changes.to_pylist()
    assert {c["device_id"] for c in changes} == quota_store["moved"]
    ev = quota_store["events"].to_pydict()
    requests: dict[str, int] = {}
    for d, s in zip(ev["device_id"], ev["state"]):
        if s == State.REQUESTED:
            requests[d] = requests.get(d, 0) + 1
    assert any(c["requests"] for c in changes) and any(not c["requests"] for c in changes)
    for c in changes:
        assert (c["planned_supplier"], c["supplier"]) == (names[0], names[2])
        assert c["requests"] == requests.get(c["device_id"], 0)
        assert c["requested_by"] == (names[0] if c["requests"] else None)


def test_the_programme_command_shows_each_quota_against_the_busiest_day(quota_store, names, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", "programme", str(quota_store["store"]), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"q / {names[0]}: at most 25 requests a day (quota 25)" in text
    assert f"q / {names[1]}: at most 8 requests a day (quota 8)" in text
    assert (out / "quota_days.csv").is_file()


def test_quota_use_sums_each_suppliers_days_and_the_page_shows_it(quota_store, names, fleet, tmp_path, capsys):
    from althan_ota.report.programme import programme_views

    views = programme_views([quota_store["store"]])
    days = views.quota_days.to_pylist()
    use = views.quota_use().to_pylist()
    assert {(u["campaign_id"], u["supplier"]) for u in use} == {(d["campaign_id"], d["supplier"]) for d in days}
    for u in use:
        mine = [d for d in days if (d["campaign_id"], d["supplier"]) == (u["campaign_id"], u["supplier"])]
        assert u["days"] == len(mine) and u["requests"] == sum(d["requests"] for d in mine)
        assert u["retries"] == sum(d["retries"] for d in mine)
        assert u["busiest_day"] == max(d["requests"] for d in mine) and u["quota"] == mine[0]["quota"]
    assert {u["supplier"]: u["busiest_day"] for u in use if u["quota"]} == {names[0]: 25, names[1]: 8}
    page = tmp_path / "page.html"
    fleet_path = tmp_path / "fleet.parquet"
    fleet.write(fleet_path)
    assert main(["report", "html", "--fleet", str(fleet_path), "--programme", str(quota_store["store"]),
                 "--out", str(page)]) == 0
    capsys.readouterr()
    section = page.read_text()
    section = section[section.index("<h2>Programme</h2>"):]
    assert "the busiest day against each supplier quota</caption>" in section
    for u in use:
        assert f"<td>{html.escape(u['supplier'])}</td>" in section
