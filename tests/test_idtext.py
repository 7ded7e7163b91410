"""althan_ota.fleet.ids (the C kernels of csrc/idtext.c, on every tier) against the independent numpy
reference in tests/ids_reference.py: values, validity, states and the ``canonical`` flag, on plain, chunked
and sliced Arrow arrays with nulls, ASCII and Unicode white space around values, mutated identifiers and
random text."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ids_reference as ref
from althan_ota.fleet import ids

MPAN_WEIGHTS = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43]
SPACES = [" ", "\t", "\n", "\r", "\v", "\f", "\x1c", "\x1f", "\u0085", "\u00a0", "\u2003", "\u3000"]
NOISE = list("0123456789abcdefABCDEFgGxX-: .\x00\x01\x7f") + ["\u00e9", "\u00a0", "\u2003", "\u3000", "\U0001f600"]


# ---- identifier text, mostly well formed ----

@st.composite
def eui64_text(draw):
    hexdigits = f"{draw(st.integers(0, 2**64 - 1)):016X}"
    if draw(st.booleans()):
        hexdigits = hexdigits.lower()
    elif draw(st.booleans()):
        hexdigits = "".join(c.lower() if draw(st.booleans()) else c for c in hexdigits)
    style = draw(st.sampled_from(["-", "-", ":", " ", "", "0x", "0X"]))
    if style.startswith("0"):
        return style + hexdigits
    return style.join(hexdigits[k:k + 2] for k in range(0, 16, 2))


@st.composite
def version_text(draw):
    digits = f"{draw(st.integers(0, 2**32 - 1)):08X}"
    if draw(st.booleans()):
        digits = digits.lower()
    return draw(st.sampled_from(["0x", "0x", "0X", ""])) + digits


@st.composite
def mpan_text(draw):
    first = draw(st.lists(st.integers(0, 9), min_size=12, max_size=12))
    check = sum(d * w for d, w in zip(first, MPAN_WEIGHTS)) % 11 % 10
    if draw(st.integers(0, 5)) == 0:
        check = (check + draw(st.integers(1, 9))) % 10
    core = "".join(map(str, first)) + str(check)
    if draw(st.integers(0, 3)) == 0:
        core = draw(st.text(alphabet="0123456789", min_size=8, max_size=8)) + core
    return core


mprn_text = st.text(alphabet="0123456789", min_size=4, max_size=12)


@st.composite
def mutated(draw, base):
    """A value of `base` with one of: a byte changed, dropped or added, white space around it, nothing."""
    text = draw(base)
    how = draw(st.integers(0, 5))
    if how == 1 and text:
        k = draw(st.integers(0, len(text) - 1))
        text = text[:k] + draw(st.sampled_from(NOISE)) + text[k + 1:]
    elif how == 2 and text:
        k = draw(st.integers(0, len(text) - 1))
        text = text[:k] + text[k + 1:]
    elif how == 3:
        k = draw(st.integers(0, len(text)))
        text = text[:k] + draw(st.sampled_from(NOISE)) + text[k:]
    elif how == 4:
        pad = st.text(alphabet=st.sampled_from(SPACES), max_size=3)
        text = draw(pad) + text + draw(pad)
    return text


def cells(base):
    """Column cells: mutated identifiers, nulls, empty or blank values and random text."""
    return st.one_of(
        mutated(base), mutated(base), mutated(base),
        st.none(), st.just(""), st.text(alphabet=st.sampled_from(SPACES), max_size=3),
        st.text(max_size=25), st.text(alphabet=st.sampled_from(NOISE), max_size=25))


@st.composite
def arrow_columns(draw, base):
    """The same values as a Python list and as an Arrow string array that is plain, sliced out of a longer
    array (offset != 0) or chunked."""
    values = draw(st.lists(cells(base), max_size=60))
    shape = draw(st.sampled_from(["plain", "sliced", "chunked"]))
    if shape == "plain":
        return values, pa.array(values, type=pa.string())
    if shape == "sliced":
        before = draw(st.lists(cells(base), min_size=1, max_size=9))
        after = draw(st.lists(cells(base), max_size=9))
        return values, pa.array(before + values + after, type=pa.string()).slice(len(before), len(values))
    cuts = sorted(draw(st.lists(st.integers(0, len(values)), max_size=4)))
    bounds = [0, *cuts, len(values)]
    chunks = [pa.array(values[a:b], type=pa.string()) for a, b in zip(bounds, bounds[1:])]
    return values, pa.chunked_array(chunks, pa.string())


# ---- expectations from the reference ----

def present(values) -> np.ndarray:
    return np.array([v is not None and v.strip() != "" for v in values], dtype=bool)


def expected_state(values, valid) -> np.ndarray:
    return np.where(valid, ids.OK, np.where(present(values), ids.MALFORMED, ids.ABSENT)).astype(np.uint8)


def expected_canonical(values, valid, canonical_text) -> bool:
    """True when every valid value is already exactly its canonical text (nothing trimmed)."""
    return all(v == canonical_text(i) for i, v in enumerate(values) if valid[i])


def as_list(arr) -> list:
    return arr.to_pylist()


examples = settings(max_examples=150)


# ---- EUI-64 ----

@examples
@given(arrow_columns(eui64_text()))
def test_eui64_column_matches_reference(idtext_tier, column):
    values, arr = column
    want_value, want_valid = ref.parse_eui64(values)
    got_value, got_valid = ids.parse_eui64(arr)
    assert np.array_equal(got_valid, want_valid)
    assert np.array_equal(got_value, want_value)
    parsed = ids.parse_eui64_column(arr)
    assert np.array_equal(parsed.state, expected_state(values, want_valid))
    canonical = as_list(ref.format_eui64(want_value))
    assert parsed.canonical == expected_canonical(values, want_valid, canonical.__getitem__)


@examples
@given(st.lists(st.integers(0, 2**64 - 1), max_size=60), st.data())
def test_format_eui64_matches_reference(idtext_tier, numbers, data):
    values = np.array(numbers, dtype=np.uint64)
    want = as_list(ref.format_eui64(values))
    assert as_list(ids.format_eui64(values)) == want
    valid = np.array(data.draw(st.lists(st.booleans(), min_size=len(numbers), max_size=len(numbers))), dtype=bool)
    assert as_list(ids.format_eui64(values, valid)) == [w if ok else None for w, ok in zip(want, valid)]


# ---- firmware versions ----

@examples
@given(arrow_columns(version_text()))
def test_version_column_matches_reference(idtext_tier, column):
    values, arr = column
    want_value, want_valid = ref.parse_firmware_version(values)
    got_value, got_valid = ids.parse_firmware_version(arr, strict=False)
    assert got_value.dtype == np.uint32
    assert np.array_equal(got_valid, want_valid)
    assert np.array_equal(got_value, want_value)
    parsed = ids.parse_version_column(arr, strict=False)
    assert np.array_equal(parsed.state, expected_state(values, want_valid))
    canonical = as_list(ref.format_firmware_version(want_value))
    assert parsed.canonical == expected_canonical(values, want_valid, canonical.__getitem__)
    # strict (the default): eight decimal digits without 0x and without a leading zero are ambiguous
    ambiguous = np.array([bool(ok) and f"{v:08X}".isdigit() and f"{v:08X}"[0] != "0" and "x" not in text.lower()
                          for v, ok, text in zip(want_value.tolist(), want_valid, values)], dtype=bool)
    strict = ids.parse_version_column(arr)
    assert np.array_equal(strict.state, np.where(ambiguous, ids.AMBIGUOUS, expected_state(values, want_valid)))
    assert np.array_equal(strict.values, np.where(ambiguous, 0, want_value))


@examples
@given(st.lists(st.integers(0, 2**32 - 1), max_size=60))
def test_format_version_matches_reference(idtext_tier, numbers):
    values = np.array(numbers, dtype=np.uint32)
    assert as_list(ids.format_firmware_version(values)) == as_list(ref.format_firmware_version(values))


# ---- MPAN and MPRN ----

@examples
@given(arrow_columns(mpan_text()))
def test_mpan_column_matches_reference(idtext_tier, column):
    values, arr = column
    want_cores, want_present, want_valid = ref.validate_mpan(values)
    got_cores, got_present, got_valid = ids.validate_mpan(arr)
    assert as_list(got_cores) == as_list(want_cores)
    assert np.array_equal(got_present, want_present)
    assert np.array_equal(got_valid, want_valid)
    parsed = ids.parse_mpan_column(arr)
    ok = want_valid & want_present
    assert np.array_equal(parsed.state, expected_state(values, ok))
    cores = as_list(want_cores)
    assert np.array_equal(parsed.values, [int(c) if c is not None else 0 for c in cores])
    assert parsed.canonical == expected_canonical(values, ok, cores.__getitem__)


@examples
@given(arrow_columns(mprn_text))
def test_mprn_column_matches_reference(idtext_tier, column):
    values, arr = column
    want_present, want_valid = ref.validate_mprn(values)
    got_present, got_valid = ids.validate_mprn(arr)
    assert np.array_equal(got_present, want_present)
    assert np.array_equal(got_valid, want_valid)
    parsed = ids.parse_mprn_column(arr)
    ok = want_valid & want_present
    assert np.array_equal(parsed.state, expected_state(values, ok))
    assert parsed.canonical == expected_canonical(values, ok, lambda i: values[i].strip())


# ---- fixed cases the strategies might take long to reach ----

@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\u3000", "\u0085", "\x1c", " \u00a0\t"])
def test_unicode_white_space_is_trimmed_and_noncanonical(idtext_tier, space):
    values = [space + "00-DB-12-34-56-78-90-A0", "00-DB-12-34-56-78-90-A0" + space, space + space]
    parsed = ids.parse_eui64_column(values)
    assert list(parsed.state) == [ids.OK, ids.OK, ids.ABSENT]
    assert list(parsed.values) == [0x00DB1234567890A0] * 2 + [0]
    assert not parsed.canonical
    assert ids.parse_eui64_column(values[2:] + ["00-DB-12-34-56-78-90-A0", None]).canonical


@pytest.mark.parametrize("edge", ["\x01", "\x7f", "\u00e9", "\U0001f600"])
def test_other_bytes_at_an_end_are_malformed(idtext_tier, edge):
    parsed = ids.parse_version_column([edge + "0x0102A0B3", "0x0102A0B3" + edge])
    assert list(parsed.state) == [ids.MALFORMED, ids.MALFORMED]


def test_mpan_published_examples(idtext_tier):
    # a widely quoted core, and a full 21-digit supply number from the limejump/mpan documentation
    cores, present, valid = ids.validate_mpan(["1200023305967", "001112221312345678907", "1200023305968"])
    assert cores.to_pylist() == ["1200023305967", "1312345678907", None]
    assert list(valid) == [True, True, False]


def test_large_chunked_column_matches_reference(idtext_tier):
    rng = np.random.default_rng(7)
    numbers = rng.integers(0, 2**63, 50_000, dtype=np.uint64)
    text = ids.format_eui64(numbers).to_pylist()
    for k in rng.choice(len(text), 500, replace=False):
        text[k] = text[k][:5] + chr(rng.integers(32, 127)) + text[k][6:]
    text[::97] = [None] * len(text[::97])
    arr = pa.chunked_array([pa.array(text[:20_000]), pa.array(text[20_000:])]).slice(3)
    want_value, want_valid = ref.parse_eui64(text[3:])
    got_value, got_valid = ids.parse_eui64(arr)
    assert np.array_equal(got_valid, want_valid) and np.array_equal(got_value, want_value)
    assert pc.sum(pc.is_null(arr)).as_py() == np.count_nonzero(~ids.parse_eui64_column(arr).present)
