"""Parse untrusted XML without DTDs, entity expansion or network access (XXE, billion laughs)."""

from __future__ import annotations

from lxml import etree

from .errors import BundleError


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def parse_xml(source: str | bytes, filename: str) -> etree._ElementTree:
    """Parse `source` (str or bytes) to an element tree, refusing any DOCTYPE."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    try:
        tree = etree.fromstring(data, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise BundleError(
            [{"file": filename, "line": line, "element": None, "message": f"not well-formed XML: {exc.msg}"}]
        ) from None
    if tree.docinfo.doctype:
        raise BundleError(
            [{"file": filename, "line": 1, "element": None, "message": "DOCTYPE declarations are not allowed"}]
        )
    return tree
