"""Verifying DUIS signatures: the certificate is picked from a :class:`TrustStore` by issuer and serial number,
then the signature over ``SignedInfo`` and the digest of the document are checked. Anything else is refused
with a DuisError saying why: no signature, more than one, a layout or algorithm DUIS does not use, an unknown
signer, a signer that is not who the message says it comes from, a bad signature or a changed document.

What is accepted is what the XML-DSig specification allows for DUIS's algorithms, not only what our signer
writes: any namespace prefix, comments inside the Signature, base64 wrapped with CR/LF (Java), and a
Reference whose transforms are the enveloped-signature transform alone (DCC Boxed; the document is then
digested in C14N 1.0) or followed by a C14N 1.0 or exclusive C14N transform (signxml and others).

On success the Signature element is taken out of the tree, which is then the signed document and can be
parsed for records without reading the message again.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree

from ..errors import DuisError
from . import names
from .identifiers import RequestId, eui
from .names import ds, sr
from .trust import TrustedCertificate, TrustStore
from .xmldsig import b64decode, canonical, children, detach, expect

_EXC_NS = "http://www.w3.org/2001/10/xml-exc-c14n#"
_INCLUSIVE_NAMESPACES = f"{{{_EXC_NS}}}InclusiveNamespaces"
_SIGNATURE, _X509_DATA, _X509_ISSUER_SERIAL = ds("Signature"), ds("X509Data"), ds("X509IssuerSerial")
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())       # immutable: built once, not per message
# distinct (issuer, serial) texts remembered per verifier; a message naming more is looked up each time
_MAX_CACHED_SIGNERS = 256
# C14N algorithms allowed for SignedInfo and after the enveloped transform -> exclusive?
_C14N = {names.EXC_C14N: True, names.EXC_C14N_WITH_COMMENTS: True,
         names.C14N_10: False, names.C14N_10_WITH_COMMENTS: False}


@dataclass(frozen=True, slots=True)
class SignerInfo:
    """Who signed a verified message."""

    issuer: str
    serial: int
    entity_id: str | None       # the EUI-64 of the signing party from its certificate (SMKI), if it has one
    subject: str
    source: str                 # the trust-store file the certificate came from


class Verifier:
    """Verifies DUIS signatures against a trust store.

    ``expected_signers``: if given, EUI-64s of the parties allowed to sign (e.g. the DSP's
    ``90-B3-D5-1F-30-00-00-02`` for responses and alerts); a message signed by any other trusted certificate
    is refused. A request must in any case be signed by the user its RequestID names as originator (when the
    certificate carries an entity ID), so a request re-signed by another user is refused.
    """

    def __init__(self, trust: TrustStore, expected_signers=None):
        if not isinstance(trust, TrustStore):
            raise TypeError("Verifier needs a TrustStore")
        self.trust = trust
        # (X509IssuerName text, X509SerialNumber text) -> (certificate, its SignerInfo), valid for one trust-store
        # generation: parsing the issuer name and building a SignerInfo is done once per signer, not per message
        self._signers: dict[tuple[str, str], tuple[TrustedCertificate, SignerInfo]] = {}
        self._signers_generation = trust.generation
        self.expected_signers = None if expected_signers is None else \
            frozenset(eui(e, "expected signer") for e in ([expected_signers] if isinstance(expected_signers, str)
                                                          else expected_signers))

    def verify(self, root: etree._Element) -> SignerInfo:
        """Verify the enveloped signature of the message rooted at ``root`` and remove it from the tree."""
        signature = self._the_signature(root)
        signed_info, signature_value, key_info = self._layout(signature)
        si_exclusive, si_prefixes, reference = self._signed_info(signed_info)
        transforms, digest_value = self._reference(reference)
        doc_exclusive, doc_prefixes = self._transforms(transforms)
        digest = b64decode(digest_value.text, "ds:DigestValue", 32)
        raw_signature = b64decode(signature_value.text, "ds:SignatureValue", 64)
        trusted, info = self._certificate(key_info)
        self._check_signer(root, trusted)

        # SignedInfo is canonicalised where it stands (its in-scope namespaces matter to C14N)
        signed_bytes = canonical(signed_info, exclusive=si_exclusive, inclusive_prefixes=si_prefixes)
        detach(signature)
        document = canonical(root.getroottree(), exclusive=doc_exclusive, inclusive_prefixes=doc_prefixes)
        if not hmac.compare_digest(hashlib.sha256(document).digest(), digest):
            raise DuisError("ds:DigestValue: the document does not match its digest (it was changed after "
                            "signing)")
        der = encode_dss_signature(int.from_bytes(raw_signature[:32], "big"),
                                   int.from_bytes(raw_signature[32:], "big"))
        try:
            trusted.public_key.verify(der, signed_bytes, _ECDSA_SHA256)
        except InvalidSignature:
            raise DuisError(f"ds:SignatureValue: does not verify with the certificate {trusted.subject} "
                            f"(serial {trusted.serial}, {trusted.source})") from None
        return info

    # -- structure --------------------------------------------------------------------------------------
    @staticmethod
    def _the_signature(root) -> etree._Element:
        found = list(root.iter(_SIGNATURE))
        if not found:
            raise DuisError(f"{names.local_name(root.tag)}: unsigned (no ds:Signature)")
        if len(found) > 1:
            raise DuisError(f"{names.local_name(root.tag)}: {len(found)} ds:Signature elements; a DUIS message "
                            f"carries exactly one")
        signature = found[0]
        if signature.getparent() is not root:
            raise DuisError(f"ds:Signature: inside {names.local_name(signature.getparent().tag)}; an enveloped "
                            f"DUIS signature is a child of the root element")
        return signature

    @staticmethod
    def _layout(signature):
        return _parts(signature, ("SignedInfo", "SignatureValue", "KeyInfo"))

    @staticmethod
    def _signed_info(signed_info):
        method, signature_method, reference = _parts(signed_info, ("CanonicalizationMethod", "SignatureMethod",
                                                                   "Reference"))
        algorithm = method.get("Algorithm")
        if algorithm not in _C14N:
            raise DuisError(f"ds:CanonicalizationMethod: {algorithm!r} is not C14N 1.0 or exclusive C14N")
        if signature_method.get("Algorithm") != names.ECDSA_SHA256:
            raise DuisError(f"ds:SignatureMethod: {signature_method.get('Algorithm')!r}; DUIS signs with "
                            f"ECDSA-SHA256 ({names.ECDSA_SHA256})")
        return _C14N[algorithm], _prefix_list(method), reference

    @staticmethod
    def _reference(reference):
        """(Transforms, DigestValue) of the one Reference, after checking its URI and digest method."""
        if reference.get("URI") != "":
            raise DuisError(f"ds:Reference: URI={reference.get('URI')!r}; a DUIS signature covers the whole "
                            f"document (URI=\"\")")
        transforms, method, digest_value = _parts(reference, ("Transforms", "DigestMethod", "DigestValue"))
        if method.get("Algorithm") != names.SHA256:
            raise DuisError(f"ds:DigestMethod: {method.get('Algorithm')!r}; DUIS digests with SHA-256")
        return transforms, digest_value

    @staticmethod
    def _transforms(element):
        transforms = children(element)
        algorithms = [expect(t, ds("Transform"), "ds:Transforms").get("Algorithm") for t in transforms]
        if not algorithms or algorithms[0] != names.ENVELOPED:
            raise DuisError(f"ds:Transforms: {algorithms}; the first must be the enveloped-signature transform")
        if len(algorithms) == 1:
            return False, None        # node-set to octets: C14N 1.0 (XML-DSig 4.4.3.2)
        if len(algorithms) == 2 and algorithms[1] in _C14N:
            return _C14N[algorithms[1]], _prefix_list(transforms[1])
        raise DuisError(f"ds:Transforms: {algorithms}; DUIS allows the enveloped-signature transform, optionally "
                        f"followed by one C14N 1.0 or exclusive C14N transform")

    def _certificate(self, key_info) -> tuple[TrustedCertificate, SignerInfo]:
        # (a list comprehension over the children costs less than lxml's iterchildren(tag) here: callgrind)
        data = [c for c in key_info if c.tag == _X509_DATA]
        serials = [s for d in data for s in d if s.tag == _X509_ISSUER_SERIAL]
        if len(serials) != 1:
            raise DuisError(f"ds:KeyInfo: {len(serials)} X509IssuerSerial elements; DUIS names the signer's "
                            f"certificate by exactly one")
        name, number = _parts(serials[0], ("X509IssuerName", "X509SerialNumber"))
        issuer = name.text or ""
        key = (issuer, number.text or "")
        if self._signers_generation != self.trust.generation:   # a certificate was added or replaced since
            self._signers.clear()
            self._signers_generation = self.trust.generation
        found = self._signers.get(key)
        if found is not None:
            return found
        serial_text = key[1].strip()
        if not serial_text.isascii() or not serial_text.isdigit() or len(serial_text) > 50:
            raise DuisError(f"ds:X509SerialNumber: {serial_text[:60]!r} is not a certificate serial number")
        trusted = self.trust.lookup(issuer, int(serial_text))
        found = (trusted, SignerInfo(issuer.strip(), trusted.serial, trusted.entity_id, trusted.subject,
                                     trusted.source))
        if len(self._signers) < _MAX_CACHED_SIGNERS:    # bounded: a flood of made-up names cannot grow it
            self._signers[key] = found
        return found

    def _check_signer(self, root, trusted: TrustedCertificate) -> None:
        if self.expected_signers is not None and trusted.entity_id not in self.expected_signers:
            raise DuisError(f"ds:KeyInfo: signed by {trusted.entity_id or trusted.subject}, not by "
                            f"{' or '.join(sorted(self.expected_signers))}")
        if root.tag == sr("Request") and trusted.entity_id is not None:
            header = root.find(sr("Header"))
            request_id = None if header is None else header.find(sr("RequestID"))
            if request_id is not None:
                originator = RequestId.parse(request_id.text).originator
                if originator != trusted.entity_id:
                    raise DuisError(f"ds:KeyInfo: the request comes from {originator} (RequestID) but is signed "
                                    f"by {trusted.entity_id}")


_EXPECTED_TAGS: dict[tuple[str, ...], list[str]] = {}


def _parts(element, expected: tuple[str, ...]) -> list:
    """The child elements of ``element``, which must be exactly ds:``expected`` in that order."""
    parts = children(element)
    tags = _EXPECTED_TAGS.get(expected)
    if tags is None:
        tags = _EXPECTED_TAGS[expected] = [ds(name) for name in expected]
    if [part.tag for part in parts] == tags:        # the usual case, checked without building messages
        return parts
    where = f"ds:{names.local_name(element.tag)}"
    if len(parts) != len(expected):
        raise DuisError(f"{where}: {len(parts)} child elements; expected {', '.join(expected)}")
    return [expect(part, ds(name), where) for part, name in zip(parts, expected)]


def _prefix_list(method) -> list[str] | None:
    found = method.find(_INCLUSIVE_NAMESPACES)
    if found is None:
        return None
    return [p if p != "#default" else None for p in (found.get("PrefixList") or "").split()] or None
