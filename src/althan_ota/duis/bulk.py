"""Verifying and parsing (or building and signing) many DUIS messages on every core.

Neither libxml2's parsing nor OpenSSL's ECDSA in ``cryptography`` lets two Python threads run at once here
(measured: two threads verify no faster than one), so the work goes to worker processes, each with its own
verifier (or signer) built once. Messages travel in chunks to keep the inter-process traffic small.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from ..errors import DuisError, ParameterError
from .reading import read_message
from .schema import load_schema
from .signing import Signer
from .trust import TrustStore
from .verify import Verifier

DEFAULT_CHUNK = 256

_worker: dict = {}


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _init_reader(certificates, expected_signers, schema_path, targets, accept_unsigned_errors) -> None:
    trust = TrustStore()
    for pem, source in certificates:
        trust.add_pem(pem, source)
    _worker["read"] = (Verifier(trust, expected_signers), None if schema_path is None else load_schema(schema_path),
                       targets, accept_unsigned_errors)


def _read_chunk(chunk: list[bytes]) -> list:
    verifier, schema, targets, accept = _worker["read"]
    return [_read_one(data, verifier, schema, targets, accept) for data in chunk]


def _read_one(data, verifier, schema, targets, accept):
    try:
        return read_message(data, verifier, schema=schema, targets=targets, accept_unsigned_errors=accept)
    except DuisError as exc:
        return exc


def _init_signer(key: bytes, certificate: bytes) -> None:
    _worker["sign"] = Signer(key, certificate)


def _sign_chunk(jobs: list) -> list[bytes]:
    signer = _worker["sign"]
    return [_sign_one(signer, build(**kwargs)) for build, kwargs in jobs]


def _sign_one(signer: Signer, message) -> bytes:
    # a builder gives a tree, or (cheaper to sign) the message's C14N text (Signer.sign_canonical)
    return signer.sign_canonical(message) if isinstance(message, bytes) else signer.sign(message)


class _Pool:
    def __init__(self, workers: int | None, initializer, initargs):
        self.workers = default_workers() if workers is None else int(workers)
        if self.workers < 0:
            raise ParameterError("workers must be 0 (in this process) or more")
        self._initializer, self._initargs = initializer, initargs
        self._pool = None
        if self.workers == 0:
            initializer(*initargs)
        else:
            # spawn: safe in a process that already runs threads (an HTTP server, an event loop)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=initializer, initargs=initargs)

    def map_chunks(self, function, items: list, chunk: int) -> list:
        chunks = [items[i:i + chunk] for i in range(0, len(items), chunk)]
        if self._pool is None:
            parts = [function(c) for c in chunks]
        else:
            parts = list(self._pool.map(function, chunks))
        return [result for part in parts for result in part]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class BulkReader(_Pool):
    """``read(messages)`` -> one :class:`.Message` or :class:`DuisError` per message, in order.

    ``workers``: processes (default: one per core; 0 reads in this process). The other arguments are those of
    :class:`.Verifier` and :func:`.read_message`; ``schema`` is a path (each worker loads it once).
    """

    def __init__(self, trust: TrustStore, *, expected_signers=None, schema: str | Path | None = None,
                 targets=None, accept_unsigned_errors: bool = False, workers: int | None = None,
                 chunk: int = DEFAULT_CHUNK):
        certificates = [(t.certificate.public_bytes(Encoding.PEM), t.source) for t in trust]
        self.chunk = chunk
        super().__init__(workers, _init_reader, (certificates, expected_signers, None if schema is None else str(schema),
                                                 targets, accept_unsigned_errors))

    def read(self, messages, chunk: int | None = None) -> list:
        """``chunk``: messages per worker task for this call (default: the reader's)."""
        return self.map_chunks(_read_chunk, [bytes(m) for m in messages], chunk or self.chunk)


class BulkSigner(_Pool):
    """``sign(jobs)`` -> signed message bytes, in order. A job is ``(builder, kwargs)``: a module-level function
    returning an unsigned root element (one of :mod:`.requests`, :mod:`.responses` or the caller's own), or the
    unsigned message's C14N 1.0 text as bytes (signed with :meth:`.Signer.sign_canonical`), and its keyword
    arguments, which must pickle."""

    def __init__(self, private_key: str | Path | bytes, certificate: str | Path | bytes, *,
                 workers: int | None = None, chunk: int = DEFAULT_CHUNK):
        key = Path(private_key).read_bytes() if isinstance(private_key, (str, Path)) else bytes(private_key)
        cert = Path(certificate).read_bytes() if isinstance(certificate, (str, Path)) else bytes(certificate)
        Signer(key, cert)           # a bad key or certificate fails here, not in a worker
        self.chunk = chunk
        super().__init__(workers, _init_signer, (key, cert))

    def sign(self, jobs) -> list[bytes]:
        return self.map_chunks(_sign_chunk, list(jobs), self.chunk)
