"""Per-device campaign states: the vocabulary the campaign store, the emulator adaptor and the reports share.
Every transition is an event row (device, simulated time, state, reason); the reasons, and which outcome
leads to which state, are in outcomes.py.

A device moves targeted -> requested (SRV 11.4 sent) -> image_at_ch -> downloading -> downloaded ->
activated -> verified (running version read back with SRV 11.2); or ends in one of the failure states with a
reason. Only ``verified`` counts as success.
"""

from __future__ import annotations

from enum import IntEnum


class State(IntEnum):
    TARGETED = 0
    REQUESTED = 1
    IMAGE_AT_CH = 2
    DOWNLOADING = 3
    DOWNLOADED = 4
    ACTIVATED = 5
    VERIFIED = 6
    # end states other than success
    TRANSFER_FAILED = 10
    HASH_MISMATCH = 11
    ACTIVATION_FAILED = 12
    UNREACHABLE = 13
    NOT_ELIGIBLE = 14
    CANCELLED = 15
    WITHDRAWN = 16          # left the campaign's scope before it was requested (e.g. changed supplier)

    @property
    def label(self) -> str:
        return self.name.lower()
