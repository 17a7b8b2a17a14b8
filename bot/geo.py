"""Places on the earth. Telegram sends WGS-84 coordinates (what GPS gives); so do the county file and every
distance here. (Chinese map services use GCJ-02: never mix the two without converting.) Distances by haversine;
shapes measured in metres on a local plane (:class:`Plane`, the grid map's geometry)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

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


class Plane:
    """A local equirectangular projection to metres around (lon0, lat0): affine, so straight borders stay
    straight and sides stay sides; within 0.5 % for distances over a county's 50 km."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.origin = np.array([lon0, lat0])
        self.scale = np.array([math.cos(math.radians(lat0)), 1.0]) * math.radians(1) * EARTH_RADIUS_M

    @classmethod
    def around(cls, shapes: Sequence[Any]) -> Plane:
        xmin, ymin, xmax, ymax = shapely.total_bounds(shapes)
        return cls((xmin + xmax) / 2, (ymin + ymax) / 2)

    def project(self, geometry: Any) -> Any:
        return shapely.transform(geometry, lambda xy: (xy - self.origin) * self.scale)

    def unproject(self, geometry: Any) -> Any:
        return shapely.transform(geometry, lambda xy: xy / self.scale + self.origin)

    def metres_to(self, flat_shape: Any, flat_point: Any, lat: float, lon: float) -> float:
        """Metres from the point (lat, lon), projected as ``flat_point``, to the nearest point of a projected
        shape: found in the plane, measured by haversine."""
        nearest = self.unproject(shapely.shortest_line(flat_shape, flat_point)).coords[0]
        return distance_m(lat, lon, nearest[1], nearest[0])
