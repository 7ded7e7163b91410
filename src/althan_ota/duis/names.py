"""The names DUIS messages are made of: namespaces, the XML-DSig algorithm identifiers DCC Boxed uses, and
the limits the DUIS 5.4 schema sets."""

from __future__ import annotations

SR = "http://www.dccinterface.co.uk/ServiceUserGateway"     # DUIS requests and responses
DS = "http://www.w3.org/2000/09/xmldsig#"

SCHEMA_VERSION = "5.4"

# XML-DSig algorithms: DCC Boxed signs with exactly these (enveloped signature over the whole document,
# SignedInfo in exclusive C14N, ECDSA P-256 with SHA-256, SHA-256 digest)
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_WITH_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_10_WITH_COMMENTS = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"

# DUIS 5.4 schema limits
MAX_DEVICE_IDS = 50_000             # DeviceIDList: maxLength 1199999 = 50,000 IDs of 23 chars + commas
MAX_FIRMWARE_IMAGE = 10_240_000     # FirmwareImage: base64Binary, maxLength (decoded octets)
MAX_INVENTORY_DEVICES = 17          # DSPInventory: Device maxOccurs


def sr(local: str) -> str:
    return f"{{{SR}}}{local}"


def ds(local: str) -> str:
    return f"{{{DS}}}{local}"


def local_name(tag) -> str:
    """``{namespace}Name`` -> ``Name`` (comments and processing instructions have no name: '')."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""
