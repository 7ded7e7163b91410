"""XML-DSig base64 as the verifier reads it (``xmldsig.b64decode``) against the standard library's validating
decoder followed by a canonical re-encoding check: the same values accepted, the same refused, for the same
reason."""

from __future__ import annotations

import base64
import binascii

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from althan_ota.duis.xmldsig import b64decode
from althan_ota.errors import DuisError

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


def _reference(text: str):
    data = text.encode("ascii", errors="replace").translate(None, b" \t\r\n")
    try:
        value = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return "not base64"
    if base64.b64encode(value) != data:
        return "not canonical base64"
    return value


def _ours(text: str):
    try:
        return b64decode(text, "ds:X")
    except DuisError as exc:
        return "not canonical base64" if "not canonical base64" in str(exc) else "not base64"


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.text(alphabet=_ALPHABET + " \r\n*-_é", max_size=16),
                 st.binary(max_size=12).map(lambda b: base64.b64encode(b).decode())))
def test_same_verdicts_as_the_standard_library(text):
    assert _ours(text) == _reference(text)


@pytest.mark.parametrize("text, verdict", [("QUI=", b"AB"), ("QR==", "not canonical base64"), ("QUJD=", None),
                                           ("=QUJD", "not base64"), ("QUJDRA==QUJD", "not base64"),
                                           ("QUJD\r\nRA==", b"ABCD")])
def test_edge_cases(text, verdict):
    assert _ours(text) == _reference(text)
    if verdict is not None:
        assert _ours(text) == verdict
