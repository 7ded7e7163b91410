"""Untrusted DUIS bytes: external entities, DTDs and entity expansion are refused without fetching or reading
anything; sizes and nesting are bounded; any malformed or mutated message gives DuisError and nothing else."""

from __future__ import annotations

import http.server
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from althan_ota.duis import Verifier, parse_bytes, read_message
from althan_ota.duis.parse import parse_tree
from althan_ota.duis.safe_xml import MAX_MESSAGE_BYTES
from althan_ota.errors import DuisError
from duis_data import KINDS, schema, signed, trust


class _CountingHandler(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self):                                        # noqa: N802 (http.server's name)
        type(self).hits += 1
        body = b'<!ENTITY leak "fetched">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    _CountingHandler.hits = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _xxe_documents(url: str, secret_path: str) -> list[bytes]:
    body = b"<sr:Response xmlns:sr='http://www.dccinterface.co.uk/ServiceUserGateway' schemaVersion='5.4'>%s" \
           b"</sr:Response>"
    return [
        b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY x SYSTEM 'file://%s'>]>" % secret_path.encode() + body % b"&x;",
        b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY x SYSTEM '%s/x'>]>" % url.encode() + body % b"&x;",
        b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY %% p SYSTEM '%s/p'> %%p;]>" % url.encode() + body % b"&leak;",
        b"<?xml version='1.0'?><!DOCTYPE r SYSTEM '%s/dtd'>" % url.encode() + body % b"",
        # billion laughs
        b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
        b"<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>]>"
        + body % b"&d;&d;&d;&d;&d;&d;&d;&d;",
        # XInclude is never processed either
        b"<sr:Response xmlns:sr='http://www.dccinterface.co.uk/ServiceUserGateway' "
        b"xmlns:xi='http://www.w3.org/2001/XInclude' schemaVersion='5.4'>"
        b"<xi:include href='%s/inc' parse='text'/></sr:Response>" % url.encode(),
    ]


