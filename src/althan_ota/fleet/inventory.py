"""The fleet inventory: one row per device, pairs linked, validated column-wise.

Every bad row of an extract is kept in a quarantine table with its line and the reason, never dropped
silently: a malformed EUI-64, an unknown SMI status or PPMID variant, a duplicate device ID, an Alt HAN
installation without exactly one hub-side and one meter-side bridge on the same Communications Hub, ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._files import replacing
from ..errors import InventoryError
from . import ids
from .columns import MAX_VALUE_BYTES, control_characters, first_control_character, lookup, oversized, \
    shortened, text_values
from .schema import (BRIDGE_VARIANTS, COLUMNS, HUB_SIDE, JOIN_LOOKUP, JOINED_AS_CAD, METER_SIDE, OPTIONAL,
                     REQUIRED, STATUS_LOOKUP, VARIANT_LOOKUP)
from .sources import read_extract

# free-text columns: checked for control characters (NUL bytes and the like) before they reach Parquet
TEXT_COLUMNS = ("device_type", "manufacturer", "model", "supplier", "installation_id", "building_id")
# what systems write for an unknown supply: its check digit is valid, so only this rule catches it
PLACEHOLDER_MPAN = "0" * 13

QUARANTINE_SCHEMA = pa.schema([("line", pa.int64()), ("device_id", pa.string()), ("column", pa.string()),
                               ("reason", pa.string())])


@dataclass
class Fleet:
    """A validated inventory. ``table`` holds the good rows (COLUMNS, present OPTIONAL columns and
    ``source_line``); ``quarantine`` one row per problem found in the bad ones."""

    table: pa.Table
    quarantine: pa.Table = field(default_factory=QUARANTINE_SCHEMA.empty_table)
    source: str = "<memory>"

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def quarantined_lines(self) -> int:
        return len(pc.unique(self.quarantine["line"]))

    def column(self, name: str) -> np.ndarray:
        return self.table[name].to_numpy(zero_copy_only=False)

    def pairs(self) -> tuple[pa.Array, np.ndarray, np.ndarray]:
        """(installation IDs, row of the hub-side bridge, row of the meter-side bridge), one entry per pair."""
        variant = self.table["ppmid_variant"]
        hub = pc.indices_nonzero(pc.equal(variant, HUB_SIDE)).to_numpy().astype(np.int64)
        meter = pc.indices_nonzero(pc.equal(variant, METER_SIDE)).to_numpy().astype(np.int64)
        inst = self.table["installation_id"]
        hub_ids = pc.take(inst, pa.array(hub)).combine_chunks()
        order = pc.index_in(hub_ids, value_set=pc.take(inst, pa.array(meter)).combine_chunks()).to_numpy(
            zero_copy_only=False)
        return hub_ids, hub, meter[order.astype(np.int64)]

    def summary(self) -> dict:
        def counts(col: str) -> dict:
            vc = pc.value_counts(self.table[col]).to_pylist()
            return {str(d["values"]): d["counts"] for d in sorted(vc, key=lambda d: -d["counts"])}

        fw = ids.format_firmware_version(self.column("firmware_version"))
        versions = {d["values"]: d["counts"] for d in pc.value_counts(fw).to_pylist()}
        return {"source": self.source, "devices": len(self), "quarantined_lines": self.quarantined_lines,
                "installations": int(pc.sum(pc.equal(self.table["ppmid_variant"], HUB_SIDE)).as_py() or 0),
                "ppmid_variant": counts("ppmid_variant"), "smi_status": counts("smi_status"),
                "join_mode": counts("join_mode"), "manufacturer": counts("manufacturer"),
                "supplier": counts("supplier"),
                "firmware_version": dict(sorted(versions.items(), key=lambda kv: -kv[1]))}

    def write(self, path: str | Path) -> None:
        """Write the validated fleet as Parquet (the quarantine beside it, if any rows were quarantined), with
        firmware versions as canonical ``0x0102A0B3`` text."""
        import pyarrow.parquet as pq

        path = Path(path)
        # versions as 0x text: a person re-exporting the file to CSV gets text that imports as the same versions
        position = self.table.schema.get_field_index("firmware_version")
        versions = ids.format_firmware_version(self.column("firmware_version"))
        with replacing(path) as partial:
            pq.write_table(self.table.set_column(position, "firmware_version", versions), partial)
        if self.quarantine.num_rows:
            with replacing(path.with_name(path.stem + ".quarantine.parquet")) as partial:
                pq.write_table(self.quarantine, partial)


def read_fleet(path: str | Path) -> Fleet:
    """Import a CSV or Parquet inventory extract (SMI, AHI or supplier), validating every row."""
    raw, lines, malformed = read_extract(path)
    return validate(raw, lines, source=str(path), malformed=malformed)


class _Problems:
    """Collects (row mask, column, reason) findings and turns them into the quarantine table."""

    def __init__(self, lines: np.ndarray, raw_ids: pa.Array):
        self.lines, self.raw_ids = lines, raw_ids
        self.bad = np.zeros(len(lines), dtype=bool)
        self.parts: list[pa.Table] = []

    def add(self, mask: np.ndarray, column: str, reason) -> None:
        """``reason`` is one string for all flagged rows, or an Arrow/numpy array aligned with the rows."""
        if not mask.any():
            return
        rows = np.flatnonzero(mask)
        if isinstance(reason, str):
            reasons = pa.array(np.full(len(rows), reason, dtype=object), type=pa.string())
        else:
            reasons = pc.take(pa.array(reason) if not isinstance(reason, pa.Array) else reason, pa.array(rows))
        self.parts.append(pa.table({"line": pa.array(self.lines[rows]),
                                    "device_id": pc.take(self.raw_ids, pa.array(rows)),
                                    "column": pa.array([column] * len(rows), type=pa.string()),
                                    "reason": reasons.cast(pa.string())}, schema=QUARANTINE_SCHEMA))
        self.bad |= mask

    def table(self) -> pa.Table:
        if not self.parts:
            return QUARANTINE_SCHEMA.empty_table()
        return pa.concat_tables(self.parts).sort_by([("line", "ascending")])


def _parse_int(values: pa.Array, limit: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integers in [0, limit], typed or as decimal / 0x-hex text; returns (values, present, valid)."""
    if pa.types.is_integer(values.type):
        present = values.is_valid().to_numpy(zero_copy_only=False)
        out = pc.fill_null(values, 0).to_numpy().astype(np.int64)
        return out, present, ((out >= 0) & (out <= limit)) | ~present
    t = text_values(values)
    present = pc.is_valid(t).to_numpy(zero_copy_only=False)
    is_hex = pc.fill_null(pc.match_substring_regex(t, r"^0[xX][0-9A-Fa-f]{1,8}$"), False).to_numpy(
        zero_copy_only=False)
    is_dec = pc.fill_null(pc.match_substring_regex(t, r"^[0-9]{1,9}$"), False).to_numpy(zero_copy_only=False)
    out = np.zeros(len(t), dtype=np.int64)
    if is_dec.any():
        out[is_dec] = pc.cast(pc.filter(t, pa.array(is_dec)), pa.int64()).to_numpy()
    if is_hex.any():
        digits = pc.utf8_lpad(pc.utf8_slice_codeunits(pc.filter(t, pa.array(is_hex)), 2), 8, "0")
        hex_values, _ = ids.parse_firmware_version(digits, strict=False)
        out[is_hex] = hex_values.astype(np.int64)
    valid = (is_hex | is_dec) & (out <= limit)
    return out, present, valid | ~present


