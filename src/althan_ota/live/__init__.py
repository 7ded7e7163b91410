"""Live campaigns: the campaign's waves carried out on the DCC over DUIS instead of the emulator.

:class:`DccExecutor` plugs into the shared wave loop (``campaign.run_campaign(..., executor=...)``): it sends
signed SRV 11.4 requests paced by the request book, runs the listener that receives the DCC's signed
responses and alerts (:mod:`.listener`), reads versions back with SRV 8.2 and moves each device through the
outcome table. Everything it sends and receives goes through the store's journal first (campaign/journal.py).
"""

from .executor import DccExecutor
from .options import EMULATED_TIME_HEADER, LiveOptions

__all__ = ["DccExecutor", "EMULATED_TIME_HEADER", "LiveOptions"]
