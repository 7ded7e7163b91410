"""Validation against the DUIS XML schema, which each DCC user holds (an SEC document): the package does not
ship it. Give the path of ``DUIS Schema V5.4.xsd`` (beside it: ``MMC Schema V5.4.xsd`` and
``xmldsig-core-schema.xsd``, which it imports), or set ALTHAN_OTA_DUIS_SCHEMA.

The schema is loaded once per path and reused. Its imports are resolved to files in the schema's own folder
only, never fetched. libxml2 reads ``schemaLocation`` as a URI and silently skips the import of
``MMC Schema V5.4.xsd`` (a space is not allowed in a URI): the loaded tree's locations are percent-encoded, as
a URI reference must be, and a resolver maps them back to the files (the schema files are not rewritten).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

from lxml import etree

from ..errors import DuisError, ParameterError

ENV_VAR = "ALTHAN_OTA_DUIS_SCHEMA"

_cache: dict[Path, "DuisSchema"] = {}
_cache_lock = threading.Lock()


class _SchemaFolderResolver(etree.Resolver):
    """Serves imported schema documents from one folder; refuses anything else."""

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = folder

    def resolve(self, system_url, public_id, context):
        name = Path(unquote(urlparse(system_url).path)).name
        candidate = self.folder / name
        if not candidate.is_file():
            raise DuisError(f"the schema imports {system_url!r}, which is not a file beside it in {self.folder}")
        return self.resolve_filename(str(candidate), context)


class DuisSchema:
    """A loaded DUIS schema: ``validate(root)`` raises DuisError naming the line, element and problem."""

    def __init__(self, path: str | Path):
        self.path = Path(path).resolve()
        if not self.path.is_file():
            raise ParameterError(f"no DUIS schema at {path}")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        parser.resolvers.add(_SchemaFolderResolver(self.path.parent))
        try:
            document = etree.parse(str(self.path), parser)
            _percent_encode_locations(document)
            self._schema = etree.XMLSchema(document)
        except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
            raise DuisError(f"cannot load the DUIS schema {self.path}: {exc}") from None
        self._lock = threading.Lock()   # an XMLSchema keeps its error log: one validation at a time

    def validate(self, root: etree._Element) -> None:
        with self._lock:
            if self._schema.validate(root):
                return
            errors = list(self._schema.error_log)
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise DuisError(f"not valid against {self.path.name}: line {first.line}: {first.message}{more}")

    def is_valid(self, root: etree._Element) -> bool:
        with self._lock:
            return bool(self._schema.validate(root))


def _percent_encode_locations(document) -> None:
    xs = "{http://www.w3.org/2001/XMLSchema}"
    for element in document.getroot().iter(f"{xs}import", f"{xs}include", f"{xs}redefine"):
        location = element.get("schemaLocation")
        if location:
            element.set("schemaLocation", quote(location, safe="/:%#?=&"))


def load_schema(path: str | Path | None = None) -> DuisSchema:
    """The schema at ``path`` (or ALTHAN_OTA_DUIS_SCHEMA), loaded once per process."""
    if path is None:
        path = os.environ.get(ENV_VAR, "").strip() or None
    if path is None:
        raise ParameterError(f"no DUIS schema given: pass its path (--schema) or set {ENV_VAR}")
    key = Path(path).resolve()
    with _cache_lock:
        schema = _cache.get(key)
        if schema is None:
            schema = _cache[key] = DuisSchema(key)
    return schema