def validate(raw: pa.Table, lines: np.ndarray, source: str = "<memory>",
             malformed: list[tuple[int, str]] = ()) -> Fleet:
    """Validate an extract whose columns are already named as in COLUMNS (text values) and build the fleet.
    ``malformed`` lists rows the reader could not split into fields; they go to the quarantine as well."""
    missing = [c for c in REQUIRED if c not in raw.column_names]
    if missing:
        raise InventoryError(f"{source}: missing required column(s) {', '.join(missing)}; "
                             f"found {', '.join(raw.column_names) or 'none'}")
    n = raw.num_rows
    # columns stay chunked as read: the identifier kernels and the text clean-up work chunk by chunk
    col = {name: raw[name] for name in raw.column_names}
    too_long = {}
    for name, values in col.items():
        if not pa.types.is_string(values.type):
            continue
        mask = oversized(values)
        if mask.any():      # judged on its length alone, and quoted cut short from here on
            too_long[name] = mask
            col[name] = shortened(values, mask)
    problems = _Problems(lines, text_values(col["device_id"]))
    for name, mask in too_long.items():
        problems.add(mask, name, f"{name} is longer than {MAX_VALUE_BYTES} bytes (no inventory value is)")
    out: dict[str, pa.Array] = {}

    dev, ok = ids.parse_eui64(col["device_id"])
    problems.add(~ok, "device_id", "malformed EUI-64 device ID (expected 16 hex digits, e.g. 00-DB-12-34-56-78-90-A0)")
    ok &= ~_flag_placeholder_eui64(dev, ok, "device_id", "device ID", problems)
    out["device_id"] = ids.format_eui64(dev)
    _flag_duplicates(dev, ok, lines, problems)

    chf, ok = ids.parse_eui64(col["ch_id"])
    problems.add(~ok, "ch_id", "malformed Communications Hub ID (expected an EUI-64)")
    _flag_placeholder_eui64(chf, ok, "ch_id", "Communications Hub ID", problems)
    out["ch_id"] = ids.format_eui64(chf)

    for name, mapping, what in (("ppmid_variant", VARIANT_LOOKUP, "PPMID variant"),
                                ("smi_status", STATUS_LOOKUP, "SMI status"),
                                ("join_mode", JOIN_LOOKUP, "HAN join mode")):
        mapped, _, codes = lookup(col[name], mapping)
        ok = codes >= 0
        known = ", ".join(sorted(set(mapping.values())))
        if not ok.all():   # the reasons quote each bad value: built only when there is one
            problems.add(~ok, name, pc.binary_join_element_wise(
                f"unknown {what} '", pc.fill_null(col[name], ""), f"' (known: {known})", ""))
        out[name] = mapped

    if pa.types.is_integer(col["firmware_version"].type):
        fw, present, ok = _parse_int(col["firmware_version"], 0xFFFFFFFF)
        ok &= present
    else:
        parsed = ids.parse_version_column(col["firmware_version"])
        fw, ok = parsed.values, parsed.valid
        ambiguous = parsed.state == ids.AMBIGUOUS
        if ambiguous.any():
            reasons = np.empty(n, dtype=object)
            for row in np.flatnonzero(ambiguous):
                reasons[row] = ids.ambiguous_version_reason(col["firmware_version"][int(row)].as_py())
            problems.add(ambiguous, "firmware_version", reasons)
            ok |= ambiguous
    problems.add(~ok, "firmware_version", "malformed firmware version (expected 8 hex digits, e.g. 0x0102A0B3)")
    out["firmware_version"] = pa.array(fw.astype(np.uint32))

    if "hardware_version" in col:
        hw, present, ok = _parse_int(col["hardware_version"], 0xFFFF)
        problems.add(~ok, "hardware_version", "malformed hardware version (expected an integer 0..65535)")
        out["hardware_version"] = pa.array(hw.astype(np.uint16), mask=~present)
    else:
        out["hardware_version"] = pa.nulls(n, pa.uint16())

    for name in ("manufacturer", "model", "supplier"):
        out[name] = text_values(col[name])
        problems.add(~pc.is_valid(out[name]).to_numpy(zero_copy_only=False), name, f"empty {name}")

    if "device_type" in col:
        out["device_type"] = text_values(col["device_type"])
    else:
        out["device_type"] = pc.if_else(pc.equal(out["join_mode"], JOINED_AS_CAD), "CAD", "PPMID")

    mpan = col.get("mpan", pa.nulls(n, pa.string()))
    cores, present, ok = ids.validate_mpan(mpan)
    problems.add(~ok, "mpan", "malformed MPAN (13-digit core or 21 digits, with a valid check digit)")
    problems.add(pc.fill_null(pc.equal(cores, PLACEHOLDER_MPAN), False).to_numpy(zero_copy_only=False), "mpan",
                 f"placeholder MPAN core {PLACEHOLDER_MPAN} (not a real supply)")
    out["mpan"] = cores
    mprn = text_values(col.get("mprn", pa.nulls(n, pa.string())))
    _, ok = ids.validate_mprn(mprn)
    problems.add(~ok, "mprn", "malformed MPRN (expected 6 to 10 digits)")
    out["mprn"] = mprn

    out["installation_id"] = text_values(col.get("installation_id", pa.nulls(n, pa.string())))
    is_bridge = pc.fill_null(pc.is_in(out["ppmid_variant"], pa.array(BRIDGE_VARIANTS)), False).to_numpy(
        zero_copy_only=False)
    no_inst = is_bridge & ~pc.is_valid(out["installation_id"]).to_numpy(zero_copy_only=False)
    problems.add(no_inst, "installation_id", "Alt HAN bridge without an installation ID")

    for name, typ in OPTIONAL.items():
        if name not in col:
            continue
        if pa.types.is_floating(typ):
            values = col[name].cast(pa.float64()) if pa.types.is_floating(col[name].type) or \
                pa.types.is_integer(col[name].type) else (
                pc.cast(text_values(col[name]), pa.float64()) if _is_numeric(col[name]) else None)
            if values is None:
                problems.add(np.ones(n, dtype=bool), name, f"{name} is not a number")
                continue
            v = pc.fill_null(values, np.nan).to_numpy(zero_copy_only=False)
            problems.add(~np.isnan(v) & ((v < 0) | (v >= 1)), name, f"{name} must be in [0, 1)")
            out[name] = pa.array(v.astype(np.float32), mask=np.isnan(v))
        else:
            out[name] = text_values(col[name])

    for name in TEXT_COLUMNS:
        if name in out:
            _flag_control_characters(out[name], name, problems)

    _flag_bad_pairs(out, chf, is_bridge & ~problems.bad, problems)

    columns = {name: out[name] for name in COLUMNS} | {name: out[name] for name in OPTIONAL if name in out}
    table = pa.table(columns).append_column("source_line", pa.array(lines))
    if problems.bad.any():     # a filter copies every column: only when a row is quarantined
        table = table.filter(pa.array(~problems.bad))
    table = table.cast(pa.schema([(k, COLUMNS.get(k) or OPTIONAL.get(k) or pa.int64()) for k in table.column_names]))
    quarantine = problems.table()
    if malformed:
        unsplit = pa.table({"line": [m[0] for m in malformed], "device_id": [None] * len(malformed),
                            "column": [None] * len(malformed), "reason": [m[1] for m in malformed]},
                           schema=QUARANTINE_SCHEMA)
        quarantine = pa.concat_tables([quarantine, unsplit]).sort_by([("line", "ascending")])
    return Fleet(table=table, quarantine=quarantine, source=source)


