"""DUIS XML-DSig: signing as DCC Boxed does and verifying what the DCC (DCC Boxed's Java signer), signxml and
we write; refusing unsigned, tampered, re-signed and unknown-signer messages."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from althan_ota.duis import DuisSchema, Signer, TrustStore, Verifier, parse_bytes, read_message
from althan_ota.duis.names import DS
from althan_ota.errors import DuisError
from duis_data import (CERTS, DATA, DSP, DSP_CERT, DSP_KEY, KINDS, REQUESTS, USER, USER_CERT, USER_KEY, dsp_signer,
                       schema, signed, trust, unsigned, user_signer)

signxml = pytest.importorskip("signxml")
DCCBOXED = DATA / "dccboxed"


def verifier(expected=None) -> Verifier:
    return Verifier(trust(), expected)


# -- what DCC Boxed signed ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name, serial, certificate", [
    ("readfw-response.xml", 117636141832862931915946451229571981153, "Z1-accessControlBroker-ds.pem"),
    ("readfw-response-resigned.xml", 20315062944123339095836004026371736578, "Z1-accessControlBroker-dSPXmlSign.pem"),
    ("read-inventory-response-5.4.xml", 20315062944123339095836004026371736578,
     "Z1-accessControlBroker-dSPXmlSign.pem"),
])
def test_messages_signed_by_dcc_boxed_verify(name, serial, certificate):
    message = read_message((DCCBOXED / name).read_bytes(), verifier(DSP), schema=schema())
    assert message.signer.serial == serial
    assert message.signer.source.endswith(certificate)
    assert message.signer.entity_id == DSP
    assert message.signer.issuer == "CN=Z1,OU=07"


def test_dcc_boxed_11_2_response_is_read():
    message = read_message((DCCBOXED / "readfw-response.xml").read_bytes(), verifier())
    assert message.schema_version == "5.1"
    assert str(message.request_id) == "90-B3-D5-1F-30-01-00-00:88-73-84-57-00-2F-96-6C:1655991767747"
    assert str(message.response_id) == "88-73-84-57-00-2F-96-6C:90-B3-D5-1F-30-01-00-00:1655991767747"
    assert message.response_code.code == "I0"
    ack, read = message.records
    assert ack.service_reference_variant == "11.2" and ack.outcome is None
    assert read.device_id == "88-73-84-57-00-2F-96-6C"
    assert read.gbcs_payload == base64.b64decode(
        "3QAAAAAAAFURAAAAAN8JAgAAAYGQzRSDCIhzhFcAL5ZsCJCz1R8wAAACABIAWZCz1R8wAQAAAAABgZDNEsMR2iDNFIMAAAEJBAwVAAAB"
        "AQAAsmMe6aqF4htmxPZp")


def test_dcc_boxed_inventory_rows_are_read():
    message = read_message((DCCBOXED / "read-inventory-response-5.4.xml").read_bytes(), verifier())
    rows = message.records[1:]
    assert [(r.device_id, r.device_type, r.device_status, r.firmware_version_text, r.variant) for r in rows] == [
        ("88-73-84-90-6A-10-02-DB", "CHF", "Commissioned", "9001", "Single Band"),
        ("BC-6E-76-FE-00-7C-B4-F3", "CAD", None, None, None),
        ("88-73-84-CC-6A-10-02-DB", "GPF", "InstalledNotCommissioned", "9001", None)]
    assert all(r.outcome is None for r in rows)


def test_signature_naming_the_previous_dsp_certificate_is_checked_with_that_certificate():
    # DCC Boxed's own negative case: the -pre-1.4.1 certificate is found by issuer and serial, its key refuses
    with pytest.raises(DuisError, match=r"SignatureValue.*pre-1\.4\.1"):
        read_message((DCCBOXED / "readfw-response-badsignature.xml").read_bytes(), verifier())


def test_unsigned_error_acknowledgement_is_refused_unless_asked_for():
    data = (DCCBOXED / "acknowledgement-error.xml").read_bytes()
    with pytest.raises(DuisError, match="unsigned"):
        read_message(data, verifier())
    message = read_message(data, verifier(), accept_unsigned_errors=True)
    assert message.signer is None and message.response_code.code == "E65"
    # an unsigned success is never accepted
    with pytest.raises(DuisError, match="unsigned"):
        read_message(data.replace(b">E65<", b">I0<"), verifier(), accept_unsigned_errors=True)


# -- our signer, every message type -----------------------------------------------------------------------
EXPECTED_OUTCOMES = {
    "11.4": [], "8.2": [], "12.2": [], "11.2": [],
    "ack": [("", "duis_acknowledged")],
    "ack-warnings": [("", "duis_acknowledged"), ("00-DB-12-34-56-78-00-03", "duis_not_commissioned"),
                     ("00-DB-12-34-56-78-00-04", "duis_not_commissioned"),
                     ("00-DB-12-34-56-78-00-06", "duis_not_applicable"),
                     ("00-DB-12-34-56-78-00-05", "duis_request_in_progress")],
    "rejected": [("", "duis_rejected")],
    "inventory": [("00-DB-12-34-56-78-00-00", "readback_current"), ("00-DB-12-34-56-78-00-01", "readback_mismatch")],
    "firmware-read": [],
    "csp-delivered": [("00-DB-12-34-56-78-00-00", "csp_delivered")],
    "csp-failed": [("00-DB-12-34-56-78-00-01", "csp_delivery_failed")],
    "distribution-failure": [("00-DB-12-34-56-78-00-02", "csp_delivery_failed"),
                             ("00-DB-12-34-56-78-00-03", "csp_delivery_failed")],
    "ch-transfer": [("00-DB-12-34-56-78-00-00", "ch_transfer_success")],
    "ch-discarded": [("00-DB-12-34-56-78-00-01", "ch_image_discarded")],
    "ppmid-activated": [("00-DB-12-34-56-78-00-00", "ppmid_activation_success")],
    "ppmid-failed": [("00-DB-12-34-56-78-00-01", "ppmid_activation_failure")],
}


@pytest.mark.parametrize("kind", KINDS)
def test_build_sign_validate_verify_parse(kind):
    data = signed(kind)
    expected_signer = USER if kind in REQUESTS else DSP
    message = read_message(data, verifier(expected_signer), schema=schema(), targets=0x01040000)
    assert message.signer.entity_id == expected_signer
    assert message.outcomes() == EXPECTED_OUTCOMES[kind]
    # the signature is what DCC Boxed writes
    root = etree.fromstring(data)
    signature = root[-1]
    assert signature.tag == f"{{{DS}}}Signature"
    assert [t.get("Algorithm") for t in signature.iter(f"{{{DS}}}Transform")] == \
        ["http://www.w3.org/2000/09/xmldsig#enveloped-signature"]
    assert signature.findtext(f".//{{{DS}}}X509IssuerName") == "CN=Z1,OU=07"


@pytest.mark.parametrize("kind", KINDS)
def test_signxml_verifies_what_we_sign(kind):
    from signxml import XMLVerifier
    from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

    certificate = x509.load_pem_x509_certificate((USER_CERT if kind in REQUESTS else DSP_CERT).read_bytes())
    # DCC Boxed's Reference has no C14N transform, so the digest is over C14N 1.0 (XML-DSig 4.4.3.2)
    config = signxml.SignatureConfiguration(
        signature_methods=frozenset({SignatureMethod.ECDSA_SHA256}),
        digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
        default_reference_c14n_method=CanonicalizationMethod.CANONICAL_XML_1_0)
    result = XMLVerifier().verify(signed(kind), x509_cert=certificate, expect_config=config)
    assert result.signed_xml.tag == etree.fromstring(signed(kind)).tag


def _signxml_sign(root, key_path, cert_path, c14n):
    from signxml import SignatureConstructionMethod, XMLSigner
    from signxml.algorithms import DigestAlgorithm, SignatureMethod

    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_der_private_key(key_path.read_bytes(), None)
    key_info = etree.Element(f"{{{DS}}}KeyInfo")
    issuer_serial = etree.SubElement(etree.SubElement(key_info, f"{{{DS}}}X509Data"), f"{{{DS}}}X509IssuerSerial")
    etree.SubElement(issuer_serial, f"{{{DS}}}X509IssuerName").text = certificate.issuer.rfc4514_string()
    etree.SubElement(issuer_serial, f"{{{DS}}}X509SerialNumber").text = str(certificate.serial_number)
    signer = XMLSigner(method=SignatureConstructionMethod.enveloped, signature_algorithm=SignatureMethod.ECDSA_SHA256,
                       digest_algorithm=DigestAlgorithm.SHA256, c14n_algorithm=c14n)
    return etree.tostring(signer.sign(root, key=key, key_info=key_info))


@pytest.mark.parametrize("c14n", ["http://www.w3.org/2001/10/xml-exc-c14n#",
                                  "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"])
@pytest.mark.parametrize("kind", ["11.4", "ack-warnings", "inventory", "ch-transfer", "ppmid-activated"])
def test_we_verify_what_signxml_signs(kind, c14n):
    from signxml.algorithms import CanonicalizationMethod

    key, cert = (USER_KEY, USER_CERT) if kind in REQUESTS else (DSP_KEY, DSP_CERT)
    data = _signxml_sign(unsigned(kind), key, cert, CanonicalizationMethod(c14n))
    assert data.count(c14n.encode()) == 2          # SignedInfo's method and the Reference's transform
    reference = read_message(signed(kind), verifier(), targets=0x01040000)
    message = read_message(data, verifier(), schema=schema(), targets=0x01040000)
    assert message.records == reference.records
    assert message.signer.serial == reference.signer.serial


# -- interoperability: what other writers do ---------------------------------------------------------------
def _wrap_base64(data: bytes, element: str) -> bytes:
    """Java's line wrapping: CR (as &#13;) and LF every 76 characters."""
    def wrap(match):
        text = match.group(2).decode()
        lines = [text[i:i + 76] for i in range(0, len(text), 76)]
        return match.group(1) + "&#13;\n".join(lines).encode() + match.group(3)
    return re.sub(rb"(<ds:%s>)([^<]*)(</ds:%s>)" % (element.encode(), element.encode()), wrap, data)