def test_external_entities_and_dtds_are_refused_without_fetching_or_reading(http_server, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    verifier = Verifier(trust())
    for document in _xxe_documents(http_server, str(secret)):
        for data in (document, document.decode().encode("utf-16")):          # UTF-16 hides a byte scan
            with pytest.raises(DuisError) as caught:
                read_message(data, verifier, schema=schema())
            assert "TOP-SECRET" not in str(caught.value) and "fetched" not in str(caught.value)
    assert _CountingHandler.hits == 0


def test_doctype_is_refused_even_when_harmless():
    data = signed("ppmid-activated").replace(b"?>", b"?><!DOCTYPE Response>", 1)
    with pytest.raises(DuisError, match="DOCTYPE"):
        parse_bytes(data)


def test_size_is_bounded():
    data = signed("ppmid-activated")
    with pytest.raises(DuisError, match="limit"):
        parse_bytes(data, max_bytes=len(data) - 1)
    with pytest.raises(DuisError, match="limit"):
        parse_bytes(b" " * (MAX_MESSAGE_BYTES + 1))


def test_deep_nesting_and_huge_text_hit_libxml2_limits():
    deep = b"<a>" * 100_000 + b"</a>" * 100_000
    with pytest.raises(DuisError):
        parse_bytes(deep)
    huge_text = b"<a>" + b"x" * 10_000_001 + b"</a>"
    with pytest.raises(DuisError, match="10,000,000-character limit"):
        parse_bytes(huge_text)


@pytest.mark.parametrize("data, match", [
    (b"", "empty"), (b"   ", "empty"), (b"<a", "well-formed"), (b"\xff\xfe\x00", "XML"),
    (b"<a/>", "sr:Request or sr:Response"),
    (b"<sr:Response xmlns:sr='http://www.dccinterface.co.uk/ServiceUserGateway' schemaVersion='4.0'/>",
     "schemaVersion"),
    (b"<sr:Response xmlns:sr='http://www.dccinterface.co.uk/ServiceUserGateway' schemaVersion='5.4'/>",
     "missing sr:Header"),
])
def test_malformed_messages_say_why(data, match):
    with pytest.raises(DuisError, match=match):
        parse_tree(parse_bytes(data))


def test_bytes_only():
    with pytest.raises(DuisError, match="bytes"):
        parse_bytes("<a/>")


_SIGNED = {kind: signed(kind) for kind in KINDS}


def _mutate(data: bytes, draw) -> bytes:
    how = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate"]))
    i = draw(st.integers(0, len(data) - 1))
    if how == "flip":
        return data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1:]
    if how == "delete":
        j = draw(st.integers(i, min(len(data), i + 64)))
        return data[:i] + data[j:]
    if how == "insert":
        piece = draw(st.sampled_from([b"<", b">", b"&", b"&#0;", b"<x/>", b"</sr:Body>", b"<!--", b"]]>",
                                      b"<![CDATA[", b"\x00", b"\xc3\x28", b"'", b'"', b"=", b":", b" xmlns:sr='u'",
                                      b"<sr:DeviceID>00</sr:DeviceID>", b"-", b"E1", b"99999999999999999999999"]))
        return data[:i] + piece + data[i:]
    if how == "truncate":
        return data[:i]
    j = draw(st.integers(i, min(len(data), i + 200)))
    return data[:j] + data[i:j] + data[j:]


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_mutated_messages_give_only_duis_error(kind, data):
    mutated = _mutate(_SIGNED[kind], data.draw)
    verifier = Verifier(trust())
    for use_schema, use_verifier in ((True, True), (False, True), (False, False)):
        try:
            read_message(mutated, verifier if use_verifier else None, schema=schema() if use_schema else None,
                         targets=0x01040000, accept_unsigned_errors=True)
        except DuisError:
            pass


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(kind=st.sampled_from(KINDS), data=st.data())
def test_structurally_mutated_messages_give_only_duis_error(kind, data):
    """Well-formed but wrong content (an element gone, doubled, renamed, or holding other text) reaches the
    record parser itself (no signature to stop it first)."""
    from lxml import etree

    root = etree.fromstring(_SIGNED[kind])
    elements = list(root.iter())[1:]
    target = data.draw(st.sampled_from(elements))
    how = data.draw(st.sampled_from(["remove", "double", "rename", "text", "empty", "child"]))
    if how == "remove":
        target.getparent().remove(target)
    elif how == "double":
        target.addnext(etree.fromstring(etree.tostring(target)))
    elif how == "rename":
        target.tag = data.draw(st.sampled_from(["{http://www.dccinterface.co.uk/ServiceUserGateway}Device",
                                                "{http://www.dccinterface.co.uk/ServiceUserGateway}DeviceID",
                                                "{urn:other}Header", "Body", "RequestID"]))
    elif how == "text":
        target.text = data.draw(st.text(max_size=40).filter(lambda t: all(c.isprintable() for c in t)))
    elif how == "empty":
        target.text = None
    else:
        etree.SubElement(target, "{http://www.dccinterface.co.uk/ServiceUserGateway}Extra").text = "x"
    try:
        read_message(etree.tostring(root), None, targets={"00-DB-12-34-56-78-00-00": 0x01040000})
    except DuisError:
        pass


def test_an_external_entity_naming_a_file_is_never_opened(tmp_path):
    """The entity names a FIFO: opening it for reading would block until a writer comes, so a parse that
    returns at all has not opened it."""
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    body = b"<sr:Response xmlns:sr='http://www.dccinterface.co.uk/ServiceUserGateway' schemaVersion='5.4'>&x;" \
           b"</sr:Response>"
    documents = [b"<!DOCTYPE r [<!ENTITY x SYSTEM 'file://%s'>]>" % str(fifo).encode() + body,
                 b"<!DOCTYPE r SYSTEM '%s'>" % str(fifo).encode() + body.replace(b"&x;", b"")]
    outcome = []

    def parse_all():
        for document in documents:
            for data in (document, document.decode().encode("utf-16")):
                try:
                    read_message(data, None)
                except DuisError as exc:
                    outcome.append(str(exc))

    worker = threading.Thread(target=parse_all, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "the parser opened the file an entity names"
    assert len(outcome) == 4
