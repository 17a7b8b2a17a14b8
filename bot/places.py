"""Which grid a request is about, and how that was found — every request must land in its grid, because the
grid decides the township that cooperates (属地) and whose grid worker follows it up. In this order:

    location     a shared location inside a grid's boundary           (point in polygon: bot/countymap.py)
    near         … just outside every grid, within the tolerance      (the nearest grid)
    place        a place of the gazetteer named in the text           (several grids share the name: ask;
                 a place with a point in the gazetteer gives the request that point, so staff can navigate)
    grid_worker  the grid worker who files it (巡查, 代办)
    home         the resident's registered grid (county file or invite)
    chosen       the resident picked it when asked (township, then grid)
    —            nobody knows: the resident is asked once, with the draft; filed anyway without an answer
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from storage.models import Member, Role

LOCATION, NEAR, PLACE, GRID_WORKER, HOME, CHOSEN = "location", "near", "place", "grid_worker", "home", "chosen"


class Map(Protocol):
    """What the county's grid map answers (bot/countymap.GridMap)."""

    def locate(self, lat: float, lon: float) -> tuple[str, str] | None: ...

    def places_in(self, text: str) -> list[tuple[str, list[str]]]: ...

    def point(self, name: str, grid_code: str) -> tuple[float, float] | None: ...


@dataclass
class Found:
    grid_code: str | None = None
    source: str | None = None
    choices: list[str] = field(default_factory=list)  # grid codes sharing the place name (ask which)
    place: str | None = None  # the place named
    off_map: bool = False  # a location was shared, but it is in no grid (nor near one)
    point: tuple[float, float] | None = None  # the place's own point (lat, lon), when the gazetteer has one


def valid_location(lat: float | None, lon: float | None) -> bool:
    """A location a phone could have sent from China: not 0,0 (a phone without a fix), within lat/lon ranges."""
    if lat is None or lon is None:
        return False
    return -90 <= lat <= 90 and -180 <= lon <= 180 and not (abs(lat) < 1e-6 and abs(lon) < 1e-6)


def find_grid(grid_map: Map | None, member: Member, text: str, lat: float | None, lon: float | None,
              home_grid: str | None) -> Found:
    """The grid of a request, by the order in the module docstring."""
    off_map = False
    if grid_map is not None and valid_location(lat, lon):
        located = grid_map.locate(lat, lon)
        if located is not None:
            return Found(located[0], LOCATION if located[1] == "inside" else NEAR)
        off_map = True
    if grid_map is not None:
        for name, codes in grid_map.places_in(text or ""):
            if len(codes) == 1:
                return Found(codes[0], PLACE, place=name, point=grid_map.point(name, codes[0]))
            return Found(None, None, choices=sorted(codes), place=name, off_map=off_map)
    if home_grid is not None:
        return Found(home_grid, GRID_WORKER if member.role == Role.GRID_WORKER else HOME, off_map=off_map)
    return Found(off_map=off_map)
