"""ERP pages: master data, lots with their ledger, receiving, movements, shipments, trace, import."""

from ..processes import packages
from . import inventory, master, shipping, tracing  # noqa: F401 - each module adds its views to bp
from .blueprint import attempt, bp, refusal_message  # noqa: F401 - the package's public names

for _package in packages():  # the process packages' own pages under /erp
    if _package.add_pages is not None:
        _package.add_pages(bp)