def test_base64_wrapped_with_cr_lf_is_read():
    data = _wrap_base64(signed("ppmid-activated"), "SignatureValue")     # not signed: SignatureValue
    assert b"&#13;\n" in data
    assert read_message(data, verifier()).signer.entity_id == DSP


@pytest.mark.parametrize("sr_prefix, ds_prefix", [("dui", "dsig"), (None, "ns3"), ("sr", None)])
def test_any_namespace_prefixes(sr_prefix, ds_prefix):
    text = etree.tostring(unsigned("ch-transfer")).decode()
    if sr_prefix is None:
        text = text.replace("xmlns:sr=", "xmlns=").replace("<sr:", "<").replace("</sr:", "</")
    else:
        text = text.replace("xmlns:sr=", f"xmlns:{sr_prefix}=").replace("<sr:", f"<{sr_prefix}:") \
            .replace("</sr:", f"</{sr_prefix}:")
    data = dsp_signer().sign_bytes(text.encode())
    if ds_prefix is None:
        data = data.replace(b'<ds:Signature xmlns:ds=', b'<Signature xmlns=').replace(b"<ds:", b"<") \
            .replace(b"</ds:", b"</")
        data = _resign_signed_info(data)
    elif ds_prefix != "ds":
        data = data.replace(b"xmlns:ds=", b"xmlns:%s=" % ds_prefix.encode()).replace(b"<ds:", b"<%s:" % ds_prefix.encode()) \
            .replace(b"</ds:", b"</%s:" % ds_prefix.encode())
        data = _resign_signed_info(data)
    message = read_message(data, verifier(), schema=schema())
    assert message.records == read_message(signed("ch-transfer"), verifier()).records


