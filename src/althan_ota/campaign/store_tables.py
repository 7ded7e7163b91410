"""Tables of the campaign store (DuckDB by default), as Arrow schemas: what the engine writes and the
reports read. Times are simulated seconds since the campaign started (``t``), so emulated and real runs
read the same way; ``campaign.started_at`` anchors them to wall-clock time.
"""

from __future__ import annotations

import pyarrow as pa

CAMPAIGNS = pa.schema([
    ("campaign_id", pa.string()),
    ("name", pa.string()),
    ("environment", pa.string()),          # "test" or "production"
    ("target_version", pa.uint32()),       # the image's file version
    ("image_sha256", pa.string()),
    ("created_at", pa.timestamp("s", tz="UTC")),
    ("started_at", pa.timestamp("s", tz="UTC")),
    ("status", pa.string()),               # planned, running, paused, aborted, finished
    ("plan_json", pa.string()),            # the full plan (targets, waves, caps, thresholds, retry policy)
])

# one row per device per campaign: where it is now
DEVICES = pa.schema([
    ("campaign_id", pa.string()),
    ("device_id", pa.string()),            # EUI-64, canonical form
    ("installation_id", pa.string()),
    ("ppmid_variant", pa.string()),
    ("wave", pa.int32()),                  # -1: not in any wave (not eligible)
    ("state", pa.uint8()),                 # campaign.State
    ("reason", pa.uint8()),                # campaign.Reason
    ("attempts", pa.int32()),
    ("t", pa.float64()),                   # when it entered its current state
    ("version_before", pa.uint32()),
    ("version_after", pa.uint32()),        # read back with SRV 11.2; equals version_before until verified
])

# every state transition
EVENTS = pa.schema([
    ("campaign_id", pa.string()),
    ("device_id", pa.string()),
    ("t", pa.float64()),
    ("state", pa.uint8()),
    ("reason", pa.uint8()),
    ("wave", pa.int32()),
    ("attempt", pa.int32()),
])

# what each device's transfers cost, summed over attempts
TRANSFERS = pa.schema([
    ("campaign_id", pa.string()),
    ("device_id", pa.string()),
    ("exchanges", pa.int64()),             # image block request/response exchanges
    ("retries", pa.int64()),               # exchange-level re-requests
    ("han_airtime_s", pa.float64()),
    ("bridge_airtime_s", pa.float64()),
    ("duty_cycle_wait_s", pa.float64()),
    ("download_s", pa.float64()),
])

# every SRV 11.4 request sent (one row per device and attempt, as its REQUESTED event) with the supplier the
# request book charged it to: the supplier of its unit's first targeted bridge when the wave ran. A resumed run
# rebuilds the book's supplier quotas from it, and the programme view charges requests by it, whatever a
# later fleet extract says. Stores written before it have no rows: their requests are charged by the fleet.
REQUESTS = pa.schema([
    ("campaign_id", pa.string()),
    ("device_id", pa.string()),
    ("t", pa.float64()),
    ("attempt", pa.int32()),
    ("supplier", pa.string()),             # null: the fleet named no supplier
])
