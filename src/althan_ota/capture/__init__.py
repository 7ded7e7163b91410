"""Radio captures of OTA transfers: pcap/pcapng files of IEEE 802.15.4 frames that Wireshark decodes, one
device's download as a frame sequence (:func:`ota_session`), chosen installations' traffic from the emulator's
bytes fidelity (:func:`emulated_capture`), and the transfers rebuilt from a capture (:func:`read_transfers`)."""

from .emulated import EmulatedDevice, EmulatedFrame, emulated_capture  # noqa: F401
from .pcap import (LINKTYPE_IEEE802_15_4_NOFCS, LINKTYPE_IEEE802_15_4_WITHFCS, Capture, Record,  # noqa: F401
                   read_capture, write_pcap, write_pcapng)
from .reader import CaptureReport, FrameIssue, Transfer, read_transfers  # noqa: F401
from .session import Captured, SessionConfig, ota_session  # noqa: F401
