"""Places on the earth. Telegram sends WGS-84 coordinates (what GPS gives); so do the county file and every
distance here. (Chinese map services use GCJ-02: never mix the two without converting.)"""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
#: a location outside every grid still belongs to the nearest grid within this many metres (bot/countymap.py;
#: GRIDBOT_GRID_NEAR_M): a GPS fix is often 10–50 m off, and a county's grids seldom cover all of it
GRID_NEAR_M = 200.0


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine): metres-accurate at a county's scale."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
