"""DUIS, the DCC User Interface: the signed XML a supplier exchanges with the DCC to update PPMID firmware.

- :mod:`.requests` builds SRV 11.4 / 8.2 / 12.2 / 11.2 requests, :mod:`.responses` what the DCC answers
  (for a DCC stand-in); :class:`Signer` signs either as DCC Boxed does.
- :func:`read_message` parses received bytes safely, validates them (:func:`load_schema`), verifies the
  signature against a :class:`TrustStore` (:class:`Verifier`) and returns a :class:`Message` of typed
  records, each with the campaign ``outcome`` it leads to; :class:`.bulk.BulkReader` does it in bulk on
  every core (and :class:`.bulk.BulkSigner` builds and signs in bulk).
- :data:`RESPONSE_CODES`: every DUIS response code and its meaning.
"""

from .codes import RESPONSE_CODES, ResponseCode, response_code
from .identifiers import RequestId
from .reading import read_message
from .records import OUTCOME_KEYS, Message
from .safe_xml import MAX_MESSAGE_BYTES, parse_bytes
from .schema import DuisSchema, load_schema
from .signing import Signer
from .trust import TrustStore
from .verify import SignerInfo, Verifier

__all__ = ["MAX_MESSAGE_BYTES", "Message", "OUTCOME_KEYS", "RESPONSE_CODES", "RequestId", "ResponseCode",
           "Signer", "SignerInfo", "TrustStore", "Verifier", "DuisSchema", "load_schema", "parse_bytes",
           "read_message", "response_code"]
