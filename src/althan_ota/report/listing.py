"""Report-shaped listings: a DCC fleet report, supplier reports, an Alt HAN Inventory (AHI) extract.

The AHI's columns are the fleet report's: a report written by ``althan-ota report fleet`` is a valid AHI.
Only the first three columns are required; the others are null when a file lacks them. Identifiers are kept
in canonical text form (EUI-64 ``70-B3-D5-...``, versions ``0x0102A0B3``, 13-digit MPAN cores), which
compares exactly as the identifiers do; ``Listing`` also carries the device IDs and versions as integers.

Every row is validated column by column in C (``fleet.ids``), chunk by chunk, without copying the text of
values already in canonical form. A bad value is an InventoryError naming the file, the line (the row, for
Parquet) and the column; no row is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InventoryError
from ..fleet import ids
from ..fleet.columns import MAX_VALUE_BYTES, control_characters, lookup, oversized, text_values
from ..fleet.inventory import TEXT_COLUMNS
from ..fleet.schema import (JOIN_MODES, SMI_STATUSES, STATUS_LOOKUP, VARIANT_LOOKUP, VARIANTS, canonical_header,
                            normalise_key)
from ..fleet.sources import _read_csv, _read_parquet

LISTING_REQUIRED = ("device_id", "firmware_version", "smi_status")
LISTING_SCHEMA = pa.schema([
    ("device_id", pa.string()), ("firmware_version", pa.string()), ("smi_status", pa.string()),
    ("ppmid_variant", pa.string()), ("manufacturer", pa.string()), ("model", pa.string()), ("ch_id", pa.string()),
    ("mpan", pa.string()), ("mprn", pa.string()), ("installation_id", pa.string()), ("supplier", pa.string()),
    ("join_mode", pa.string()), ("last_confirmed", pa.timestamp("s", tz="UTC")), ("line", pa.int64()),
])
# header spellings the fleet importer does not know, for report-only columns
_REPORT_HEADERS = {normalise_key(k): v for k, v in {
    "last confirmed": "last_confirmed", "last_confirmed_at": "last_confirmed", "confirmed at": "last_confirmed",
    "version confirmed": "last_confirmed", "firmware confirmed": "last_confirmed", "last read": "last_confirmed",
}.items()}
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
# the day-first dates of GB spreadsheets: DD/MM/YYYY, optionally with HH:MM[:SS]
_UK_DATE = r"^(\d{2})/(\d{2})/(\d{4})((?: \d{2}:\d{2}(?::\d{2})?)?)$"
# column: (free spelling -> canonical value, the canonical values in code order, what a bad value is)
_LOOKUPS = {"smi_status": (STATUS_LOOKUP, SMI_STATUSES, "unknown SMI status"),
            "ppmid_variant": (VARIANT_LOOKUP, VARIANTS, "unknown PPMID variant"),
            "join_mode": ({normalise_key(m): m for m in JOIN_MODES}, JOIN_MODES, "unknown HAN join mode")}
_EUI64_ERROR = "malformed EUI-64 {} (expected 16 hex digits, e.g. 00-DB-12-34-56-78-90-A0)"


@dataclass
class Listing:
    table: pa.Table            # LISTING_SCHEMA
    device_key: np.ndarray     # uint64 device IDs, row by row
    version: np.ndarray        # uint32 firmware versions, row by row
    status: np.ndarray         # int32 index of the SMI status in fleet.schema.SMI_STATUSES, row by row


def read_listing(path: str | Path, columns=None) -> pa.Table:
    """A DCC fleet report, supplier report or AHI extract (CSV or Parquet) as LISTING_SCHEMA, one row per
    file row (duplicates kept: reconciliation reports them). ``columns``: only these of LISTING_SCHEMA's
    columns are read and checked (the required ones always are; the others are null). Raises
    InventoryError on the first bad value."""
    return read_listing_keyed(path, columns).table


def listing_from_table(table: pa.Table, name: str = "<table>") -> pa.Table:
    """An in-memory report (e.g. ``Session.fleet_report()``) as LISTING_SCHEMA."""
    return listing_keyed(table, name).table


def read_listing_keyed(path: str | Path, columns=None) -> Listing:
    path = Path(path)
    if not path.is_file():
        raise InventoryError(f"{path}: no such file")
    wanted = None if columns is None else set(columns) | set(LISTING_REQUIRED)

    def keep(header: str) -> bool:
        name = _our_name(header)
        return name is not None and (wanted is None or name in wanted)

    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        table, lines, malformed = _read_parquet(path, keep), None, []
    elif suffix in (".csv", ".txt", ".gz"):
        # every column is decoded, so that a file in the wrong encoding is refused whichever column shows it
        table, lines, malformed = _read_csv(path)
    else:
        raise InventoryError(f"{path}: unknown file type {suffix!r} (expected .csv, .csv.gz or .parquet)")
    if malformed:
        line, reason = malformed[0]
        raise InventoryError(f"{path}, line {line}: {reason}" + (
            f" (and {len(malformed) - 1} more malformed lines)" if len(malformed) > 1 else ""))
    if lines is None:
        lines = np.arange(1, table.num_rows + 1, dtype=np.int64)
    raw, originals = _canonical_columns(table, path)
    if wanted is not None:
        raw = raw.select([c for c in raw.column_names if c in wanted])
        originals = {c: h for c, h in originals.items() if c in wanted}
    return _parse(raw, lines, originals, path)


def listing_keyed(table: pa.Table, name: str = "<table>") -> Listing:
    """A table already in LISTING_SCHEMA is only re-keyed (its text is canonical); any other is parsed."""
    if table.schema.equals(LISTING_SCHEMA):
        device, version = ids.parse_eui64_column(table["device_id"]), ids.parse_version_column(
            table["firmware_version"])
        status = pc.fill_null(pc.index_in(table["smi_status"], value_set=pa.array(SMI_STATUSES)), -1).to_numpy()
        if device.valid.all() and version.valid.all() and (status >= 0).all():
            return Listing(table, device.values, version.values, status)
    raw, originals = _canonical_columns(table, name)
    return _parse(raw, np.arange(1, table.num_rows + 1, dtype=np.int64), originals, name)


def _our_name(header: str) -> str | None:
    return canonical_header(header) or _REPORT_HEADERS.get(normalise_key(header))


def _canonical_columns(table: pa.Table, path) -> tuple[pa.Table, dict[str, str]]:
    columns, originals = {}, {}
    for position, header in enumerate(table.column_names):
        name = _our_name(header)
        if name is None:
            continue  # notes, dates and other columns that are not ours to judge
        if name in originals:
            raise InventoryError(f"{path}: columns {originals[name]!r} and {header!r} both mean {name}"
                                 + (" (the header names it twice)" if originals[name] == header else ""))
        columns[name], originals[name] = table.column(position), header
    return (pa.table(columns) if columns else pa.table({})), originals


def _parse(raw: pa.Table, lines: np.ndarray, originals: dict[str, str], path) -> Listing:
    missing = [c for c in LISTING_REQUIRED if c not in raw.column_names]
    if missing:
        raise InventoryError(f"{path}: missing required column(s) {', '.join(missing)}; "
                             f"found {', '.join(originals.values()) or 'none'}")
    n = raw.num_rows

    def fail(mask: np.ndarray, column: str, what: str) -> None:
        bad = np.flatnonzero(mask)
        if len(bad):
            value = raw[column][int(bad[0])].as_py()
            if isinstance(value, str) and len(value) > 60:
                value = value[:40] + "…"
            more = f" (and {len(bad) - 1} more rows)" if len(bad) > 1 else ""
            raise InventoryError(f"{path}, line {lines[bad[0]]}, column {originals[column]}: {what}, "
                                 f"got {value!r}{more}")

    col = {name: raw[name] for name in raw.column_names}
    for name, values in col.items():
        if pa.types.is_string(values.type):
            fail(oversized(values), name, f"longer than {MAX_VALUE_BYTES} bytes (no inventory value is)")
            if name in TEXT_COLUMNS:
                fail(control_characters(values), name, "holds a control character (a NUL byte or the like)")
    out: dict[str, pa.Array | pa.ChunkedArray] = {}

    device = ids.parse_eui64_column(col["device_id"])
    fail(device.state == ids.MALFORMED, "device_id", _EUI64_ERROR.format("device ID"))
    fail(device.state == ids.ABSENT, "device_id", "empty device ID")
    out["device_id"] = _identifier_text(col["device_id"], device, ids.format_eui64)

    parsed = ids.parse_version_column(col["firmware_version"])
    fail(parsed.state == ids.MALFORMED, "firmware_version",
         "malformed firmware version (expected 8 hex digits, e.g. 0x0102A0B3, or an integer 0..0xFFFFFFFF)")
    fail(parsed.state == ids.ABSENT, "firmware_version", "empty firmware version")
    fail(parsed.state == ids.AMBIGUOUS, "firmware_version", "ambiguous firmware version (eight decimal digits are "
         "also what a tool writes for a version exported as an integer; write it with 0x)")
    version = parsed.values
    out["firmware_version"] = _identifier_text(col["firmware_version"], parsed, ids.format_firmware_version)

    codes = {}
    for name, (mapping, order, what) in _LOOKUPS.items():
        if name not in col:
            continue
        mapped, present, codes[name] = lookup(col[name], mapping, order)
        fail(present & ~pc.is_valid(mapped).to_numpy(zero_copy_only=False), name,
             f"{what} (known: {', '.join(sorted(set(mapping.values())))})")
        if name in LISTING_REQUIRED:
            fail(~present, name, "empty SMI status")
        out[name] = mapped
    if "ch_id" in col:
        hub = ids.parse_eui64_column(col["ch_id"])
        fail(hub.state == ids.MALFORMED, "ch_id", _EUI64_ERROR.format("Communications Hub ID"))
        out["ch_id"] = _identifier_text(col["ch_id"], hub, ids.format_eui64)
    if "mpan" in col:
        mpan = ids.parse_mpan_column(col["mpan"])
        fail(mpan.state == ids.MALFORMED, "mpan", "malformed MPAN (13-digit core or 21 digits, with a valid "
                                                  "check digit)")
        out["mpan"] = _identifier_text(col["mpan"], mpan, lambda v, ok: ids.format_decimal(v, 13, ok))
    if "mprn" in col:
        fail(ids.parse_mprn_column(col["mprn"]).state == ids.MALFORMED, "mprn",
             "malformed MPRN (expected 6 to 10 digits)")
        out["mprn"] = text_values(col["mprn"])
    for name in ("manufacturer", "model", "installation_id", "supplier"):
        if name in col:
            out[name] = text_values(col[name])
    if "last_confirmed" in col:
        out["last_confirmed"] = _timestamps(col["last_confirmed"], fail)
    out["line"] = pa.array(lines)
    table = pa.table({f.name: out.get(f.name, pa.nulls(n, f.type)) for f in LISTING_SCHEMA}).cast(LISTING_SCHEMA)
    return Listing(table, device.values, version, codes["smi_status"])


def _identifier_text(values, parsed: ids.Parsed, format_values):
    """The canonical text of a parsed identifier column (null where absent): the input itself when it is
    already canonical and has no empty values, else formatted from the parsed values."""
    absent = int(np.count_nonzero(parsed.state == ids.ABSENT))
    if parsed.canonical and pa.types.is_string(values.type) and absent == values.null_count:
        return values
    return format_values(parsed.values, parsed.valid)


def _timestamps(values, fail):
    if pa.types.is_timestamp(values.type):
        return values.cast(pa.timestamp("s", tz=values.type.tz or "UTC"), safe=False)
    if pa.types.is_date(values.type):
        return values.cast(pa.timestamp("s")).cast(pa.timestamp("s", tz="UTC"))
    text = text_values(values)
    if text.null_count == len(text):
        return pa.nulls(len(text), pa.timestamp("s", tz="UTC"))
    present = pc.is_valid(text).to_numpy(zero_copy_only=False)
    uk = pc.fill_null(pc.match_substring_regex(text, _UK_DATE), False)
    if pc.any(uk).as_py():
        text = pc.if_else(uk, pc.replace_substring_regex(text, _UK_DATE, r"\3-\2-\1\4"), text)
    shaped = pc.fill_null(pc.match_substring_regex(text, _TIMESTAMP), False).to_numpy(zero_copy_only=False)
    fail(present & ~shaped, "last_confirmed",
         "not a date or time (expected ISO 8601, e.g. 2026-01-15T10:00:00Z, or DD/MM/YYYY [HH:MM[:SS]])")
    # a zone-less time is UTC and a bare date its midnight; pyarrow wants an explicit zone for a zoned type
    zoned = pc.fill_null(pc.match_substring_regex(text, r"(Z|[+-]\d{2}(:?\d{2})?)$"), False)
    date_only = pc.fill_null(pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2}$"), False)
    text = pc.if_else(date_only, pc.binary_join_element_wise(text, "T00:00:00Z", ""),
                      pc.if_else(zoned, text, pc.binary_join_element_wise(text, "Z", "")))
    try:
        return pc.cast(pc.cast(text, pa.timestamp("us", tz="UTC")), pa.timestamp("s", tz="UTC"), safe=False)
    except pa.ArrowInvalid:
        # shaped right but not a real time (month 13, 25 o'clock): find the first such row by halving
        lo, hi = 0, len(text)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            try:
                pc.cast(text.slice(lo, mid - lo), pa.timestamp("us", tz="UTC"))
                lo = mid
            except pa.ArrowInvalid:
                hi = mid
        mask = np.zeros(len(text), bool)
        mask[lo] = True
        fail(mask, "last_confirmed", "not a valid date or time")
        raise
