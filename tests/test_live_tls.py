"""DUIS over HTTPS: the live executor and the DCC stand-in (real processes on 127.0.0.1) with mutual TLS, each
side presenting a certificate from a test CA and requiring the other's; and what happens when a certificate
is missing or not trusted."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import ssl
import urllib.error
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from althan_ota._tls import TlsConfig
from althan_ota.campaign import CampaignStore, create_campaign, run_campaign
from althan_ota.errors import CampaignError, ParameterError
from althan_ota.live import DccExecutor

from dcc_harness import StandIn
from live_peer import Setup, final_states, plan


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _issue(subject: str, issuer_key, issuer_name: x509.Name, *, ca: bool, key=None):
    """A certificate RFC 5280 strict checking accepts (Python 3.13's default SSL contexts use
    VERIFY_X509_STRICT: key identifiers, key usage)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    usage = dict(content_commitment=False, key_encipherment=False, data_encipherment=False,
                 key_agreement=False, encipher_only=False, decipher_only=False)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                              critical=False))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True,
                                                      **usage), critical=True)
    else:
        builder = (builder
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False,
                                                **usage), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
                                                         x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]),
                                  critical=False))
    return key, builder.sign(issuer_key, hashes.SHA256())


def _write(folder, name, key, cert):
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _pki(folder, ca_name: str):
    """A CA and two leaf certificates for 127.0.0.1 it issued: the DCC's and the user's."""
    folder.mkdir()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    _, ca_cert = _issue(ca_name, ca_key, _name(ca_name), ca=True, key=ca_key)
    ca_path = folder / "ca.crt"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    dcc = _write(folder, "dcc", *_issue("dcc", ca_key, ca_cert.subject, ca=False))
    user = _write(folder, "user", *_issue("user", ca_key, ca_cert.subject, ca=False))
    return ca_path, dcc, user


@pytest.fixture
def setup(tmp_path):
    s = Setup(tmp_path, installations=30, emulation=None)
    s.pki = _pki(tmp_path / "pki", "test CA")
    s.stand_ins = []
    yield s
    for server in s.stand_ins:
        server.stop()


def _stand_in(setup, tmp_path) -> StandIn:
    ca, (dcc_cert, dcc_key), _ = setup.pki
    server = StandIn(setup.fleet_path, tmp_path / "dcc.sqlite", f"https://{setup.listen[0]}:{setup.listen[1]}",
                     "--plan", str(setup.plan_path), "--seed", str(setup.seed), "--tls-cert", str(dcc_cert),
                     "--tls-key", str(dcc_key), "--tls-ca", str(ca), schema=False)
    setup.stand_ins.append(server)
    setup.peer_port = server.port
    return server


def _options(setup, tls: TlsConfig):
    return dataclasses.replace(setup.options(quiet_s=2.0), dcc_url=f"https://127.0.0.1:{setup.peer_port}", tls=tls)


def test_a_campaign_over_mutual_tls_ends_as_on_the_emulator(setup, tmp_path):
    expected = setup.emulator_states()
    _stand_in(setup, tmp_path)
    ca, _, (user_cert, user_key) = setup.pki
    with CampaignStore(tmp_path / "live.duckdb") as store:
        cid = create_campaign(store, plan(setup.fleet), setup.fleet, str(setup.fleet_path), seed=setup.seed,
                              campaign_id="tls")
        report = run_campaign(store, cid, fleet=setup.fleet,
                              executor=DccExecutor(_options(setup, TlsConfig(user_cert, user_key, ca))))
        assert report.status == "finished"
        assert final_states(store, cid) == expected


def test_a_dcc_certificate_from_another_ca_stops_the_run_with_the_reason(setup, tmp_path):
    _stand_in(setup, tmp_path)
    other_ca, _, (other_cert, other_key) = _pki(tmp_path / "other", "another CA")
    with CampaignStore(tmp_path / "live.duckdb") as store:
        cid = create_campaign(store, plan(setup.fleet), setup.fleet, str(setup.fleet_path), seed=setup.seed,
                              campaign_id="tls")
        with pytest.raises(CampaignError, match="TLS with the DCC at https://127.0.0.1"):
            run_campaign(store, cid, fleet=setup.fleet,
                         executor=DccExecutor(_options(setup, TlsConfig(other_cert, other_key, other_ca))))


def test_the_stand_in_refuses_a_client_without_a_certificate(setup, tmp_path):
    server = _stand_in(setup, tmp_path)
    ca = setup.pki[0]
    context = ssl.create_default_context(cafile=str(ca))      # trusts the stand-in, presents nothing
    request = urllib.request.Request(f"https://127.0.0.1:{server.port}/duis", data=b"<x/>", method="POST")
    with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
        urllib.request.urlopen(request, context=context, timeout=10).read()


def test_tls_options_are_checked_before_anything_runs(tmp_path):
    ca, (cert, key), _ = _pki(tmp_path / "pki", "test CA")
    with pytest.raises(ParameterError, match="--tls-cert and --tls-key go together"):
        TlsConfig(cert=cert)
    with pytest.raises(ParameterError, match="--tls-ca .*no such file"):
        TlsConfig(ca=tmp_path / "missing.crt")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(ParameterError, match="--tls-ca .*not PEM certificates"):
        TlsConfig(ca=garbage).client_context()
    with pytest.raises(ParameterError, match="not a matching PEM certificate and key"):
        TlsConfig(cert=cert, key=garbage).server_context()
    with pytest.raises(ParameterError, match="needs --tls-cert"):
        TlsConfig(ca=ca).server_context()
    assert TlsConfig(cert, key, ca).server_context().verify_mode == ssl.CERT_REQUIRED
    assert TlsConfig(cert, key).server_context().verify_mode == ssl.CERT_NONE
