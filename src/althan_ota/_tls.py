"""TLS for the DUIS transport: the DCC's interface and the user's listener speak HTTPS, each side presenting its
certificate (mutual TLS) when given one. One place builds the SSL contexts for the live executor (client of the
DCC, server of its listener) and the DCC stand-in (server of requests, client delivering to the listener)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from .errors import ParameterError


@dataclass(frozen=True)
class TlsConfig:
    """``cert`` / ``key``: our certificate chain and its private key (PEM), served by our server and presented
    as client certificate by our client; ``ca``: PEM certificates that the peer's certificate must chain to
    (None: the system's trust store, and a server asks clients for no certificate)."""

    cert: Path | None = None
    key: Path | None = None
    ca: Path | None = None

    def __post_init__(self):
        if (self.cert is None) != (self.key is None):
            raise ParameterError("--tls-cert and --tls-key go together")
        for option, path in (("--tls-cert", self.cert), ("--tls-key", self.key), ("--tls-ca", self.ca)):
            if path is not None and not Path(path).is_file():
                raise ParameterError(f"{option} {path}: no such file")

    @property
    def serves(self) -> bool:
        return self.cert is not None

    def server_context(self) -> ssl.SSLContext:
        """For our HTTPS server; with ``ca``, clients must present a certificate that chains to it."""
        if not self.serves:
            raise ParameterError("an HTTPS server needs --tls-cert and --tls-key")
        context = self._context(ssl.Purpose.CLIENT_AUTH)
        self._load_chain(context)
        if self.ca is not None:
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    def client_context(self) -> ssl.SSLContext:
        """For our HTTPS client: the server must chain to ``ca`` (or the system's roots) and match the host
        name; our certificate is presented when we have one."""
        context = self._context(ssl.Purpose.SERVER_AUTH)
        if self.serves:
            self._load_chain(context)
        return context

    def _load_chain(self, context: ssl.SSLContext) -> None:
        try:
            context.load_cert_chain(self.cert, self.key)
        except (ssl.SSLError, OSError) as exc:
            raise ParameterError(f"--tls-cert {self.cert} / --tls-key {self.key}: not a matching PEM certificate "
                                 f"and key ({exc.strerror or exc})") from None

    def _context(self, purpose: ssl.Purpose) -> ssl.SSLContext:
        """Trusting only ``ca`` when given (not the system's roots as well)."""
        try:
            context = ssl.create_default_context(purpose, cafile=None if self.ca is None else str(self.ca))
        except (ssl.SSLError, OSError) as exc:
            raise ParameterError(f"--tls-ca {self.ca}: not PEM certificates ({exc.strerror or exc})") from None
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context