def _resign_signed_info(data: bytes) -> bytes:
    """Recompute the signature over a SignedInfo whose prefix was renamed (its exclusive C14N changed)."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    root = etree.fromstring(data)
    signature = root[-1]
    signed_info = signature[0]
    c14n = etree.tostring(signed_info, method="c14n", exclusive=True)
    key = serialization.load_der_private_key(DSP_KEY.read_bytes(), None)
    r, s = decode_dss_signature(key.sign(c14n, ec.ECDSA(hashes.SHA256())))
    signature[1].text = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_current_and_previous_certificates_of_one_signer(tmp_path):
    """A signer that renewed its certificate (new key, new serial) is trusted under both, as DCC users trust
    the DSP's current and -pre-1.4.1 certificates."""
    old_key = ec.generate_private_key(ec.SECP256R1())
    ca_key = ec.generate_private_key(ec.SECP256R1())
    current = x509.load_pem_x509_certificate(DSP_CERT.read_bytes())
    now = dt.datetime.now(dt.timezone.utc)
    previous = (x509.CertificateBuilder().subject_name(current.subject).issuer_name(current.issuer)
                .public_key(old_key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
                .sign(ca_key, hashes.SHA256()))
    store = TrustStore([current, previous])
    for key, certificate in ((DSP_KEY, current), (old_key, previous)):
        signer = Signer(key if not isinstance(key, ec.EllipticCurvePrivateKey) else
                        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()), certificate)
        message = read_message(signer.sign(unsigned("ppmid-activated")), Verifier(store, DSP))
        assert message.signer.serial == certificate.serial_number and message.signer.entity_id == DSP
    assert {t.serial for t in store} == {current.serial_number, previous.serial_number}
    assert current.subject.get_attributes_for_oid(NameOID.X500_UNIQUE_IDENTIFIER)


