"""Bulk DUIS: worker processes give exactly what one-by-one reading gives (errors in place); records pickle;
the campaign store's originator counters only ever increase, across runs."""

from __future__ import annotations

import pickle

import pytest

from althan_ota.campaign.store import CampaignStore
from althan_ota.duis import Verifier, read_message
from althan_ota.duis import responses as rs
from althan_ota.duis.bulk import BulkReader, BulkSigner
from althan_ota.errors import CampaignError, DuisError
from duis_data import DEVICES, DSP, DSP_CERT, DSP_KEY, KINDS, USER, VERSION, WHEN, signed, trust


def _messages() -> list[bytes]:
    good = [signed(kind) for kind in KINDS]
    bad = [good[0].replace(b"<sr:Body>", b"<sr:Body> "), b"<not-xml", good[5][:-40]]
    return [*good, *bad, *good]


@pytest.mark.parametrize("workers", [0, 2])
def test_bulk_reader_gives_what_read_message_gives(workers):
    messages = _messages()
    verifier = Verifier(trust())
    expected = []
    for data in messages:
        try:
            expected.append(read_message(data, verifier, targets=VERSION))
        except DuisError as exc:
            expected.append(exc)
    with BulkReader(trust(), targets=VERSION, workers=workers, chunk=7) as reader:
        got = reader.read(messages)
    assert len(got) == len(expected)
    for ours, theirs in zip(got, expected):
        if isinstance(theirs, DuisError):
            assert isinstance(ours, DuisError) and str(ours) == str(theirs)
        else:
            assert ours == theirs


def test_records_pickle_compactly():
    message = read_message(signed("ack-warnings"), Verifier(trust()))
    copy = pickle.loads(pickle.dumps(message))
    assert copy == message and copy.response_code is message.response_code      # the shared table entry
    assert copy.records[1].device_ids == message.records[1].device_ids


def _activation(device: str, counter: int, activated: bool):
    return rs.dcc_alert("N44", rs.ppmid_firmware_activation(device, "8F85", VERSION, activated, timestamp=WHEN),
                        WHEN, dsp_id=DSP, user_id=USER, counter=counter)


@pytest.mark.parametrize("workers", [0, 2])
def test_bulk_signer_output_verifies(workers):
    jobs = [(_activation, {"device": d, "counter": i + 1, "activated": i % 3 != 0}) for i, d in enumerate(DEVICES)]
    with BulkSigner(DSP_KEY, DSP_CERT, workers=workers, chunk=5) as signer:
        out = signer.sign(jobs)
    verifier = Verifier(trust(), DSP)
    outcomes = [read_message(data, verifier).outcomes()[0] for data in out]
    assert outcomes == [(d, "ppmid_activation_success" if i % 3 else "ppmid_activation_failure")
                        for i, d in enumerate(DEVICES)]


def test_originator_counters_increase_across_runs(tmp_path):
    path = tmp_path / "store.duckdb"
    with CampaignStore(path) as store:
        assert store.last_request_counter(USER) is None
        first = store.next_request_counters(USER, 1000)
        assert first == range(1, 1001)
        assert store.next_request_counters(USER) == range(1001, 1002)
        assert store.next_request_counters(DSP, 2) == range(1, 3)          # per user
    with CampaignStore(path) as store:                                     # a new run
        assert store.last_request_counter(USER) == 1001
        assert store.next_request_counters(USER, 3) == range(1002, 1005)
        assert store.next_request_counters(USER, 1, floor=1_700_000_000_000) == range(1_700_000_000_000,
                                                                                      1_700_000_000_001)
        assert store.next_request_counters(USER, 1, floor=5) == range(1_700_000_000_001, 1_700_000_000_002)


def test_originator_counters_stop_at_the_duis_limit(tmp_path):
    with CampaignStore(tmp_path / "store.duckdb") as store:
        assert store.next_request_counters(USER, 2, floor=2**64 - 2) == range(2**64 - 2, 2**64)
        with pytest.raises(CampaignError, match="2\\^64-1"):
            store.next_request_counters(USER)
        assert store.last_request_counter(USER) == 2**64 - 1               # the failed reservation took nothing
        with pytest.raises(CampaignError, match="at least one"):
            store.next_request_counters(USER, 0)
