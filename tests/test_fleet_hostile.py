"""Hostile and damaged inventory extracts (issue 20, items 2, 4, 5, 7, 9, 11 and 12), for the fleet importer
and for the report readers that share its CSV reader: line numbers as an editor shows them (blank lines,
CRLF, quoted line breaks), non-UTF-8 headers, a header naming a column twice, one enormous field, NUL bytes,
a header without a line break, placeholder identifiers. Then a fuzz test of the CSV reader whose line
numbers are checked against Python's csv module (an independent reader)."""

from __future__ import annotations

import csv
import io
import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from althan_ota.errors import InventoryError
from althan_ota.fleet import read_fleet
from althan_ota.report.listing import read_listing

HEADER = ["Device ID", "Device Type", "PPMID Variant", "Manufacturer", "Model", "Hardware Version",
          "Firmware Version", "SMI Status", "Joined As", "CH ID", "MPAN", "MPRN", "Installation ID", "Supplier",
          "Building"]


def plain(n: int, **changes) -> list[str]:
    """A plain PPMID row (no installation), valid unless ``changes`` make it otherwise."""
    values = {"device": f"00-DB-12-34-56-78-{n // 256:02X}-{n % 256:02X}", "manufacturer": "Northbridge Radio",
              "model": "NB-PP-1", "fw": "0x01020304", "ch": "00-DB-12-00-00-00-00-01", "mpan": "",
              "building": f"B{n}"} | changes
    return [values["device"], "PPMID", "PPMID", values["manufacturer"], values["model"], "2", values["fw"],
            "Commissioned", "PPMID", values["ch"], values["mpan"], "1234567", "", "Albion Energy",
            values["building"]]


def csv_line(values, newline="\n", quote_all=False) -> str:
    """One CSV record, quoted where needed (csv.writer of Python 3.10 cannot write a NUL)."""
    def field(value: str) -> str:
        if quote_all or any(c in value for c in ',"\r\n') or value != value.strip():
            return '"' + value.replace('"', '""') + '"'
        return value

    return ",".join(field(v) for v in values) + newline


def csv_text(rows, newline="\n", header=HEADER) -> str:
    return "".join(csv_line(values, newline) for values in [header, *rows])