# -- refusals ------------------------------------------------------------------------------------------
def _refused(data: bytes, match: str, expected=None):
    with pytest.raises(DuisError, match=match):
        read_message(data, verifier(expected))


def test_unsigned_message_is_refused():
    _refused(etree.tostring(unsigned("ppmid-activated")), "unsigned")
    _refused(etree.tostring(unsigned("11.4")), "unsigned")


def test_two_signatures_are_refused():
    data = signed("ppmid-activated")
    root = etree.fromstring(data)
    root.append(etree.fromstring(etree.tostring(root[-1])))
    _refused(etree.tostring(root), "2 ds:Signature")


def test_signature_elsewhere_than_under_the_root_is_refused():
    root = etree.fromstring(signed("ppmid-activated"))
    signature = root[-1]
    root.remove(signature)
    root[1].append(signature)
    _refused(etree.tostring(root), "child of the root")


@pytest.mark.parametrize("element, replacement, match", [
    ("DigestValue", base64.b64encode(bytes(32)).decode(), "DigestValue"),
    ("SignatureValue", base64.b64encode(bytes(64)).decode(), "SignatureValue"),
    ("X509SerialNumber", "27572613927499351639968579586655397031", "SignatureValue"),  # another trusted cert
    ("X509SerialNumber", "12345", "no trusted certificate"),
    ("X509IssuerName", "CN=U1, OU=07", "no trusted certificate"),
])
def test_tampered_signature_parts_are_refused(element, replacement, match):
    data = signed("ppmid-activated")
    tampered = re.sub(rb"(<ds:%s>)[^<]*(</ds:%s>)" % (element.encode(), element.encode()),
                      rb"\g<1>" + replacement.encode() + rb"\g<2>", data)
    assert tampered != data
    _refused(tampered, match)


@pytest.mark.parametrize("old, new, match", [
    (b"ActivationSuccess", b"ActivationFailure", "DigestValue"),
    (b"01040000", b"01040001", "DigestValue"),
    (b"xml-exc-c14n#", b"xml-exc-c14n#WithComments", "SignatureValue"),         # SignedInfo changed
    (b"xmldsig-more#ecdsa-sha256", b"xmldsig-more#rsa-sha256", "SignatureMethod"),
    (b"xmlenc#sha256", b"xmldsig#sha1", "DigestMethod"),
    (b'URI=""', b'URI="#body"', "URI"),
])
def test_tampered_document_or_signed_info_is_refused(old, new, match):
    data = signed("ppmid-activated")
    assert old in data
    _refused(data.replace(old, new, 1), match)