def _flag_placeholder_eui64(values: np.ndarray, ok: np.ndarray, column: str, what: str,
                            problems: _Problems) -> np.ndarray:
    """All-zero and all-one EUI-64s are what systems write for "unknown", never a device's address."""
    placeholder = ok & ((values == 0) | (values == np.uint64(0xFFFFFFFFFFFFFFFF)))
    if placeholder.any():
        reason = np.where(values == 0, f"placeholder {what} 00-00-00-00-00-00-00-00 (all zeros: not a real EUI-64)",
                          f"placeholder {what} FF-FF-FF-FF-FF-FF-FF-FF (all ones: not a real EUI-64)")
        problems.add(placeholder, column, reason.astype(object))
    return placeholder


def _flag_control_characters(values, column: str, problems: _Problems) -> None:
    mask = control_characters(values)
    if mask.any():
        reason = np.empty(len(mask), dtype=object)
        for row in np.flatnonzero(mask):
            position, char = first_control_character(values[int(row)].as_py())
            reason[row] = f"{column} holds control character {char} at character {position}"
        problems.add(mask, column, reason)


def _is_numeric(values: pa.Array) -> bool:
    try:
        pc.cast(text_values(values), pa.float64())
        return True
    except pa.ArrowInvalid:
        return False


def _flag_duplicates(dev: np.ndarray, ok: np.ndarray, lines: np.ndarray, problems: _Problems) -> None:
    rows = np.flatnonzero(ok)
    order = rows[np.argsort(dev[rows], kind="stable")]
    sorted_ids = dev[order]
    if len(order) < 2:
        return
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    sizes = np.diff(np.r_[starts, len(order)])
    group = np.repeat(np.arange(len(starts)), sizes)
    dup = sizes[group] > 1
    if not dup.any():
        return
    first_line = np.minimum.reduceat(lines[order], starts)[group]
    mask = np.zeros(len(dev), dtype=bool)
    mask[order[dup]] = True
    reason = np.empty(len(dev), dtype=object)
    reason[order[dup]] = [f"duplicate device ID ({n} rows; first on line {f})"
                          for n, f in zip(sizes[group][dup], first_line[dup])]
    problems.add(mask, "device_id", reason)


