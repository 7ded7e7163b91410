"""The live executor's listener on 127.0.0.1: duplicate, reordered, late, unsigned, tampered and wrongly signed
deliveries, and a flood of bad messages that does not block good ones."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import aiohttp
import pytest

from althan_ota.campaign import CampaignStore, create_campaign
from althan_ota.duis import responses as rs
from althan_ota.live import EMULATED_TIME_HEADER, DccExecutor

from duis_data import DSP, USER, dsp_signer, user_signer
from live_peer import Setup, plan

CH = "00-DB-12-34-56-78-FF-00"
WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
def live(tmp_path):
    setup = Setup(tmp_path, installations=4)
    setup.peer_port = 9         # nothing is sent to the DCC in these tests
    store = CampaignStore(tmp_path / "live.duckdb")
    cid = create_campaign(store, plan(setup.fleet), setup.fleet, str(setup.fleet_path), campaign_id="live")
    executor = DccExecutor(setup.options())
    with executor.session(store, cid) as ex:
        ex.url = f"http://{setup.listen[0]}:{setup.listen[1]}/duis"
        yield ex
    store.close()


def _transfer_alert(device: str, counter: int, result: str = "FileTransferSuccess", signer=None) -> bytes:
    alert = rs.comms_hub_firmware_transfer(CH, "8F84", device, 0x01040000, result)
    root = rs.dcc_alert("N42", alert, WHEN, dsp_id=DSP, user_id=USER, counter=counter)
    return (signer or dsp_signer()).sign(root)


def _post_all(ex, bodies: list[bytes], t: float = 100.0) -> list[tuple[int, str]]:
    async def post(client, body):
        async with client.post(ex.url, data=body, headers={EMULATED_TIME_HEADER: repr(t)}) as r:
            return r.status, await r.text()

    async def go():
        async with aiohttp.ClientSession() as client:
            return await asyncio.gather(*(post(client, b) for b in bodies))

    return ex.loop.run_until_complete(go())


def test_a_message_is_stored_once_and_a_duplicate_is_acknowledged_and_ignored(live):
    body = _transfer_alert("00-DB-12-34-56-78-00-01", 1)
    assert _post_all(live, [body]) == [(200, "stored")]
    assert _post_all(live, [body]) == [(200, "duplicate")]
    assert live.journal.messages() == [("00-DB-12-34-56-78-00-01", "ch_transfer_success", 100.0)]


@pytest.mark.parametrize("damage", ["unsigned", "tampered", "user-signed", "garbage", "bad-time"])
def test_a_message_that_does_not_verify_is_refused_logged_and_moves_nothing(live, damage):
    device = "00-DB-12-34-56-78-00-02"
    body = _transfer_alert(device, 2)
    headers_time = 5.0
    if damage == "unsigned":
        body = body[:body.index(b"<ds:Signature")] + b"</sr:Response>"
    elif damage == "tampered":
        body = body.replace(b"FileTransferSuccess", b"FileTransferFailure")
    elif damage == "user-signed":
        body = _transfer_alert(device, 2, signer=user_signer())
    elif damage == "garbage":
        body = b"<not duis"
    elif damage == "bad-time":
        headers_time = float("nan")
    [(status, text)] = _post_all(live, [body], t=headers_time)
    assert status == 400 and text.startswith("refused:")
    assert live.journal.messages() == []
    assert len(live.journal.refused()) == 1 and live.journal.refused()[0]


def test_a_flood_of_bad_messages_does_not_block_good_ones(live):
    good = [_transfer_alert(f"00-DB-12-34-56-78-01-{i:02X}", 100 + i) for i in range(20)]
    bad = [b"<x/>", _transfer_alert(CH, 999).replace(b"FileTransferSuccess", b"FileTransferFailure")] * 100
    mixed = [m for pair in zip(bad[::10], good) for m in pair] + bad
    answers = _post_all(live, mixed)
    assert sum(s == 200 for s, _ in answers) == 20 and sum(s == 400 for s, _ in answers) == len(mixed) - 20
    assert len(live.journal.messages()) == 20 and len(live.journal.refused()) == len(mixed) - 20


def test_late_and_reordered_deliveries_are_read_in_emulated_time(live):
    device = "00-DB-12-34-56-78-00-03"
    t0, timeout = 1000.0, 3600.0
    # delivered in the wrong order: the activation before the transfer; and one long after the timeout
    ppmid = rs.ppmid_firmware_activation(device, "8F85", 0x01040000, True)
    activation = dsp_signer().sign(rs.dcc_alert("N42", ppmid, WHEN, dsp_id=DSP, user_id=USER, counter=7))
    assert _post_all(live, [activation], t=t0 + 20) == [(200, "stored")]
    assert _post_all(live, [_transfer_alert(device, 8)], t=t0 + 10) == [(200, "stored")]
    assert _post_all(live, [_transfer_alert(device, 9, "FileTransferFailure")], t=t0 + timeout + 1) \
        == [(200, "stored")]
    heard = live._heard(device, t0, timeout)
    assert [s.label for _, s in heard.stages] == ["downloaded", "activated"]
    assert heard.activated_at == t0 + 20 and heard.final is None      # the late failure is not this attempt's
    # a message from before the request (an earlier attempt's) is not this attempt's either
    assert live._heard(device, t0 + 15, timeout).stages == [(t0 + 20, heard.stages[1][1])]


def test_with_the_schema_a_signed_but_invalid_message_is_refused(tmp_path):
    from lxml import etree

    from duis_data import SCHEMA_PATH

    setup = Setup(tmp_path, installations=4)
    setup.peer_port = 9
    options = dataclasses.replace(setup.options(), schema=SCHEMA_PATH)
    with CampaignStore(tmp_path / "live.duckdb") as store:
        cid = create_campaign(store, plan(setup.fleet), setup.fleet, str(setup.fleet_path), campaign_id="live")
        with DccExecutor(options).session(store, cid) as ex:
            ex.url = f"http://{setup.listen[0]}:{setup.listen[1]}/duis"
            alert = rs.comms_hub_firmware_transfer(CH, "8F84", "00-DB-12-34-56-78-00-04", 0x01040000,
                                                   "FileTransferSuccess")
            root = rs.dcc_alert("N42", alert, WHEN, dsp_id=DSP, user_id=USER, counter=11)
            etree.SubElement(root.find(".//{*}FirmwareTransferAlert"), "Unexpected").text = "x"
            invalid = dsp_signer().sign(root)
            valid = _transfer_alert("00-DB-12-34-56-78-00-05", 12)
            assert [s for s, _ in _post_all(ex, [invalid, valid])] == [400, 200]
            assert [m[0] for m in ex.journal.messages()] == ["00-DB-12-34-56-78-00-05"]
            assert "Unexpected" in ex.journal.refused()[0]
