"""Identifier text in an inventory listing: parse 4,000,000 EUI-64s, firmware versions and MPAN cores (trim,
validate, decode to integers with a validity mask) and format 4,000,000 EUI-64s back to canonical text, with
althan_ota.fleet.ids on every idtext tier against DuckDB SQL over the same Arrow column, the peer an analyst
would otherwise write (``regexp_full_match`` to validate, a ``'0x' || hex`` cast to decode, ``printf`` and
``substr`` to format; DuckDB uses all cores, ours one). Quick mode: 100,000 values.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from . import Result, best_time

SUITE = "idtext"
FULL_ROWS = 4_000_000
QUICK_ROWS = 100_000

MPAN_WEIGHTS = np.array([3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43])

_HEX = "[0-9A-Fa-f]"
_EUI64_PATTERN = "|".join([f"({_HEX}{{2}}{sep}){{7}}{_HEX}{{2}}" for sep in ("-", ":", " ")]
                          + [f"(0[xX])?{_HEX}{{16}}"])
_VERSION_PATTERN = f"(0[xX])?{_HEX}{{8}}"
_MPAN_CHECK = " + ".join(f"{w} * (ascii(substr(right(s, 13), {k + 1}, 1)) - 48)" for k, w in enumerate(MPAN_WEIGHTS))


# --- data: canonical listings ----------------------------------------------------------------------------------

def eui64_values(n: int) -> np.ndarray:
    return np.random.default_rng(11).integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def eui64_listing(n: int) -> pa.Array:
    from ..fleet import ids

    return ids.format_eui64(eui64_values(n))


def version_listing(n: int) -> pa.Array:
    from ..fleet import ids

    return ids.format_firmware_version(np.random.default_rng(12).integers(0, 2**32, n, dtype=np.uint32))


def mpan_listing(n: int) -> pa.Array:
    """n 13-digit MPAN cores with correct check digits."""
    digits = np.random.default_rng(13).integers(0, 10, (n, 13), dtype=np.uint8)
    digits[:, 12] = (digits[:, :12].astype(np.int32) @ MPAN_WEIGHTS) % 11 % 10
    text = (digits + ord("0")).view("S13").ravel()
    return pa.array(text).cast(pa.string())


# --- ours ------------------------------------------------------------------------------------------------------

def ours_eui64(listing: pa.Array):
    from ..fleet import ids

    return ids.parse_eui64(listing)


def ours_version(listing: pa.Array):
    from ..fleet import ids

    return ids.parse_firmware_version(listing)


def ours_mpan(listing: pa.Array):
    from ..fleet import ids

    return ids.validate_mpan(listing)


def ours_format_eui64(values: np.ndarray) -> pa.Array:
    from ..fleet import ids

    return ids.format_eui64(values)


# --- the peer: DuckDB SQL over the Arrow column ----------------------------------------------------------------

def _duckdb():
    from ..report._duck import connect

    return connect()


def _sql(con, query: str) -> pa.Table:
    from ..report._duck import arrow

    return arrow(con, query)


def _values_and_valid(con, listing: pa.Array, decoded_sql: str, sql_type: str, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Runs ``decoded_sql`` (over ``s``, the trimmed text; NULL when invalid) and returns (values with 0 where
    invalid, valid mask) as numpy arrays, like ours."""
    table = pa.table({"text": listing})
    con.register("listing", table)
    try:
        out = _sql(con, f"SELECT coalesce(x, 0::{sql_type}) AS value, x IS NOT NULL AS valid FROM "
                        f"(SELECT {decoded_sql} AS x FROM (SELECT trim(text) AS s FROM listing))")
    finally:
        con.unregister("listing")
    return (out["value"].to_numpy().astype(dtype, copy=False),
            out["valid"].to_numpy(zero_copy_only=False))


def peer_eui64(con, listing: pa.Array):
    decoded = (f"CASE WHEN regexp_full_match(s, '{_EUI64_PATTERN}') "
               "THEN ('0x' || regexp_replace(s, '^0[xX]|[-: ]', '', 'g'))::UBIGINT END")
    return _values_and_valid(con, listing, decoded, "UBIGINT", np.uint64)


def peer_version(con, listing: pa.Array):
    decoded = f"CASE WHEN regexp_full_match(s, '{_VERSION_PATTERN}') THEN ('0x' || right(s, 8))::UINTEGER END"
    return _values_and_valid(con, listing, decoded, "UINTEGER", np.uint32)


def peer_mpan(con, listing: pa.Array):
    """Cores as integers where the 13- or 21-digit number's check digit holds."""
    decoded = (f"CASE WHEN regexp_full_match(s, '[0-9]{{13}}|[0-9]{{21}}') "
               f"AND ({_MPAN_CHECK}) % 11 % 10 = ascii(right(s, 1)) - 48 THEN right(s, 13)::UBIGINT END")
    return _values_and_valid(con, listing, decoded, "UBIGINT", np.uint64)


def peer_format_eui64(con, values: np.ndarray) -> pa.Array:
    table = pa.table({"v": values})
    con.register("ids", table)
    groups = ", ".join(f"substr(h, {k}, 2)" for k in range(1, 17, 2))
    try:
        return _sql(con, f"SELECT concat_ws('-', {groups}) AS text FROM (SELECT printf('%016X', v) AS h FROM ids)"
                    )["text"]
    finally:
        con.unregister("ids")


# --- the suite -------------------------------------------------------------------------------------------------

def run(quick: bool) -> list[Result]:
    from .. import _backend

    n = QUICK_ROWS if quick else FULL_ROWS
    con = _duckdb()
    eui64, versions, mpans, values = eui64_listing(n), version_listing(n), mpan_listing(n), eui64_values(n)
    cases = [
        (f"parse EUI-64 ({n:,})", lambda: ours_eui64(eui64), lambda: peer_eui64(con, eui64), "id"),
        (f"parse firmware version ({n:,})", lambda: ours_version(versions), lambda: peer_version(con, versions),
         "id"),
        (f"validate MPAN core ({n:,})", lambda: ours_mpan(mpans), lambda: peer_mpan(con, mpans), "id"),
        (f"format EUI-64 ({n:,})", lambda: ours_format_eui64(values), lambda: peer_format_eui64(con, values), "id"),
    ]
    results: list[Result] = []
    before = _backend.backend()["idtext"]
    try:
        for kernel, ours, theirs, unit in cases:
            peer = Result(SUITE, kernel, "duckdb sql", best_time(theirs, quick, min_total=0.0), n, unit)
            results.append(peer)
            for tier in _backend.tiers()["idtext"]:
                _backend.set_backend(tier, "idtext")
                mine = Result(SUITE, kernel, f"althan-ota[{tier}]", best_time(ours, quick), n, unit)
                mine.baseline, mine.ratio = peer.impl, peer.seconds / mine.seconds
                results.append(mine)
    finally:
        _backend.set_backend(before, "idtext")
        con.close()
    return results
