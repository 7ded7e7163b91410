"""Reading untrusted DUIS bytes into an lxml tree without letting the document reach anything else.

A DOCTYPE (and with it every DTD, external entity and entity-expansion trick) is refused outright; the
parser would not act on one anyway (no DTD loading, no network, no entity substitution, and a resolver that
refuses every external resource), so nothing is fetched or read even if the text scan is fooled (UTF-16).
Messages are bounded in size and libxml2's own limits stay on (``huge_tree`` off: text nodes of at most
10,000,000 characters, nesting depth 256).
"""

from __future__ import annotations

import threading

from lxml import etree

from ..errors import DuisError

# An SRV 11.4 at the schema's limits (a 10,240,000-byte image in base64 and 50,000 device IDs) is ~14.9 MB.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


class _RefuseEverything(etree.Resolver):
    def resolve(self, system_url, public_id, context):
        raise DuisError(f"the message refers to an external resource ({system_url!r}); DUIS messages never do")


_local = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers must not be shared between threads
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                                 huge_tree=False, remove_blank_text=False, remove_comments=False,
                                 collect_ids=False)
        parser.resolvers.add(_RefuseEverything())
        _local.parser = parser
    return parser


def parse_bytes(data, max_bytes: int = MAX_MESSAGE_BYTES) -> etree._Element:
    """The root element of the XML document in ``data`` (bytes), or DuisError saying why it is refused."""
    if isinstance(data, str):
        raise DuisError("a DUIS message is bytes (UTF-8 XML), not str")
    try:
        data = bytes(data)
    except TypeError:
        raise DuisError(f"a DUIS message is bytes, not {type(data).__name__}") from None
    if len(data) > max_bytes:
        raise DuisError(f"the message is {len(data):,} bytes, over the {max_bytes:,}-byte limit")
    if not data.strip():
        raise DuisError("the message is empty")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise DuisError("the message carries a DOCTYPE or entity declaration; DUIS messages never do "
                        "(refused without resolving anything)")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        if "Text node too long" in str(exc):
            raise DuisError(f"an element's text is over libxml2's 10,000,000-character limit (huge_tree stays "
                            f"off), e.g. an SRV 11.4 FirmwareImage of more than 7.5 MB: {exc}") from None
        raise DuisError(f"not well-formed XML: {exc}") from None
    except DuisError:
        raise
    except (ValueError, etree.LxmlError) as exc:       # e.g. an unknown encoding declaration
        raise DuisError(f"not readable as XML: {exc}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise DuisError("the message carries a DOCTYPE; DUIS messages never do")
    return root
