"""The XML-DSig pieces DUIS signatures are made of (W3C XML Signature 1.1; the layout DCC Boxed's Java signer
writes): canonicalisation through lxml (libxml2's C14N 1.0 and exclusive C14N), strict base64, and taking the
enveloped signature out of the tree for digesting."""

from __future__ import annotations

import base64
import binascii
import sys

from lxml import etree

from ..errors import DuisError
from . import names

_DELETE = b" \t\r\n"

if sys.version_info >= (3, 11):
    def _strict_b64decode(data: bytes) -> bytes:
        # binascii's strict mode (3.11+) refuses what base64.b64decode(validate=True) refuses, without its regex
        return binascii.a2b_base64(data, strict_mode=True)
else:
    def _strict_b64decode(data: bytes) -> bytes:
        return base64.b64decode(data, validate=True)


def canonical(node, exclusive: bool, inclusive_prefixes=None) -> bytes:
    """C14N 1.0 (inclusive, or exclusive) of an element in its document context, or of a whole document (an
    ElementTree), without comments: a same-document reference (URI="") never covers comments."""
    try:
        return etree.tostring(node, method="c14n", exclusive=exclusive, with_comments=False,
                              inclusive_ns_prefixes=inclusive_prefixes or None)
    except etree.C14NError:
        # libxml2 refuses e.g. a relative namespace URI, which C14N 1.0 does not define
        raise DuisError("the message cannot be canonicalised (C14N): a namespace URI that is not absolute?") \
            from None


def b64decode(text: str | None, element: str, length: int | None = None) -> bytes:
    """Base64 as XML-DSig carries it: any XML whitespace (Java wraps lines with CR LF, ``&#13;``) is ignored;
    anything else must be canonical base64 (so no two encodings of one value are accepted)."""
    data = (text or "").encode("ascii", errors="replace").translate(None, _DELETE)
    try:
        value = _strict_b64decode(data)
    except (binascii.Error, ValueError):
        raise DuisError(f"{element}: not base64") from None
    if base64.b64encode(value) != data:
        raise DuisError(f"{element}: not canonical base64 (stray bits or padding)")
    if length is not None and len(value) != length:
        raise DuisError(f"{element}: {len(value)} bytes where {length} were expected")
    return value


def detach(element: etree._Element) -> None:
    """Remove ``element`` (and its subtree) from its parent but keep the text that followed it: the
    enveloped-signature transform removes the Signature element only, not its neighbours."""
    parent = element.getparent()
    tail = element.tail
    previous = element.getprevious()
    parent.remove(element)       # lxml takes the tail text away with the element
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


def children(element: etree._Element) -> list:
    """Child elements only (comments and processing instructions are allowed, and ignored, in a Signature)."""
    return [c for c in element if isinstance(c.tag, str)]


def expect(element: etree._Element | None, tag: str, where: str) -> etree._Element:
    if element is None or element.tag != tag:
        found = "nothing" if element is None else names.local_name(element.tag) or "a non-element"
        raise DuisError(f"{where}: expected ds:{names.local_name(tag)}, found {found}")
    return element