def test_request_resigned_by_someone_else_is_refused():
    # a supplier's request, signed with the DSP's (trusted) key: the RequestID says who must have signed
    data = dsp_signer().sign(unsigned("8.2"))
    _refused(data, "comes from 90-B3-D5-1F-30-01-00-00")


def test_response_signed_by_other_than_the_expected_signer_is_refused():
    data = user_signer().sign(unsigned("ppmid-activated"))
    assert read_message(data, verifier()).signer.entity_id == USER       # trusted, but not the DSP
    _refused(data, "not by 90-B3-D5-1F-30-00-00-02", expected=DSP)


def test_signer_outside_the_trust_store_is_refused(tmp_path):
    (tmp_path / "user.pem").write_bytes(USER_CERT.read_bytes())
    only_user = Verifier(TrustStore.from_directory(tmp_path))
    with pytest.raises(DuisError, match="no trusted certificate"):
        read_message(signed("ppmid-activated"), only_user)


def _signed_regions(data: bytes) -> list[tuple[int, int]]:
    """Byte ranges whose every alphanumeric character is signed: the document, the digest, the signature,
    the serial number."""
    start = data.index(b"<sr:Response") if b"<sr:Response" in data else data.index(b"<sr:Request")
    regions = [(start, data.index(b"<ds:Signature"))]
    for element in (b"DigestValue", b"SignatureValue", b"X509SerialNumber"):
        begin = data.index(b"<ds:%s>" % element) + len(element) + 5
        regions.append((begin, data.index(b"</ds:%s>" % element)))
    return regions


ALNUM = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["ppmid-activated", "ack-warnings", "8.2", "inventory"]), pick=st.data())
def test_changing_any_signed_character_is_refused(kind, pick):
    data = _signed_cache(kind)
    positions = [i for lo, hi in _signed_regions(data) for i in range(lo, hi) if data[i] in ALNUM]
    i = pick.draw(st.sampled_from(positions))
    replacement = pick.draw(st.sampled_from([c for c in ALNUM if c != data[i]]))
    with pytest.raises(DuisError):
        read_message(data[:i] + bytes([replacement]) + data[i + 1:], verifier())


_CACHE: dict[str, bytes] = {}


def _signed_cache(kind: str) -> bytes:
    if kind not in _CACHE:
        _CACHE[kind] = signed(kind)
    return _CACHE[kind]


def test_sign_bytes_replaces_a_template_signature():
    template = (DATA / "templates" / "8.2_READ_INVENTORY_REQUEST_DUIS.XML").read_bytes()
    data = user_signer().sign_bytes(template)
    assert b"ZGVmYXVsdA==" not in data and len(re.findall(rb"<ds:Signature[ >]", data)) == 1
    message = read_message(data, verifier(), schema=schema())
    assert str(message.request_id) == "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:1000"
    with pytest.raises(DuisError, match="signed already"):
        user_signer().sign(parse_bytes(data))


def test_signer_refuses_a_certificate_of_another_key():
    with pytest.raises(Exception, match="not the private key's"):
        Signer(USER_KEY, DSP_CERT)


def test_dcc_templates_sign_and_validate():
    for path in sorted((DATA / "templates").glob("*.XML")):
        data = user_signer().sign_bytes(path.read_bytes())
        if b"90-B3-D5-1F-30-00-00-02:00-DB" in data:           # the 11.2 example's originator is the DSP
            continue
        message = read_message(data, verifier(), schema=schema())
        assert message.kind == "request", path.name


def test_schema_object_is_reused():
    assert schema() is schema() and isinstance(schema(), DuisSchema)
    assert CERTS.is_dir()
