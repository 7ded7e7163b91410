"""Per-device campaign states and reason codes: the vocabulary the campaign store, the emulator adaptor and
the reports share. Every transition is an event row (device, simulated time, state, reason).

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

    @property
    def label(self) -> str:
        return self.name.lower()


IN_PROGRESS = frozenset({State.TARGETED, State.REQUESTED, State.IMAGE_AT_CH, State.DOWNLOADING,
                         State.DOWNLOADED, State.ACTIVATED})
FAILED = frozenset({State.TRANSFER_FAILED, State.HASH_MISMATCH, State.ACTIVATION_FAILED, State.UNREACHABLE})
FINAL = frozenset({State.VERIFIED, State.NOT_ELIGIBLE, State.CANCELLED}) | FAILED


class Reason(IntEnum):
    NONE = 0
    # why a device is not eligible (it is never requested)
    JOINED_AS_CAD = 1          # joined the HAN as a CAD: cannot take OTA firmware; needs a site visit
    SUSPENDED = 2
    DECOMMISSIONED = 3
    NOT_COMMISSIONED = 4
    HARDWARE_MISMATCH = 5
    NO_UPGRADE_PATH = 6        # running version may not be followed by the campaign's version
    ALREADY_CURRENT = 7
    EXCLUDED = 8               # an operator's exclusion list
    NO_SAFE_PAIR_ORDER = 9     # no upgrade order keeps this pair compatible throughout (release table)
    # why a transfer or activation failed
    WAN_FAILURE = 20           # the image never reached the Communications Hub
    CH_OFFLINE = 21
    DEVICE_OFFLINE = 22
    HAN_LINK = 23              # too many consecutive block-exchange failures on the HAN
    BRIDGE_LINK = 24           # ... on the bridge link
    TIMEOUT = 25               # the campaign's per-device timeout ran out
    HASH_FAILURE = 26          # the reassembled image did not match its hash
    ACTIVATION_FAILURE = 27    # activation left the old version running
    READBACK_MISMATCH = 28     # SRV 11.2 read back a version other than the campaign's
    # operator actions
    ABORTED = 40               # the campaign was aborted (threshold or operator)
    RETRY_LIMIT = 41

    @property
    def label(self) -> str:
        return self.name.lower()
