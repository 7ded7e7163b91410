"""Reports: the DCC-style fleet firmware report, supplier reports, reconciliation with the Alt HAN Inventory,
out-of-sync pairs with their likely cause, campaign views, and one self-contained HTML page with plots."""

from .inputs import read_compatibility
from .listing import read_listing
from .reconcile import Reconciliation, reconcile
from .report_session import Session
from .store_reader import Store, open_store

__all__ = ["Reconciliation", "Session", "Store", "open_store", "read_compatibility", "read_listing", "reconcile"]