def _flag_bad_pairs(out: dict, hub_ids: np.ndarray, candidates: np.ndarray, problems: _Problems) -> None:
    """Each installation must have one hub-side and one meter-side bridge on the same Communications Hub
    (``hub_ids``: every row's Communications Hub ID as parsed)."""
    rows = np.flatnonzero(candidates)
    if not len(rows):
        return
    inst = pc.take(out["installation_id"], pa.array(rows))
    codes = pc.dictionary_encode(inst).combine_chunks() if isinstance(inst, pa.ChunkedArray) else \
        pc.dictionary_encode(inst)
    group = codes.indices.to_numpy()
    variant = pc.take(out["ppmid_variant"], pa.array(rows))
    hub = pc.equal(variant, HUB_SIDE).to_numpy(zero_copy_only=False)
    ch = hub_ids[rows]
    n_groups = len(codes.dictionary)
    hubs = np.bincount(group, weights=hub, minlength=n_groups).astype(np.int64)
    meters = np.bincount(group, weights=~hub, minlength=n_groups).astype(np.int64)
    bad_count = (hubs != 1) | (meters != 1)
    # with one bridge of each side, each side's CH is what its single row wrote
    ch_of_hub = np.zeros(n_groups, dtype=np.uint64)
    ch_of_meter = np.zeros(n_groups, dtype=np.uint64)
    ch_of_hub[group[hub]] = ch[hub]
    ch_of_meter[group[~hub]] = ch[~hub]
    bad_ch = ~bad_count & (ch_of_hub != ch_of_meter)
    mask = np.zeros(len(candidates), dtype=bool)
    reason = np.empty(len(candidates), dtype=object)
    for flags, text in ((bad_count, "installation {i} has {h} hub-side and {m} meter-side bridges (needs one of each)"),
                        (bad_ch, "bridges of installation {i} are on different Communications Hubs")):
        hit = flags[group]
        if hit.any():
            names = codes.dictionary.to_pylist()
            mask[rows[hit]] = True
            reason[rows[hit]] = [text.format(i=names[g], h=hubs[g], m=meters[g]) for g in group[hit]]
    problems.add(mask, "installation_id", reason)
