"""The stand-in's alerts as text (dcc/messages.alert_text, signed with Signer.sign_canonical) are the messages
its lxml builders give: for every variant and many values the text is byte for byte the C14N of alert()'s
tree, and the signed message is schema-valid, verifies with the DSP's certificate and reads as the same
records as the tree signed with Signer.sign. A changed byte does not verify."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from althan_ota.dcc import messages as msg
from althan_ota.duis import Verifier, read_message
from althan_ota.duis.identifiers import RequestId
from althan_ota.duis.xmldsig import canonical
from althan_ota.errors import DuisError
from duis_data import DSP, USER, dsp_signer, schema, trust

VARIANTS = [("csp", {"delivered": True}), ("csp", {"delivered": False}),
            ("ch", {"result": "FileTransferSuccess"}), ("ch", {"result": "FileTransferFailure"}),
            ("ch", {"result": "FirmwareImageDiscarded"}), ("ppmid", {"activated": True}),
            ("ppmid", {"activated": False})]


def _eui(rng: random.Random) -> str:
    return "-".join(f"{rng.randrange(256):02x}" for _ in range(8))      # lower case: the builders normalise


def _fields(kind: str, choice: dict, rng: random.Random) -> dict:
    fields = dict(choice, device_id=_eui(rng), version=rng.randrange(1 << 32))
    if kind != "ppmid":
        fields.update(ch_id=_eui(rng), update_request_id=RequestId.make(USER, DSP, rng.randrange(1 << 64)))
    return fields


@pytest.mark.parametrize("kind,choice", VARIANTS)
def test_alert_text_is_the_canonical_form_of_the_built_alert(kind, choice):
    rng = random.Random(f"{kind}{choice}")
    for _ in range(50):
        fields = _fields(kind, choice, rng)
        t = rng.uniform(0, 30 * 86400)
        epoch, scale = ((msg.EPOCH, 1.0) if rng.random() < 0.5 else
                        (datetime.fromtimestamp(rng.uniform(1.7e9, 1.8e9), timezone.utc), rng.uniform(1, 1e4)))
        args = (kind, fields, t, DSP, USER, rng.randrange(1 << 64))
        built = msg.alert(*args, epoch=epoch, time_scale=scale)
        assert msg.alert_text(*args, epoch=epoch, time_scale=scale) == canonical(built.getroottree(), exclusive=False)


@pytest.mark.parametrize("kind,choice", VARIANTS)
def test_signed_alert_text_verifies_and_reads_as_the_signed_tree(kind, choice):
    rng = random.Random(f"signed {kind}{choice}")
    signer, verifier, duis_schema = dsp_signer(), Verifier(trust(), expected_signers=[DSP]), schema()
    fields = _fields(kind, choice, rng)
    args = (kind, fields, 4321.5, DSP, USER, 77)
    fast = read_message(signer.sign_canonical(msg.alert_text(*args)), verifier, schema=duis_schema)
    slow = read_message(signer.sign(msg.alert(*args)), verifier, schema=duis_schema)
    assert fast.records == slow.records and fast.outcomes() == slow.outcomes()
    assert fast.response_id == slow.response_id and fast.response_datetime == slow.response_datetime


def test_a_changed_byte_of_signed_alert_text_does_not_verify():
    fields = _fields("ch", {"result": "FileTransferSuccess"}, random.Random(3))
    signed = dsp_signer().sign_canonical(msg.alert_text("ch", fields, 10.0, DSP, USER, 5))
    tampered = signed.replace(b"FileTransferSuccess", b"FileTransferFailure")
    assert tampered != signed
    with pytest.raises(DuisError, match="digest"):
        read_message(tampered, Verifier(trust(), expected_signers=[DSP]))
