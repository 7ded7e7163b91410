"""Signing DUIS messages as DCC Boxed does: an enveloped XML-DSig signature, the last child of the root, with

- ``Reference URI=""`` and the enveloped-signature transform alone (so the document is digested in C14N 1.0,
  the XML-DSig default after a node-set transform), SHA-256;
- ``SignedInfo`` in exclusive C14N, signed with ECDSA P-256 / SHA-256, the value raw r||s (XML-DSig 1.1);
- ``KeyInfo/X509Data/X509IssuerSerial`` naming the signer's certificate.

A :class:`Signer` holds one key and certificate; ``sign(root)`` signs a tree built by :mod:`.requests` or
:mod:`.responses`, ``sign_bytes(data)`` a message read from a file (dropping any signature it had).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from lxml import etree

from ..errors import DuisError, ParameterError
from ..image import load_private_key
from . import names
from .names import ds
from .safe_xml import parse_bytes
from .xmldsig import canonical, detach

_DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>\n"


class Signer:
    """Signs with one P-256 key; the certificate (PEM/DER bytes, a path or an ``x509.Certificate``) names it."""

    def __init__(self, private_key, certificate):
        self.key = load_private_key(_read(private_key, "private key"))
        self.certificate = _certificate(certificate)
        if self.certificate.public_key().public_numbers() != self.key.public_key().public_numbers():
            raise ParameterError("the certificate is not the private key's: its public key differs")
        # Java writes X500Principal.getName(), i.e. RFC 2253, which rfc4514_string() reproduces
        self.issuer_name = self.certificate.issuer.rfc4514_string()
        self.serial = self.certificate.serial_number
        self._canonical_parts = None

    def sign(self, root: etree._Element) -> bytes:
        """Append the signature to ``root`` (which must not have one) and return the signed message bytes."""
        if next(root.iter(ds("Signature")), None) is not None:
            raise DuisError("the message is signed already; sign_bytes() replaces an existing signature")
        digest = hashlib.sha256(canonical(root.getroottree(), exclusive=False)).digest()
        signature = etree.SubElement(root, ds("Signature"), nsmap={"ds": names.DS})
        signed_info = etree.SubElement(signature, ds("SignedInfo"))
        etree.SubElement(signed_info, ds("CanonicalizationMethod"), Algorithm=names.EXC_C14N)
        etree.SubElement(signed_info, ds("SignatureMethod"), Algorithm=names.ECDSA_SHA256)
        reference = etree.SubElement(signed_info, ds("Reference"), URI="")
        transforms = etree.SubElement(reference, ds("Transforms"))
        etree.SubElement(transforms, ds("Transform"), Algorithm=names.ENVELOPED)
        etree.SubElement(reference, ds("DigestMethod"), Algorithm=names.SHA256)
        etree.SubElement(reference, ds("DigestValue")).text = base64.b64encode(digest).decode("ascii")
        value = etree.SubElement(signature, ds("SignatureValue"))
        value.text = base64.b64encode(self._sign(canonical(signed_info, exclusive=True))).decode("ascii")
        issuer_serial = etree.SubElement(etree.SubElement(etree.SubElement(signature, ds("KeyInfo")),
                                                          ds("X509Data")), ds("X509IssuerSerial"))
        etree.SubElement(issuer_serial, ds("X509IssuerName")).text = self.issuer_name
        etree.SubElement(issuer_serial, ds("X509SerialNumber")).text = str(self.serial)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    def sign_canonical(self, document: bytes) -> bytes:
        """Sign a message given as its C14N 1.0 text (no XML declaration, no comments: what :meth:`sign` digests
        for the tree it parses to) without building a tree, for senders of many messages. The Signature is the
        one :meth:`sign` writes (SignedInfo in its exclusive C14N form, as it is signed), placed before the
        root's end tag; a verifier canonicalises both to the same bytes as for :meth:`sign`'s output."""
        if self._canonical_parts is None:
            self._canonical_parts = self._probe_parts()
        signed_info_head, signed_info_tail, key_info = self._canonical_parts
        end = document.rindex(b"</")
        signed_info = (signed_info_head + base64.b64encode(hashlib.sha256(document).digest()) + signed_info_tail)
        value = base64.b64encode(self._sign(signed_info))
        return b"".join((_DECLARATION, document[:end], b'<ds:Signature xmlns:ds="', names.DS.encode(), b'">',
                         signed_info, b"<ds:SignatureValue>", value, b"</ds:SignatureValue>", key_info,
                         b"</ds:Signature>", document[end:]))

    def _probe_parts(self) -> tuple[bytes, bytes, bytes]:
        """SignedInfo's exclusive C14N around its DigestValue, and the KeyInfo element, as :meth:`sign` writes
        them (taken from signing a probe message, so the two ways cannot drift apart)."""
        signed = parse_bytes(self.sign(etree.Element("probe")))
        signature = signed.find(ds("Signature"))
        signed_info = signature.find(ds("SignedInfo"))
        digest = signed_info.findtext(f"{ds('Reference')}/{ds('DigestValue')}").encode("ascii")
        text = canonical(signed_info, exclusive=True)
        if text.count(digest) != 1:
            raise DuisError("SignedInfo's canonical form does not hold its digest once")
        head, _, tail = text.partition(digest)
        key_info = etree.tostring(signature.find(ds("KeyInfo")))
        key_info = key_info.replace(f' xmlns:ds="{names.DS}"'.encode(), b"", 1)    # declared on the Signature
        return head, tail, key_info

    def sign_bytes(self, data) -> bytes:
        """Sign a message given as bytes; a signature it already carries (a template's placeholder, or a real
        one) is removed first, as DCC Boxed's signer does."""
        root = parse_bytes(data)
        for old in list(root.iter(ds("Signature"))):
            detach(old)
        return self.sign(root)

    def _sign(self, message: bytes) -> bytes:
        r, s = decode_dss_signature(self.key.sign(message, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _read(value, what: str):
    if isinstance(value, (str, Path)):
        try:
            return Path(value).read_bytes()
        except OSError as exc:
            raise ParameterError(f"cannot read the {what} {value}: {exc.strerror}") from None
    return value


def _certificate(value) -> x509.Certificate:
    if isinstance(value, x509.Certificate):
        return value
    data = _read(value, "certificate")
    try:
        data = bytes(data)
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"cannot read the certificate: {exc}") from None