def physical_lines(data: bytes) -> list[int]:
    """The line each record after the header starts on, by Python's csv module (the reference; a NUL does not
    change where lines end, and the csv module of Python 3.10 refuses it)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8").replace("\x00", "?"), newline=""))
    starts, previous = [], 0
    for record in reader:
        if record:
            starts.append(previous + 1)
        previous = reader.line_num
    return starts[1:]


# --- item 2: line numbers are the file's lines ------------------------------------------------------------

@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_quarantine_lines_are_file_lines_with_blank_lines_and_quoted_line_breaks(tmp_path, newline):
    text = (csv_text([plain(1), plain(2, building="Flat 3" + newline + "12 High Street")], newline)
            + newline + newline
            + csv_text([plain(3, device="NOT-AN-EUI"), plain(4, building="a" + newline + newline + "b"),
                        plain(5, mpan="1200023305968")], newline).split(newline, 1)[1]
            + newline
            + "00-DB-12-34-56-78-00-06,too,few" + newline
            + csv_text([plain(7, device="ALSO-BAD")], newline).split(newline, 1)[1])
    path = tmp_path / "extract.csv"
    path.write_bytes(text.encode())
    starts = physical_lines(text.encode())
    assert starts == [2, 3, 7, 8, 11, 13, 14]   # the file as written: header, 2, 3-4, blank 5-6, 7, 8-10, ...
    fleet = read_fleet(path)
    assert sorted(fleet.table["source_line"].to_pylist()) == [2, 3, 8]
    problems = {p["line"]: p for p in fleet.quarantine.to_pylist()}
    assert set(problems) == {7, 11, 13, 14}
    assert problems[7]["column"] == "device_id" and problems[11]["column"] == "mpan"
    assert "expected 15 fields, found 3" in problems[13]["reason"] and problems[14]["device_id"] == "ALSO-BAD"


@pytest.mark.parametrize("content, message", [
    ('device_id,firmware_version,smi_status,notes\n00-DB-12-34-56-78-00-01,0x01020304,Commissioned,"two\nlines"\n'
     '\n00-DB-12-34-56-78-00-02,0x01020304,Sleeping,\n', r"line 5, column smi_status: unknown SMI status"),
    ('device_id,firmware_version,smi_status\n00-DB-12-34-56-78-00-01,0x01020304,"Commis\nsioned"\n'
     '00-DB-12-34-56-78-00-02,0x01020304\n', r"line 4: expected 3 fields, found 2"),
], ids=["bad value after a blank line", "ragged row after a quoted line break"])
def test_report_reader_names_the_file_line(tmp_path, content, message):
    path = tmp_path / "ahi.csv"
    path.write_text(content)
    with pytest.raises(InventoryError, match=r"ahi\.csv, " + message):
        read_listing(path)


# --- item 4: a header that is not UTF-8 -----------------------------------------------------------------

def _not_utf8(tmp_path):
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(csv_text([plain(1)]).encode("utf-16"))
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(csv_text([plain(1)], header=[h.replace("Model", "Modèle") for h in HEADER]).encode("latin-1"))
    return utf16, latin


def test_header_not_in_utf8_is_refused_with_line_and_byte(tmp_path):
    utf16, latin = _not_utf8(tmp_path)
    for read in (read_fleet, read_listing):
        with pytest.raises(InventoryError, match=r"utf16\.csv, line 1, byte 1: the file is UTF-16"):
            read(utf16)
        with pytest.raises(InventoryError, match=r"latin1\.csv, line 1, byte 53: not valid UTF-8"):
            read(latin)


def test_reconcile_command_refuses_a_latin1_ahi_in_one_line(tmp_path, capsys):
    from althan_ota.cli import main

    _, latin = _not_utf8(tmp_path)
    good = tmp_path / "fleet.csv"
    good.write_text(csv_text([plain(1)]))
    status = main(["report", "reconcile", "--fleet", str(good), "--ahi", str(latin), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1 and "line 1, byte 53: not valid UTF-8" in err


# --- item 5: a header naming a column twice ---------------------------------------------------------------

def test_header_naming_a_column_twice_is_refused(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text(csv_text([plain(1) + ["x"]], header=HEADER + ["Device ID"]))
    for read in (read_fleet, read_listing):
        with pytest.raises(InventoryError, match=r"columns 'Device ID' and 'Device ID' both mean device_id"):
            read(path)


# --- item 7: one enormous field ---------------------------------------------------------------------------

def test_one_enormous_field_quarantines_its_row_and_keeps_the_rest(tmp_path):
    rows = [plain(i) for i in range(1, 40)] + [plain(40, manufacturer="x" * 20_000_000)] + \
        [plain(i) for i in range(41, 60)]
    path = tmp_path / "huge.csv"
    path.write_text(csv_text(rows))
    fleet = read_fleet(path)
    assert len(fleet) == 58
    (problem,) = fleet.quarantine.to_pylist()
    assert (problem["line"], problem["column"]) == (41, "manufacturer")
    assert "longer than" in problem["reason"] and len(problem["reason"]) < 200
    with pytest.raises(InventoryError, match=r"huge\.csv, line 41, column Manufacturer: longer than") as info:
        read_listing(path)
    assert len(str(info.value)) < 500


# --- item 9: NUL bytes in free text ---------------------------------------------------------------------

@pytest.mark.parametrize("column", ["manufacturer", "model", "building"])
def test_nul_bytes_in_text_are_quarantined_not_written(tmp_path, column):
    path = tmp_path / "nul.csv"
    path.write_text(csv_text([plain(1), plain(2, **{column: "North\x00bridge"})]))
    fleet = read_fleet(path)
    assert len(fleet) == 1 and fleet.table["source_line"].to_pylist() == [2]
    (problem,) = fleet.quarantine.to_pylist()
    assert problem["line"] == 3 and "U+0000 (NUL) at character 6" in problem["reason"]
    fleet.write(tmp_path / "out.parquet")
    assert b"\x00bridge" not in (tmp_path / "out.parquet").read_bytes()


# --- item 11: a header alone, without a final line break ---------------------------------------------------

@pytest.mark.parametrize("ending", ["", "\n", "\r\n"])
def test_header_only_file_imports_no_devices_with_or_without_a_line_break(tmp_path, ending):
    path = tmp_path / "empty.csv"
    path.write_text(",".join(HEADER) + ending)
    fleet = read_fleet(path)
    assert len(fleet) == 0 and fleet.quarantine.num_rows == 0
    assert read_listing(path).num_rows == 0 if ending else True


def test_a_file_without_a_header_is_refused(tmp_path):
    path = tmp_path / "nothing.csv"
    for content in (b"", b"\n\n"):
        path.write_bytes(content)
        with pytest.raises(InventoryError, match="the file is empty"):
            read_fleet(path)


# --- item 12: placeholder identifiers ----------------------------------------------------------------------

def test_placeholder_identifiers_are_quarantined_with_their_reason(tmp_path):
    path = tmp_path / "placeholders.csv"
    path.write_text(csv_text([plain(1, device="FF-FF-FF-FF-FF-FF-FF-FF"), plain(2, device="0000000000000000"),
                              plain(3, mpan="0000000000000"), plain(4, ch="ff:ff:ff:ff:ff:ff:ff:ff"),
                              plain(5, ch="00-00-00-00-00-00-00-00"), plain(6)]))
    fleet = read_fleet(path)
    assert fleet.table["source_line"].to_pylist() == [7]
    reasons = {(p["line"], p["column"]): p["reason"] for p in fleet.quarantine.to_pylist()}
    assert reasons == {
        (2, "device_id"): "placeholder device ID FF-FF-FF-FF-FF-FF-FF-FF (all ones: not a real EUI-64)",
        (3, "device_id"): "placeholder device ID 00-00-00-00-00-00-00-00 (all zeros: not a real EUI-64)",
        (4, "mpan"): "placeholder MPAN core 0000000000000 (not a real supply)",
        (5, "ch_id"): "placeholder Communications Hub ID FF-FF-FF-FF-FF-FF-FF-FF (all ones: not a real EUI-64)",
        (6, "ch_id"): "placeholder Communications Hub ID 00-00-00-00-00-00-00-00 (all zeros: not a real EUI-64)",
    }


# --- fuzzing the CSV reader ------------------------------------------------------------------------------

FIELD_VALUES = ["", "x", "0x01020304", "Commissioned", "PPMID", '"', '""', "a,b", "é", "\u00a0", "\x00", "\t",
                "\n", "\r\n", "\r", "line\nbreak", "  padded  ", "00-DB-12-34-56-78-90-A0", "1200023305967",
                "FF-FF-FF-FF-FF-FF-FF-FF"]


def _fuzzed_csv(rng: random.Random) -> bytes:
    newline = rng.choice(["\n", "\r\n", "\r"])
    quote_all = rng.random() < 0.5
    parts = [csv_line(HEADER, newline, quote_all)]
    for i in range(rng.randrange(0, 25)):
        roll = rng.random()
        if roll < 0.1:
            parts.append(newline)                                    # a blank line
        elif roll < 0.2:                                             # ragged
            parts.append(csv_line([rng.choice(FIELD_VALUES) for _ in range(rng.randrange(1, 20))], newline,
                                  quote_all))
        elif roll < 0.6:
            parts.append(csv_line(plain(i), newline, quote_all))
        else:
            values = plain(i)
            for _ in range(rng.randrange(1, 4)):
                values[rng.randrange(len(values))] = rng.choice(FIELD_VALUES)
            parts.append(csv_line(values, newline, quote_all))
    data = "".join(parts)
    return (data.rstrip("\r\n") if rng.random() < 0.2 else data).encode()


def _check_reader(tmp_path, data: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    try:
        fleet = read_fleet(path)
    except InventoryError:
        return
    seen = sorted(set(fleet.table["source_line"].to_pylist()) | set(fleet.quarantine["line"].to_pylist()))
    try:
        expected = physical_lines(data)
    except UnicodeDecodeError:
        return
    assert seen == expected
    assert not set(fleet.table["source_line"].to_pylist()) & set(fleet.quarantine["line"].to_pylist())


@pytest.mark.parametrize("seed", range(6))
def test_seeded_corpus_of_mangled_extracts(tmp_path, seed):
    rng = random.Random(seed)
    for _ in range(25):
        _check_reader(tmp_path, _fuzzed_csv(rng))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False), st.lists(st.tuples(st.integers(0, 10 ** 6), st.binary(max_size=3)),
                                                   max_size=4))
def test_fuzz_byte_edits_of_an_extract(tmp_path, rng, edits):
    data = bytearray(_fuzzed_csv(rng))
    for at, replacement in edits:
        at %= max(len(data), 1)
        data[at:at + 1] = replacement
    _check_reader(tmp_path, bytes(data))


def test_compatibility_table_errors_name_the_file_line(tmp_path):
    from althan_ota.report.inputs import read_compatibility

    path = tmp_path / "compat.csv"
    path.write_text("hub_version,meter_version,compatible\n\n0x01020000,0x01020000,yes\n0x01030000,0x0103,maybe\n")
    with pytest.raises(InventoryError, match=r"compat\.csv, line 4, column meter_version: malformed"):
        read_compatibility(path)
    path.write_text("hub_version,meter_version,compatible\n0x01020000,0x01020000\n")
    with pytest.raises(InventoryError, match=r"compat\.csv, line 2: expected 3 fields, found 2"):
        read_compatibility(path)
