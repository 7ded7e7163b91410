"""One call from received bytes to records: parse once, validate against the schema (when given), verify the
signature on that tree, read the records from the same tree."""

from __future__ import annotations

from ..errors import DuisError
from .names import ds, sr
from .parse import parse_tree
from .records import Message
from .safe_xml import MAX_MESSAGE_BYTES, parse_bytes
from .verify import Verifier


def read_message(data, verifier: Verifier | None, *, schema=None, targets=None,
                 accept_unsigned_errors: bool = False, max_bytes: int = MAX_MESSAGE_BYTES) -> Message:
    """The :class:`Message` in ``data``, verified by ``verifier`` (None: not verified, e.g. to inspect a file).

    ``schema``: a :class:`.DuisSchema` to validate against first. ``targets``: see :func:`.parse_tree`.
    ``accept_unsigned_errors``: the DCC answers some failed requests synchronously with an unsigned
    response carrying an E code (DCC Boxed does); with this set such a response is read (``signer`` None)
    instead of refused. Use it only for the reply on the HTTPS connection the request went out on, never for
    messages arriving at a listener.
    """
    root = parse_bytes(data, max_bytes)
    if schema is not None:
        schema.validate(root)
    signer = None
    if verifier is not None:
        if accept_unsigned_errors and _is_unsigned_error(root):
            pass
        else:
            signer = verifier.verify(root)
    return parse_tree(root, signer, targets)


def _is_unsigned_error(root) -> bool:
    if root.tag != sr("Response") or next(root.iter(ds("Signature")), None) is not None:
        return False
    code = root.findtext(f"{sr('Header')}/{sr('ResponseCode')}")
    if code is None:
        raise DuisError("Response/Header: missing sr:ResponseCode")
    return code.strip().startswith("E")
