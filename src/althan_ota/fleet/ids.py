"""Identifiers in inventory extracts, parsed and formatted column-wise by the C kernels of csrc/idtext.c
(straight from Arrow buffers, no Python loop per row). tests/ids_reference.py is the independent numpy
reference these are checked against.

* EUI-64 device and Communications Hub IDs: canonical form ``00-DB-12-34-56-78-90-A0``; separators ``-``,
  ``:`` or ``' '`` (one kind throughout) or none, optionally ``0x``-prefixed, either case on input.
* MPAN: the 13-digit core (distributor, unique number, check digit) or the full 21-digit supply number,
  whose last 13 digits are the core; the check digit is verified.
* MPRN: 6 to 10 digits.
* Firmware versions: 4-octet identifiers written as 8 hex digits, optionally ``0x``-prefixed. They are
  identifiers, not numbers: ordering comes from an upgrade-path table, never from comparing integers.
  Eight decimal digits without ``0x`` and without a leading zero (``16908288``) are AMBIGUOUS: that is also
  how a tool writes a version it exported as a number (16908288 = 0x01020000), so it is refused, never
  guessed. A leading zero (``01020000``) or a hex letter makes the hex reading the only one.

Values are trimmed of white space first (Unicode white space too) and an empty value is absent. Columns of
integers (an EUI-64 stored as a uint64, a version as a uint32) are taken as the identifiers' values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._backend import native

# the states of a parsed value, as in csrc/idtext.h; AMBIGUOUS is decided here, for versions only
OK, ABSENT, MALFORMED, DEFER, AMBIGUOUS = 0, 1, 2, 3, 4

# MPAN check digit weights (the first twelve primes from 3, skipping 11), per the MRA definition.
_MPAN_WEIGHTS = np.array([3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43], dtype=np.int64)


@dataclass
class Parsed:
    """A parsed column: ``values`` (numpy; 0 where not OK), ``state`` per value (OK, ABSENT, MALFORMED) and
    ``canonical``: every OK value was already written exactly as the canonical text (malformed values do not
    count: a canonical column may still hold some, see ``state``)."""
    values: np.ndarray | None
    state: np.ndarray
    canonical: bool

    @property
    def valid(self) -> np.ndarray:
        return self.state == OK

    @property
    def present(self) -> np.ndarray:
        return self.state != ABSENT


def _kernel():
    return native("idtext")


def _as_strings(values):
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, type=pa.string())
    return arr if pa.types.is_string(arr.type) else arr.cast(pa.string())


def _parse(parse, values) -> Parsed:
    """Runs a kernel parse; values it defers (a non-ASCII or control byte at an end) are trimmed with the
    Unicode rules and parsed again, and whatever still is not plain text is malformed."""
    arr = _as_strings(values)
    parsed, state, counts = parse(arr)
    canonical = counts["noncanonical"] == 0
    if counts["deferred"]:
        rows = np.flatnonzero(state == DEFER)
        again_values, again_state, _ = parse(pc.utf8_trim_whitespace(pc.take(arr, pa.array(rows))))
        again_state[again_state == DEFER] = MALFORMED
        state[rows] = again_state
        if parsed is not None:
            parsed[rows] = again_values
        canonical = canonical and not (again_state == OK).any()
    return Parsed(parsed, state, canonical)


def _parse_integers(values, limit: int, dtype) -> Parsed:
    """Identifiers some systems store as numbers (an EUI-64 as uint64, a version as uint32): in 0..limit,
    null absent, anything else malformed."""
    present = pc.is_valid(values).to_numpy(zero_copy_only=False)
    negative = (pc.fill_null(pc.less(values, 0), False).to_numpy(zero_copy_only=False)
                if pa.types.is_signed_integer(values.type) else np.zeros(len(values), dtype=bool))
    numbers = np.asarray(pc.fill_null(values, 0).to_numpy()).astype(np.uint64)
    state = np.where(~present, ABSENT, np.where(negative | (numbers > np.uint64(limit)), MALFORMED, OK))
    return Parsed(np.where(state == OK, numbers, 0).astype(dtype), state.astype(np.uint8), canonical=False)


def _is_integer(values) -> bool:
    return isinstance(values, (pa.Array, pa.ChunkedArray)) and pa.types.is_integer(values.type)


def parse_eui64_column(values) -> Parsed:
    if _is_integer(values):
        return _parse_integers(values, 0xFFFFFFFFFFFFFFFF, np.uint64)
    return _parse(_kernel().parse_eui64, values)


def parse_version_column(values, strict: bool = True) -> Parsed:
    """Versions as uint32. ``strict``: text that a decimal export of the number could also have produced is
    AMBIGUOUS (see the module notes), not OK."""
    if _is_integer(values):
        return _parse_integers(values, 0xFFFFFFFF, np.uint32)
    parsed = _parse(_kernel().parse_hex32, values)
    if strict and not parsed.canonical:
        _flag_ambiguous_versions(_as_strings(values), parsed)
    return parsed


def _flag_ambiguous_versions(text, parsed: Parsed) -> None:
    values = parsed.values
    decimal_looking = (parsed.state == OK) & (values >= np.uint32(0x10000000))
    for shift in range(0, 32, 4):
        decimal_looking &= ((values >> np.uint32(shift)) & np.uint32(0xF)) <= 9
    rows = np.flatnonzero(decimal_looking)
    if not len(rows):
        return
    written = pc.utf8_trim_whitespace(pc.take(text, pa.array(rows)))
    prefixed = pc.fill_null(pc.starts_with(pc.utf8_lower(written), "0x"), False).to_numpy(zero_copy_only=False)
    rows = rows[~prefixed]
    parsed.state[rows] = AMBIGUOUS
    values[rows] = 0


def ambiguous_version_reason(text: str) -> str:
    """Why ``text`` (eight decimal digits) is refused, with both of its readings."""
    digits = text.strip()
    return (f"firmware version '{digits}' is ambiguous: hex 0x{digits} or the decimal number {digits} "
            f"(0x{int(digits):08X}) as a tool writes a version exported as an integer; write it with 0x")


def parse_mpan_column(values) -> Parsed:
    """MPAN cores as integers (the 13 digits read as a number)."""
    return _parse(_kernel().parse_mpan, values)


def parse_mprn_column(values) -> Parsed:
    return _parse(lambda arr: (None, *_kernel().check_digits(arr, 6, 10)), values)


def parse_eui64(values) -> tuple[np.ndarray, np.ndarray]:
    """(uint64 values, valid mask); absent and malformed values are 0 and not valid."""
    parsed = parse_eui64_column(values)
    return parsed.values, parsed.valid


def format_eui64(values, valid=None) -> pa.Array:
    """uint64 array -> canonical ``00-DB-12-34-56-78-90-A0`` strings (null where ``valid`` is False)."""
    return _kernel().format_eui64(values, valid)


def parse_firmware_version(values, strict: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """'0x0102A0B3' / '0102A0B3' -> (uint32 values, valid mask); ambiguous text is not valid."""
    parsed = parse_version_column(values, strict)
    return parsed.values, parsed.valid


def format_firmware_version(values, valid=None) -> pa.Array:
    return _kernel().format_hex32(values, valid)


def format_decimal(values, width: int, valid=None) -> pa.Array:
    """Non-negative integers -> zero-padded decimal strings of ``width`` digits (MPAN cores: 13)."""
    return _kernel().format_decimal(values, width, valid)


def text_scan(values) -> dict:
    """{"present", "edges", "empty"}: present values, those with a first or last byte that trimming might
    remove, and empty ones."""
    return _kernel().text_scan(_as_strings(values))


def mpan_check_digit(first_twelve: np.ndarray) -> np.ndarray:
    """Check digit for an (n, 12) array of MPAN core digits."""
    # column by column in int32: a 4M-row int64 copy and matmul of the whole matrix costs seconds
    total = np.zeros(len(first_twelve), dtype=np.int32)
    for column, weight in enumerate(_MPAN_WEIGHTS[:first_twelve.shape[1]]):
        total += first_twelve[:, column].astype(np.int32) * int(weight)
    return total % 11 % 10


def validate_mpan(values) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Returns (13-digit cores or null, present mask, valid mask). Absent (null/empty) values are valid."""
    parsed = parse_mpan_column(values)
    cores = _kernel().format_decimal(parsed.values, 13, parsed.valid)
    return cores, parsed.present, parsed.valid | ~parsed.present


def validate_mprn(values) -> tuple[np.ndarray, np.ndarray]:
    """Returns (present mask, valid mask) for MPRNs of 6 to 10 digits; absent values are valid."""
    parsed = parse_mprn_column(values)
    return parsed.present, parsed.valid | ~parsed.present
