"""Reconciliation of the DCC fleet report, supplier reports and the AHI against a plain-Python reference on
random perturbations (hypothesis), and the listing reader's handling of good and bad files."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_data import device_id

from althan_ota.errors import InventoryError
from althan_ota.report import read_listing, reconcile
from althan_ota.report.listing import LISTING_SCHEMA, listing_from_table

AS_OF = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
STALE_DAYS = 180
DATES = [None, dt.datetime(2024, 1, 10, tzinfo=dt.timezone.utc), dt.datetime(2025, 11, 1, tzinfo=dt.timezone.utc),
         dt.datetime(2026, 5, 20, 12, 30, tzinfo=dt.timezone.utc)]
VERSIONS = [0x01020000, 0x01030000, 0x20230117]
STATUSES = ["Commissioned", "Suspended"]
SUPPLIERS = ["Albion Energy", "Severn Power"]


def listing(rows: list[dict]) -> pa.Table:
    """Rows (device, version, status, supplier, confirmed) as a report-shaped table with the usual headers."""
    return pa.table({
        "Device ID": pa.array([device_id(r["device"]) for r in rows], pa.string()),
        "Firmware Version": pa.array([f"0x{r['version']:08X}" for r in rows], pa.string()),
        "Status": pa.array([r["status"] for r in rows], pa.string()),
        "Supplier": pa.array([r["supplier"] for r in rows], pa.string()),
        "Last Confirmed": pa.array([r["confirmed"] for r in rows], pa.timestamp("s", tz="UTC")),
    })


@st.composite
def sources(draw):
    n = draw(st.integers(1, 10))
    truth = [{"device": k + 1, "version": draw(st.sampled_from(VERSIONS)), "status": draw(st.sampled_from(STATUSES)),
              "supplier": draw(st.sampled_from(SUPPLIERS)), "confirmed": draw(st.sampled_from(DATES))}
             for k in range(n)]

    def copy_of(rows) -> list[dict]:
        out = []
        for row in rows:
            action = draw(st.sampled_from(["same", "same", "same", "drop", "version", "status", "date", "twice"]))
            if action == "drop":
                continue
            r = dict(row)
            if action == "version":
                r["version"] = draw(st.sampled_from(VERSIONS))
            elif action == "status":
                r["status"] = draw(st.sampled_from(STATUSES))
            elif action == "date":
                r["confirmed"] = draw(st.sampled_from(DATES))
            out.append(r)
            if action == "twice":
                out.append(dict(r, version=draw(st.sampled_from(VERSIONS))))
        return out

    dcc, ahi = copy_of(truth), copy_of(truth)
    extra = [{"device": 100 + k, "version": VERSIONS[0], "status": STATUSES[0], "supplier": SUPPLIERS[k % 2],
              "confirmed": None} for k in range(draw(st.integers(0, 2)))]
    ahi += extra                                 # devices the DCC does not list
    use_suppliers = draw(st.booleans())
    covered = draw(st.sampled_from([SUPPLIERS, SUPPLIERS[:1]]))
    supplier_rows = copy_of(truth) if use_suppliers else []
    files = [[r for r in supplier_rows if r["supplier"] == name] for name in covered] if use_suppliers else []
    if files and supplier_rows and draw(st.booleans()):
        files[0].append(dict(supplier_rows[0]))   # one device in a second supplier file (or twice in one)
    # extracts come in any row order: a device's first row in a file is the one its values are taken from
    dcc, ahi = draw(st.permutations(dcc)), draw(st.permutations(ahi))
    files = [draw(st.permutations(f)) for f in files]
    return dcc, ahi, files


def reference(dcc, ahi, files):
    """device -> (class, issues or None when duplicate, AHI action)."""
    has_suppliers = bool(files)
    supplier_rows = [dict(r, file=k) for k, f in enumerate(files) for r in f]
    covered = {r["supplier"] for r in supplier_rows if r["supplier"]}
    out = {}
    for device in {r["device"] for r in dcc + ahi + supplier_rows}:
        rows = {name: [r for r in src if r["device"] == device]
                for name, src in (("dcc", dcc), ("sup", supplier_rows), ("ahi", ahi))}
        duplicate = any(len(v) > 1 for v in rows.values()) or \
            len({r["file"] for r in rows["sup"]}) > 1
        one = {k: v[0] if v else None for k, v in rows.items()}
        supplier = (one["dcc"] or one["ahi"] or {}).get("supplier")
        expected = has_suppliers and (not covered or supplier is None or supplier in covered)
        missing = [name for name in ("dcc", "sup", "ahi") if not rows[name] and (name != "sup" or expected)]
        versions = {r["version"] for r in one.values() if r}
        statuses = {r["status"] for r in one.values() if r}
        dates = [r["confirmed"] for v in rows.values() for r in v if r["confirmed"]]
        stale = bool(dates) and max(dates) < AS_OF - dt.timedelta(days=STALE_DAYS)
        issues = [name for name, flag in (("missing", missing), ("version_mismatch", len(versions) > 1),
                                          ("status_mismatch", len(statuses) > 1), ("stale", stale)) if flag]
        klass = "duplicate" if duplicate else issues[0] if issues else "agree"
        d, a, s = one["dcc"], one["ahi"], one["sup"]
        cutoff = AS_OF - dt.timedelta(days=STALE_DAYS)
        if duplicate or not d:
            action = "review"
        elif d and not a:
            action = "add"
        elif s and (s["version"] != d["version"] or s["status"] != d["status"]):
            action = "review"
        elif a["version"] != d["version"] or a["status"] != d["status"] or (
                (a["confirmed"] is None or a["confirmed"] < cutoff) and d["confirmed"] and d["confirmed"] >= cutoff):
            action = "update"
        else:
            action = None
        out[device_id(device)] = (klass, None if duplicate else ",".join(issues) or None, action)
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sources())
def test_reconcile_matches_reference(data):
    dcc, ahi, files = data
    result = reconcile(listing(dcc), listing(ahi), [listing(f) for f in files], stale_days=STALE_DAYS, as_of=AS_OF)
    expected = reference(dcc, ahi, files)
    got = {r["device_id"]: r for r in result.devices.to_pylist()}
    assert set(got) == set(expected)
    actions = {r["device_id"]: r["action"] for r in result.updates.to_pylist()}
    for device, (klass, issues, action) in expected.items():
        assert got[device]["class"] == klass, device
        if issues is not None:
            assert got[device]["issues"] == issues, device
        assert actions.get(device) == action, device
    assert sum(result.summary()["class"].values()) == len(expected)


def test_updates_carry_the_dcc_values():
    base = {"version": VERSIONS[0], "status": "Commissioned", "supplier": SUPPLIERS[0], "confirmed": DATES[3]}
    dcc = [dict(base, device=1), dict(base, device=2, version=VERSIONS[1]), dict(base, device=3)]
    ahi = [dict(base, device=1), dict(base, device=2, confirmed=DATES[1]), dict(base, device=4)]
    result = reconcile(listing(dcc), listing(ahi), stale_days=STALE_DAYS, as_of=AS_OF)
    updates = {r["device_id"]: r for r in result.updates.to_pylist()}
    assert set(updates) == {device_id(2), device_id(3), device_id(4)}
    two = updates[device_id(2)]
    assert two["action"] == "update" and two["firmware_version"] == f"0x{VERSIONS[1]:08X}"
    assert two["reason"] == f"firmware 0x{VERSIONS[0]:08X} -> 0x{VERSIONS[1]:08X}; last confirmed 2024-01-10 -> 2026-05-20"
    assert two["last_confirmed"] == DATES[3]
    assert updates[device_id(3)]["action"] == "add"
    assert updates[device_id(4)]["action"] == "review" and "not in the DCC report" in updates[device_id(4)]["reason"]
    row = {r["device_id"]: r for r in result.devices.to_pylist()}[device_id(4)]
    assert (row["class"], row["missing_from"], row["days_since_confirmed"]) == ("missing", "dcc", 12)


# --- the listing reader ----------------------------------------------------------------------------------

def write(path, text: str | bytes):
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


GOOD = ("Device ID,Firmware Version,Status,PPMID Variant,CH ID,MPAN,Last Confirmed,Notes\n"
        "70b3d50000000001,0x01020000,commissioned,hub-side,00:DB:12:00:00:00:00:01,1200023305967,2026-01-15,ok\n"
        "70-B3-D5-00-00-00-00-02,01030000,Suspended,Alt HAN P2P meter-side,,,2026-01-15T10:00:00+01:00,\n")


def test_listing_reads_aliases_and_spellings(tmp_path):
    table = read_listing(write(tmp_path / "ahi.csv", GOOD))
    assert table.schema == LISTING_SCHEMA
    rows = table.to_pylist()
    assert [r["device_id"] for r in rows] == ["70-B3-D5-00-00-00-00-01", "70-B3-D5-00-00-00-00-02"]
    assert [r["firmware_version"] for r in rows] == ["0x01020000", "0x01030000"]
    assert [r["smi_status"] for r in rows] == ["Commissioned", "Suspended"]
    assert [r["ppmid_variant"] for r in rows] == ["ALTHAN_P2P_HUB", "ALTHAN_P2P_METER"]
    assert rows[0]["ch_id"] == "00-DB-12-00-00-00-00-01" and rows[1]["ch_id"] is None
    assert rows[0]["last_confirmed"] == dt.datetime(2026, 1, 15, tzinfo=dt.timezone.utc)
    assert rows[1]["last_confirmed"] == dt.datetime(2026, 1, 15, 9, tzinfo=dt.timezone.utc)
    assert [r["line"] for r in rows] == [2, 3]
    parquet = tmp_path / "ahi.parquet"
    pq.write_table(pa.table({"device_id": ["70-B3-D5-00-00-00-00-01"], "firmware_version": pa.array([0x01020000], pa.uint32()),
                             "smi_status": ["Commissioned"]}), parquet)
    assert read_listing(parquet)["firmware_version"].to_pylist() == ["0x01020000"]


def test_listing_reads_day_first_dates(tmp_path):
    text = GOOD.replace("2026-01-15,ok", "15/01/2026 10:30,ok").replace("2026-01-15T10:00:00+01:00", "02/03/2026")
    confirmed = read_listing(write(tmp_path / "uk.csv", text))["last_confirmed"].to_pylist()
    assert confirmed == [dt.datetime(2026, 1, 15, 10, 30, tzinfo=dt.timezone.utc),
                         dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)]


@pytest.mark.parametrize("text, message", [
    ("Device ID,Status\n70B3D50000000001,Commissioned\n", r"missing required column\(s\) firmware_version; found Device ID, Status"),
    (GOOD.replace("70b3d50000000001", "70b3d5000000001"), r"line 2, column Device ID: malformed EUI-64 .* got '70b3d5000000001'"),
    (GOOD.replace("01030000", "1.3"), r"line 3, column Firmware Version: malformed firmware version"),
    (GOOD.replace("Suspended", "Sleeping"), r"line 3, column Status: unknown SMI status"),
    (GOOD.replace("Suspended", ""), r"line 3, column Status: empty SMI status"),
    (GOOD.replace("2026-01-15,ok", "2026/01/15,ok"), r"line 2, column Last Confirmed: not a date or time"),
    (GOOD.replace("2026-01-15,ok", "15/13/2026,ok"), r"line 2, column Last Confirmed: not a valid date"),
    (GOOD.replace("2026-01-15,ok", "2026-13-15,ok"), r"line 2, column Last Confirmed: not a valid date"),
    (GOOD.replace("1200023305967", "1200023305968"), r"line 2, column MPAN: malformed MPAN"),
    (GOOD.replace(",ok\n", ",ok,extra\n"), r"line 2: expected 8 fields, found 9"),
    (GOOD.replace("hub-side", "side-hub"), r"line 2, column PPMID Variant: unknown PPMID variant"),
])
def test_listing_errors_name_file_line_and_column(tmp_path, text, message):
    with pytest.raises(InventoryError, match=message) as err:
        read_listing(write(tmp_path / "bad.csv", text))
    assert "bad.csv" in str(err.value)


def test_listing_encoding_error_names_the_line(tmp_path):
    text = GOOD.encode().replace(b",ok\n", ",Café ok\n".encode("latin-1"))
    with pytest.raises(InventoryError, match=r"bad.csv, line 2, byte \d+: not valid UTF-8"):
        read_listing(write(tmp_path / "bad.csv", text))


def test_listing_other_errors(tmp_path):
    with pytest.raises(InventoryError, match="no such file"):
        read_listing(tmp_path / "absent.csv")
    with pytest.raises(InventoryError, match="unknown file type '.xlsx'"):
        read_listing(write(tmp_path / "ahi.xlsx", "x"))
    with pytest.raises(InventoryError, match="both mean device_id"):
        read_listing(write(tmp_path / "two.csv", "Device ID,EUI64,Firmware Version,Status\n"))
    table = listing_from_table(pa.table({"device_id": ["70-B3-D5-00-00-00-00-01"], "firmware_version": ["0x01000000"],
                                         "status": ["Commissioned"]}))
    assert table["smi_status"].to_pylist() == ["Commissioned"]



@given(st.lists(st.sampled_from(["00-DB-12-34-56-78-90-A0", "00-db-12-34-56-78-90-a0", " 00-DB-12-34-56-78-90-A0",
                                 "00DB1234567890A0", "00-DB-12-34-56-78-90-A0\u00a0", "0x00DB1234567890A0"]),
                min_size=1, max_size=8),
       st.lists(st.sampled_from(["0x0102A0B3", "0x0102a0b3", "0102A0B3", " 0x0102A0B3\t"]), min_size=1, max_size=8),
       st.lists(st.sampled_from(["Commissioned", " commissioned", "Commissioned\u2003"]), min_size=1, max_size=8))
@settings(max_examples=200, deadline=None)
def test_listing_fast_paths_agree_with_the_parser(ids, versions, statuses):
    """Canonical columns skip trimming and parsing; any mix of canonical and other spellings (whitespace,
    Unicode spaces, lower case, no separators) reads exactly as the fleet parser reads it."""
    n = min(len(ids), len(versions), len(statuses))
    table = pa.table({"device_id": ids[:n], "firmware_version": versions[:n], "status": statuses[:n]})
    listing = listing_from_table(table)
    assert listing["device_id"].to_pylist() == ["00-DB-12-34-56-78-90-A0"] * n
    assert listing["firmware_version"].to_pylist() == ["0x0102A0B3"] * n
    assert listing["smi_status"].to_pylist() == ["Commissioned"] * n


def test_listing_empty_device_id_is_an_error_after_canonical_rows():
    table = pa.table({"device_id": ["00-DB-12-34-56-78-90-A0", " "], "firmware_version": ["0x0102A0B3"] * 2,
                      "status": ["Commissioned"] * 2})
    with pytest.raises(InventoryError, match="line 2, column device_id: empty device ID"):
        listing_from_table(table)


def test_listing_takes_identifiers_stored_as_integers(tmp_path):
    path = tmp_path / "ahi.parquet"
    pq.write_table(pa.table({"device_id": pa.array([0x70B3D50000000001, None], pa.uint64()),
                             "firmware_version": pa.array([0x01020000, 0x01030000], pa.uint32()),
                             "status": ["Commissioned", "Commissioned"]}), path)
    with pytest.raises(InventoryError, match=r"line 2, column device_id: empty device ID"):
        read_listing(path)
    pq.write_table(pa.table({"device_id": pa.array([0x70B3D50000000001], pa.uint64()),
                             "firmware_version": pa.array([-1], pa.int64()), "status": ["Commissioned"]}), path)
    with pytest.raises(InventoryError, match=r"line 1, column firmware_version: malformed firmware version"):
        read_listing(path)
    pq.write_table(pa.table({"device_id": pa.array([0x70B3D50000000001], pa.uint64()),
                             "firmware_version": pa.array([0x01020000], pa.int64()), "status": ["Commissioned"]}), path)
    row = read_listing(path).to_pylist()[0]
    assert (row["device_id"], row["firmware_version"]) == ("70-B3-D5-00-00-00-00-01", "0x01020000")
