"""One exception hierarchy. Each subclass also inherits the builtin a caller would naturally catch."""


class AltHanError(Exception):
    """Base class of every error althan-ota raises on purpose."""


class ParameterError(AltHanError, ValueError):
    """An argument is out of its documented range."""


class BackendError(AltHanError, ValueError):
    """A CPU tier was asked for that is not built or not supported here."""


class ImageFormatError(AltHanError, ValueError):
    """A firmware image's bytes do not follow the format; the message names field, offset and expectation."""


class InvalidTag(AltHanError, ValueError):
    """A CCM* MIC (or other authentication tag) did not verify."""


class SignatureError(AltHanError, ValueError):
    """A signature is missing, malformed or does not verify."""


class InventoryError(AltHanError, ValueError):
    """An inventory extract or report input is malformed; the message names file, line and column."""


class ReleaseError(AltHanError, ValueError):
    """A release bundle is tampered, for another environment, or signed by an unknown key."""


class CampaignError(AltHanError, RuntimeError):
    """A campaign cannot proceed as asked (bad state transition, missing store, refused image)."""


class CampaignStoreError(CampaignError):
    """The campaign store could not be written (a full disk, a lost device); what was committed is intact."""


class FrameError(AltHanError, ValueError):
    """A radio frame is malformed, does not fit its layer's rules, or failed its FCS / MIC / replay check."""


class CaptureError(AltHanError, ValueError):
    """A capture file cannot be read: not pcap/pcapng, a link type other than IEEE 802.15.4, or cut short."""


class DuisError(AltHanError, ValueError):
    """A DUIS message is malformed, not schema-valid, unsigned, tampered or signed by an unknown key; the message
    names the element and the problem."""
