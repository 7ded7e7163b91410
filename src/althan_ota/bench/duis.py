"""DUIS messages signed and verified: DCC alerts (a PPMID's activation alert, what a campaign receives most of)
built and signed, then verified and parsed — ours in this process and on every core (worker processes), against
signxml (the XML-DSig library a Python user would pick) and against lxml + cryptography written plainly; and
one SRV 11.4 at realistic size (a 240 KB image, 10,000 PPMIDs) built and signed.

The keys and certificate are made for the run (a throwaway P-256 key): the package ships no DCC material.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.x509.oid import NameOID
from lxml import etree

from . import Result, best_time, compare

SUITE = "duis"
DSP = "90-B3-D5-1F-30-00-00-02"
USER = "90-B3-D5-1F-30-01-00-00"
VERSION = 0x01040000
WHEN = dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.timezone.utc)
DS = "http://www.w3.org/2000/09/xmldsig#"


def credentials():
    """A throwaway P-256 key and a certificate for it (issued by a ``CN=Z1, OU=07`` like the DCC's test ones)."""
    key = ec.derive_private_key(20260302, ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "07"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Z1")])
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "89"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "bench DSP")])
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(name).public_key(key.public_key())
                   .serial_number(0x5EED).not_valid_before(WHEN - dt.timedelta(days=1))
                   .not_valid_after(WHEN + dt.timedelta(days=3650)).sign(key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return key, pem, certificate


def device(i: int) -> str:
    return f"00-DB-12-34-{i >> 24 & 255:02X}-{i >> 16 & 255:02X}-{i >> 8 & 255:02X}-{i & 255:02X}"


def activation_alert(i: int):
    """The unsigned root of the i-th PPMID activation alert (every fifth a failure)."""
    from ..duis import responses as rs

    return rs.dcc_alert("N44", rs.ppmid_firmware_activation(device(i), "8F85", VERSION, i % 5 != 0, timestamp=WHEN),
                        WHEN, dsp_id=DSP, user_id=USER, counter=i + 1)


def signxml_sign(root, key, certificate) -> bytes:
    from signxml import SignatureConstructionMethod, XMLSigner
    from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

    key_info = etree.Element(f"{{{DS}}}KeyInfo")
    serial = etree.SubElement(etree.SubElement(key_info, f"{{{DS}}}X509Data"), f"{{{DS}}}X509IssuerSerial")
    etree.SubElement(serial, f"{{{DS}}}X509IssuerName").text = certificate.issuer.rfc4514_string()
    etree.SubElement(serial, f"{{{DS}}}X509SerialNumber").text = str(certificate.serial_number)
    signer = XMLSigner(method=SignatureConstructionMethod.enveloped, signature_algorithm=SignatureMethod.ECDSA_SHA256,
                       digest_algorithm=DigestAlgorithm.SHA256,
                       c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    return etree.tostring(signer.sign(root, key=key, key_info=key_info))


def signxml_verifier(certificate):
    from signxml import SignatureConfiguration, XMLVerifier
    from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

    config = SignatureConfiguration(signature_methods=frozenset({SignatureMethod.ECDSA_SHA256}),
                                    digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
                                    default_reference_c14n_method=CanonicalizationMethod.CANONICAL_XML_1_0)

    def verify_and_read(data: bytes):
        signed = XMLVerifier().verify(data, x509_cert=certificate, expect_config=config).signed_xml
        return signed.findtext(".//{*}ActivateImageResultCode")
    return verify_and_read


def plain_verify_and_read(data: bytes, public_key) -> str:
    """What a user would write with lxml and cryptography alone: parse, copy the tree, drop the signature, digest
    its C14N, check the ECDSA signature over SignedInfo, read the result."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(data, parser)
    signature = root.find(f"{{{DS}}}Signature")
    signed_info = signature.find(f"{{{DS}}}SignedInfo")
    signed_bytes = etree.tostring(signed_info, method="c14n", exclusive=True)
    raw = base64.b64decode("".join(signature.findtext(f"{{{DS}}}SignatureValue").split()))
    document = copy.deepcopy(root)
    document.remove(document.find(f"{{{DS}}}Signature"))
    digest = base64.b64encode(hashlib.sha256(etree.tostring(document, method="c14n")).digest()).decode()
    if digest != signed_info.findtext(f".//{{{DS}}}DigestValue").strip():
        raise ValueError("digest mismatch")
    public_key.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
                      signed_bytes, ec.ECDSA(hashes.SHA256()))
    return root.findtext(".//{*}ActivateImageResultCode")


def plain_sign(root, key, certificate) -> bytes:
    """Signing the same layout with lxml and cryptography, written plainly."""
    digest = base64.b64encode(hashlib.sha256(etree.tostring(root, method="c14n")).digest()).decode()
    signature = etree.fromstring(
        f'<ds:Signature xmlns:ds="{DS}"><ds:SignedInfo><ds:CanonicalizationMethod '
        f'Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod '
        f'Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/><ds:Reference URI=""><ds:Transforms>'
        f'<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>'
        f'<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>{digest}'
        f'</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data>'
        f'<ds:X509IssuerSerial><ds:X509IssuerName>{certificate.issuer.rfc4514_string()}</ds:X509IssuerName>'
        f'<ds:X509SerialNumber>{certificate.serial_number}</ds:X509SerialNumber></ds:X509IssuerSerial>'
        f'</ds:X509Data></ds:KeyInfo></ds:Signature>')
    root.append(signature)
    r, s = decode_dss_signature(key.sign(etree.tostring(signature[0], method="c14n", exclusive=True),
                                         ec.ECDSA(hashes.SHA256())))
    signature[1].text = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def run(quick: bool) -> list[Result]:
    from ..duis import Signer, TrustStore, Verifier, read_message
    from ..duis import requests as rq
    from ..duis.bulk import BulkReader, BulkSigner, default_workers

    n = 200 if quick else 2000
    key, pem, certificate = credentials()
    signer = Signer(pem, certificate)
    trust = TrustStore([certificate])
    verifier = Verifier(trust)
    messages = [signer.sign(activation_alert(i)) for i in range(n)]
    expected = ["ppmid_activation_success" if i % 5 else "ppmid_activation_failure" for i in range(n)]
    if [read_message(m, verifier).records[0].outcome for m in messages] != expected:
        raise AssertionError("our reading of our alerts is wrong")
    results: list[Result] = []
    workers = default_workers()

    # -- build + sign -------------------------------------------------------------------------------
    kernel = f"DCC alert (PPMID activation) build + sign, {n} messages"
    ours = Result(SUITE, kernel, "althan-ota (lxml + cryptography, 1 process)",
                  best_time(lambda: [signer.sign(activation_alert(i)) for i in range(n)], quick, 1.0), n, "message")
    plain = Result(SUITE, kernel, "lxml + cryptography written plainly",
                   best_time(lambda: [plain_sign(activation_alert(i), key, certificate) for i in range(n)], quick, 1.0),
                   n, "message")
    compare(results, ours, plain)
    try:
        import signxml  # noqa: F401
    except ImportError:
        results.append(Result(SUITE, kernel, "signxml (not installed)", float("nan"), n, "message"))
        have_signxml = False
    else:
        have_signxml = True
        peer = Result(SUITE, kernel, "signxml",
                      best_time(lambda: [signxml_sign(activation_alert(i), key, certificate) for i in range(n)],
                                quick, 1.0), n, "message")
        compare(results, Result(SUITE, kernel, ours.impl, ours.seconds, n, "message"), peer)
    jobs = [(activation_alert, {"i": i}) for i in range(n)]
    with BulkSigner(pem, certificate.public_bytes(serialization.Encoding.PEM), workers=workers) as bulk:
        bulk.sign(jobs)                                      # start the workers before timing
        results.append(Result(SUITE, kernel, f"althan-ota BulkSigner ({workers} processes)",
                              best_time(lambda: bulk.sign(jobs), quick, 1.0), n, "message"))

    # -- verify + parse -----------------------------------------------------------------------------
    kernel = f"DCC alert verify + parse, {n} messages"
    ours = Result(SUITE, kernel, "althan-ota read_message (1 process)",
                  best_time(lambda: [read_message(m, verifier) for m in messages], quick, 1.0), n, "message")
    public_key = certificate.public_key()
    if [plain_verify_and_read(m, public_key) for m in messages[:5]] != \
            ["ActivationFailure"] + ["ActivationSuccess"] * 4:
        raise AssertionError("the plain peer reads our alerts wrongly")
    plain = Result(SUITE, kernel, "lxml + cryptography written plainly",
                   best_time(lambda: [plain_verify_and_read(m, public_key) for m in messages], quick, 1.0), n,
                   "message")
    compare(results, ours, plain)
    if have_signxml:
        check = signxml_verifier(certificate)
        peer = Result(SUITE, kernel, "signxml", best_time(lambda: [check(m) for m in messages], quick, 1.0), n,
                      "message")
        compare(results, Result(SUITE, kernel, ours.impl, ours.seconds, n, "message"), peer)
    with BulkReader(trust, workers=workers) as bulk:
        bulk.read(messages)
        mine = Result(SUITE, kernel, f"althan-ota BulkReader ({workers} processes)",
                      best_time(lambda: bulk.read(messages), quick, 1.0), n, "message")
        compare(results, mine, Result(SUITE, kernel, ours.impl, ours.seconds, n, "message"))

    # -- one SRV 11.4 at campaign size --------------------------------------------------------------
    from ..image import build_gbcs

    devices = [device(i) for i in range(2_000 if quick else 10_000)]
    image = build_gbcs(bytes(range(256)) * 940, manufacturer_code=0x1234, image_type=0x0101, file_version=VERSION,
                       min_hardware_version=1, max_hardware_version=3, signed=False)
    kernel = f"SRV 11.4 build + sign, {len(image) // 1000} KB image, {len(devices)} PPMIDs"
    user = dict(user_id=USER, dsp_id=DSP, counter=1)
    ours = Result(SUITE, kernel, "althan-ota",
                  best_time(lambda: signer.sign(rq.update_ppmid_firmware(image, devices, **user)), quick), 1, "message")
    plain = Result(SUITE, kernel, "lxml + cryptography written plainly",
                   best_time(lambda: plain_sign(rq.update_ppmid_firmware(image, devices, **user), key, certificate),
                             quick), 1, "message")
    compare(results, ours, plain)
    return results
