"""The verifier remembers each signer's certificate lookup (issuer name and serial number as the message writes
them) so a flood of alerts from one DSP is not looked up message by message. What that cache must never do:
trust a certificate the trust store no longer holds under that issuer and serial, or let a message through
because an earlier one from the same signer was good."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from althan_ota.duis import Signer, TrustStore, Verifier, read_message
from althan_ota.errors import DuisError
from duis_data import DSP, DSP_CERT, DSP_KEY, USER_CERT, signed, unsigned


def _same_name_and_serial_other_key(certificate: x509.Certificate):
    """A certificate with ``certificate``'s subject, issuer and serial number but a new key, and that key (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    replacement = (x509.CertificateBuilder().subject_name(certificate.subject).issuer_name(certificate.issuer)
                   .public_key(key.public_key()).serial_number(certificate.serial_number)
                   .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
                   .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return replacement, pem


def test_a_certificate_replaced_under_the_same_issuer_and_serial_is_not_trusted_from_the_cache():
    original = x509.load_pem_x509_certificate(DSP_CERT.read_bytes())
    store = TrustStore([original])
    verifier = Verifier(store, DSP)
    good = signed("ppmid-activated")
    assert read_message(good, verifier).signer.source == "<memory>"      # the lookup is cached now

    replacement, replacement_key = _same_name_and_serial_other_key(original)
    store.add(replacement, source="replacement.pem")
    with pytest.raises(DuisError, match="SignatureValue: does not verify"):
        read_message(good, verifier)            # signed with the key the store no longer trusts
    message = read_message(Signer(replacement_key, replacement).sign(unsigned("ppmid-activated")), verifier)
    assert message.signer.source == "replacement.pem"
    assert message.signer.serial == original.serial_number


def test_a_tampered_message_after_a_good_one_from_the_same_signer_is_refused():
    verifier = Verifier(TrustStore.from_directory(DSP_CERT.parent), DSP)
    good = signed("ppmid-activated")
    for _ in range(3):
        assert read_message(good, verifier).records[0].outcome == "ppmid_activation_success"
    with pytest.raises(DuisError, match="DigestValue"):
        read_message(good.replace(b"ActivationSuccess", b"ActivationFailure", 1), verifier)
    with pytest.raises(DuisError, match="SignatureValue"):
        read_message(good.replace(b"xml-exc-c14n#", b"xml-exc-c14n#WithComments", 1), verifier)
    assert read_message(good, verifier).signer.entity_id == DSP        # the cache still serves the good one


def test_the_cache_does_not_outlive_a_signer_that_is_not_expected():
    """A cached lookup still goes through the expected-signer check: the cache holds certificates, not
    verdicts."""
    store = TrustStore.from_directory(DSP_CERT.parent)
    open_verifier = Verifier(store)
    strict = Verifier(store, "90-B3-D5-1F-30-01-00-00")        # only the user may sign
    good = signed("ppmid-activated")
    read_message(good, open_verifier)
    for _ in range(2):
        with pytest.raises(DuisError, match="not by 90-B3-D5-1F-30-01-00-00"):
            read_message(good, strict)


def test_an_unknown_serial_is_refused_every_time_and_not_remembered():
    store = TrustStore([x509.load_pem_x509_certificate(USER_CERT.read_bytes())])    # not the DSP's
    verifier = Verifier(store)
    good = signed("ppmid-activated")
    for _ in range(2):
        with pytest.raises(DuisError, match="signer is unknown"):
            read_message(good, verifier)
    store.add(x509.load_pem_x509_certificate(DSP_CERT.read_bytes()))                  # now it is trusted
    assert read_message(good, verifier).signer.entity_id == DSP


def test_many_made_up_signers_do_not_grow_the_cache_without_bound():
    store = TrustStore([x509.load_pem_x509_certificate(DSP_CERT.read_bytes())])
    verifier = Verifier(store)
    good = signed("ppmid-activated")
    root = etree.fromstring(good)
    issuer = root.find(".//{*}X509IssuerName")
    for i in range(600):       # the same certificate named with different spacing: each a new cache key
        issuer.text = " " * i + "CN=Z1,OU=07"
        read_message(etree.tostring(root), verifier)
    assert len(verifier._signers) <= 256
