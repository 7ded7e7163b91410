"""pytest-benchmark: DUIS DCC alerts (a PPMID's activation alert) built and signed, and verified and parsed:
ours against signxml and against lxml + cryptography written plainly, in one benchmark group each. Every
implementation's output is checked before it is timed.

Run with ``python -m pytest bench/test_duis.py --benchmark-enable``.
"""

import pytest

from althan_ota.bench.duis import (activation_alert, credentials, plain_sign, plain_verify_and_read,
                                   signxml_sign, signxml_verifier)
from althan_ota.duis import Signer, TrustStore, Verifier, read_message

N = 500
SIGN = f"duis-alert-build-sign-{N}"
VERIFY = f"duis-alert-verify-parse-{N}"
OUTCOMES = ["ppmid_activation_success" if i % 5 else "ppmid_activation_failure" for i in range(N)]


@pytest.fixture(scope="module")
def material():
    key, pem, certificate = credentials()
    signer = Signer(pem, certificate)
    verifier = Verifier(TrustStore([certificate]))
    messages = [signer.sign(activation_alert(i)) for i in range(N)]
    return key, certificate, signer, verifier, messages


def _outcomes(verifier, messages):
    return [read_message(m, verifier).records[0].outcome for m in messages]


@pytest.mark.benchmark(group=SIGN)
def test_sign_althan(benchmark, material):
    _, _, signer, verifier, _ = material
    out = benchmark(lambda: [signer.sign(activation_alert(i)) for i in range(N)])
    assert _outcomes(verifier, out) == OUTCOMES


@pytest.mark.benchmark(group=SIGN)
def test_sign_plain_lxml_cryptography(benchmark, material):
    key, certificate, _, verifier, _ = material
    out = benchmark(lambda: [plain_sign(activation_alert(i), key, certificate) for i in range(N)])
    assert _outcomes(verifier, out) == OUTCOMES


@pytest.mark.benchmark(group=SIGN)
def test_sign_signxml(benchmark, material):
    pytest.importorskip("signxml")
    key, certificate, _, verifier, _ = material
    out = benchmark(lambda: [signxml_sign(activation_alert(i), key, certificate) for i in range(N)])
    assert _outcomes(verifier, out) == OUTCOMES


@pytest.mark.benchmark(group=VERIFY)
def test_verify_parse_althan(benchmark, material):
    *_, verifier, messages = material
    got = benchmark(lambda: [read_message(m, verifier).records[0].outcome for m in messages])
    assert got == OUTCOMES


@pytest.mark.benchmark(group=VERIFY)
def test_verify_parse_plain_lxml_cryptography(benchmark, material):
    _, certificate, _, _, messages = material
    public_key = certificate.public_key()
    got = benchmark(lambda: [plain_verify_and_read(m, public_key) for m in messages])
    assert got == ["ActivationSuccess" if i % 5 else "ActivationFailure" for i in range(N)]


@pytest.mark.benchmark(group=VERIFY)
def test_verify_parse_signxml(benchmark, material):
    pytest.importorskip("signxml")
    _, certificate, _, _, messages = material
    check = signxml_verifier(certificate)
    got = benchmark(lambda: [check(m) for m in messages])
    assert got == ["ActivationSuccess" if i % 5 else "ActivationFailure" for i in range(N)]
