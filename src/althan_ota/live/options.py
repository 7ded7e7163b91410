"""What a live run needs: where the DCC is, where to listen, the user's key and certificate, whom to trust."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .._tls import TlsConfig
from ..errors import ParameterError

# the request's (or a delivery's) emulated time, seconds since the campaign start: a DCC stand-in in its
# deterministic mode answers at the times the request book gives, not at the wall clock's
EMULATED_TIME_HEADER = "X-Althan-Emulated-Time"
DCC_BOXED_DSP = "90-B3-D5-1F-30-00-00-02"


@dataclass(frozen=True)
class LiveOptions:
    dcc_url: str                    # the DCC's DUIS endpoint base: requests go to {dcc_url}/duis
    listen: tuple[str, int]         # where the listener for responses and alerts binds
    key: Path                       # the user's XML-signing private key
    cert: Path                      # ... and its certificate (its subject names the user ID)
    certs: Path                     # trusted certificates: the DSP's signing certificates
    firmware: Path                  # the image SRV 11.4 carries
    schema: Path | None = None      # the DUIS XSD: validate what is received against it when given
    dsp_id: str = DCC_BOXED_DSP     # the DSP's entity ID: SRV 11.4's target and the signer of what comes back
    # deterministic mode: wall-clock seconds without any message after which silent devices time out;
    # wall-clock mode: how long past a device's deadline deliveries still in flight are waited for
    quiet_s: float = 5.0
    send_timeout_s: float = 60.0    # how long a request is retried while the DCC does not answer
    # None: deterministic mode (each request carries its request-book time in EMULATED_TIME_HEADER, for the
    # DCC stand-in); S: wall-clock mode, emulated seconds per wall second (1 for a real DCC): requests are held
    # until the run's clock reaches their book time, messages dated by their ResponseDateTime (live/clock.py)
    time_scale: float | None = None
    # HTTPS: the listener serves tls.cert (asking the DCC for a certificate chaining to tls.ca when given), and
    # an https:// dcc_url is reached presenting tls.cert and trusting tls.ca (or the system's roots)
    tls: TlsConfig = field(default_factory=TlsConfig)

    def __post_init__(self):
        if self.time_scale is not None and not (isinstance(self.time_scale, (int, float))
                                                and 0 < self.time_scale < float("inf")):
            raise ParameterError(f"time_scale must be a positive number of emulated seconds per wall second, "
                                 f"got {self.time_scale!r}")
        if not self.quiet_s >= 0:
            raise ParameterError(f"quiet_s must be >= 0, got {self.quiet_s!r}")


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ParameterError(f"--listen {text!r}: give HOST:PORT, e.g. 127.0.0.1:8081")
    return host, int(port)
