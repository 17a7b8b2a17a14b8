"""The grid map: each grid's boundary and gazetteer from the county file, checked, and looked up. No Telegram.

**Coordinates.** A grid's ``boundary`` is a GeoJSON Polygon in WGS-84, the system GPS and Telegram use, with
positions in GeoJSON's order ``[longitude, latitude]`` (诸城: about ``[119.41, 35.99]``). Chinese map services
(高德, 腾讯: GCJ-02; 百度: BD-09) are offset by hundreds of metres: the county file must hold WGS-84.

**Checks** (:func:`check_map`, by entry): a Polygon with closed rings of at least four positions, numbers in
the longitude/latitude ranges and in China (latitude 18–54, longitude 73–135; a ring that only fits the other
way round is reported as swapped), a valid polygon (GEOS's ``explain_validity`` says where it self-intersects),
no two grids overlapping, gazetteer names neither empty, nor of one character (it would match everywhere),
nor longer than 40 characters (bot/gazetteer.py), nor twice in a grid; a place's point a [longitude, latitude]
pair checked as a boundary's positions are, and within bot.geo.GRID_NEAR_M (200 m) of its grid's boundary when
the grid has one (a point farther out is another grid's, or GCJ-02). **Overlaps**: a point in two grids goes to the lower
code, so borders drawn by hand that miss each other by centimetres are tolerated; an overlap is reported when its
area exceeds :data:`OVERLAP_M2` (100 m², room for a house, where a request could come from) or
:data:`OVERLAP_SHARE` (1 %) of the smaller grid, whichever is less. A grid without a boundary is allowed (a
county draws its map progressively) and only a warning (:func:`missing_boundaries`).

**Locating** (:meth:`GridMap.locate`): the grid whose polygon covers the point (on a shared border: the lowest
code), else the nearest grid within ``near_m`` metres (default bot.geo.GRID_NEAR_M, 200 m: a GPS fix is often
10–50 m off and grids seldom cover the whole county), else None. Containment is decided in longitude/latitude
(the local projection is affine, so it cannot move a point across a border); distances use a local
equirectangular projection in metres to find candidates and bot.geo's haversine to the nearest point of each
(within 0.5 % over a county's 50 km). Candidates come from STRtrees over prepared polygons: about 40 µs a
point, with 12 grids or 1,000 (benchmarks/bench_countymap.py).

**Places.** A ``places`` entry is a name, or ``{name, location: [longitude, latitude], address}`` for a place
with a point (WGS-84, as boundaries; the address is optional): :class:`Place`. The gazetteer (bot/gazetteer.py)
indexes the names only: :meth:`GridMap.places_in` finds them in a message; :meth:`GridMap.point` gives a named
place's point in a grid.

**Determinism.** Grids are kept sorted by code; every choice is by (distance, code) or (length, position);
nothing iterates a set or a dict of strings to decide (str hashes differ per process).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.validation import explain_validity

from bot.gazetteer import PLACE_MAX, Gazetteer, check_name, normalise
from bot.geo import GRID_NEAR_M, Plane

log = logging.getLogger(__name__)

#: an overlap between two grids is an error above this area (m²) ...
OVERLAP_M2 = 100.0
#: ... or above this share of the smaller grid, whichever is less
OVERLAP_SHARE = 0.01
#: what a place with a point may say (a place without one is written as its name)
PLACE_KEYS = ("name", "location", "address")
#: China's extent, to catch positions outside the county's country and swapped latitude/longitude
CHINA_LAT, CHINA_LON = (18.0, 54.0), (73.0, 135.0)

INSIDE, NEAR = "inside", "near"


class Located(NamedTuple):
    """Where a point is: ``grid`` code and ``how`` — :data:`INSIDE` its polygon or :data:`NEAR` it."""

    grid: str
    how: str


@dataclass(frozen=True)
class GridEntry:
    """One grid of the map as plain data: its code, its boundary (a GeoJSON Polygon or None) and its ``places``
    entries as the county file (and ``Grid.places``) holds them: names, or mappings for places with a point."""

    code: str
    boundary: Mapping[str, Any] | None = None
    places: tuple[Any, ...] = ()


class MapError(ValueError):
    """What is wrong with a boundary or a place, in words for the county file's author."""


@dataclass(frozen=True)
class Place:
    """A gazetteer entry: the name residents use and, when the county file gives one, its point and address."""

    name: str
    location: tuple[float, float] | None = None  # (longitude, latitude) in WGS-84: GeoJSON's order, as in the file
    address: str = ""

    @classmethod
    def parse(cls, entry: Any) -> Place:
        """A ``places`` entry: a name, or ``{name, location: [longitude, latitude], address}``; MapError if wrong."""
        if isinstance(entry, str):
            return cls(_checked_name(entry))
        if not isinstance(entry, Mapping):
            raise MapError(f"must be a name (text) or {{name, location: [longitude, latitude]}}, got {entry!r}")
        unknown = [str(key) for key in entry if key not in PLACE_KEYS]
        if unknown:
            raise MapError(f"unknown key {', '.join(unknown)} (a place has {', '.join(PLACE_KEYS)})")
        if not isinstance(entry.get("name"), str):
            raise MapError("needs a name (text)")
        name = _checked_name(entry["name"])
        address = "" if entry.get("address") is None else entry["address"]
        if not isinstance(address, str):
            raise MapError(f"address must be text, got {address!r}")
        if "location" not in entry:
            raise MapError("needs a location [longitude, latitude]; a place without a point is written as its name")
        location = _position(entry["location"], sizes=(2,))
        if location is None:
            raise MapError(f"location: expected [longitude, latitude], got {entry['location']!r}")
        try:
            _check_positions([location])
        except MapError as e:
            raise MapError(f"location: {e}") from None
        return cls(name, location, address.strip())

    def stored(self) -> str | dict[str, Any]:
        """The entry as ``Grid.places`` keeps it: the name alone, or {name, location, address} with a point."""
        if self.location is None:
            return self.name
        entry: dict[str, Any] = {"name": self.name, "location": list(self.location)}
        if self.address:
            entry["address"] = self.address
        return entry


def _checked_name(name: str) -> str:
    problem = check_name(name)
    if problem:
        raise MapError(problem)
    return name.strip()


def polygon(boundary: Any) -> Polygon:
    """The shapely polygon of a GeoJSON Polygon (coordinates in longitude, latitude); MapError if wrong."""
    if not isinstance(boundary, Mapping) or boundary.get("type") != "Polygon":
        raise MapError("boundary must be a GeoJSON Polygon: {type: Polygon, coordinates: [[[lon, lat], ...]]}")
    rings = boundary.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise MapError("boundary has no coordinates (a list of rings, each a list of [longitude, latitude])")
    parsed = [_ring(ring, r) for r, ring in enumerate(rings)]
    _check_positions([p for ring in parsed for p in ring])
    shape = Polygon(parsed[0], parsed[1:])
    if not shape.is_valid:
        raise MapError(f"boundary is not a valid polygon: {explain_validity(shape)}")
    return shape


def _position(value: Any, sizes: tuple[int, ...] = (2, 3)) -> tuple[float, float] | None:
    """(longitude, latitude) of a GeoJSON position of finite numbers (a boundary's may carry an altitude)."""
    if (not isinstance(value, list | tuple) or len(value) not in sizes
            or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value)):
        return None
    return float(value[0]), float(value[1])


def _ring(ring: Any, r: int) -> list[tuple[float, float]]:
    where = f"ring {r}" if r else "the outer ring"
    if not isinstance(ring, list):
        raise MapError(f"boundary: {where} must be a list of [longitude, latitude] positions")
    points = []
    for k, value in enumerate(ring):
        position = _position(value)
        if position is None:
            raise MapError(f"boundary: {where}, point {k}: expected [longitude, latitude], got {value!r}")
        points.append(position)
    if len(points) < 4:
        raise MapError(f"boundary: {where} has {len(points)} points: a closed ring needs at least 4 "
                       "(the first repeated last)")
    if points[0] != points[-1]:
        raise MapError(f"boundary is not closed: the last point of {where} must repeat its first")
    return points


def _check_positions(points: Sequence[tuple[float, float]]) -> None:
    """Positions (longitude, latitude) on the globe and in China, and not all of them swapped."""
    if all(_in_china(lon=y, lat=x) for x, y in points):
        raise MapError("latitude and longitude look swapped: GeoJSON positions are [longitude, latitude], "
                       "e.g. [119.41, 35.99]")
    for x, y in points:
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise MapError(f"point [{x}, {y}] is outside longitude -180..180 / latitude -90..90")
    for x, y in points:
        if not _in_china(lon=x, lat=y):
            raise MapError(f"point [{x}, {y}] is outside China (longitude 73..135, latitude 18..54): "
                           "positions are [longitude, latitude] in WGS-84")


def _in_china(*, lon: float, lat: float) -> bool:
    return CHINA_LAT[0] <= lat <= CHINA_LAT[1] and CHINA_LON[0] <= lon <= CHINA_LON[1]


def _grids(doc: Mapping[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    """(entry, grid) of every grid with a code, in file order; entry as the county file's checks name it."""
    townships = doc.get("townships")
    for i, t in enumerate(townships if isinstance(townships, list) else []):
        if not isinstance(t, dict) or not isinstance(t.get("grids"), list):
            continue
        for j, g in enumerate(t["grids"]):
            if isinstance(g, dict) and g.get("code"):
                yield f"townships[{i}] ({t.get('code')}).grids[{j}] ({g['code']})", g


def check_map(doc: Mapping[str, Any], path: Path) -> list[str]:
    """Every problem of the county file's map (boundaries, overlaps, gazetteer), by entry, in file order."""
    problems: list[str] = []
    if doc.get("grids") is not None:
        problems.append(f"{path}: grids: a grid belongs to a township: list it under townships[].grids")
    townships = doc.get("townships")
    for i, t in enumerate(townships if isinstance(townships, list) else []):
        if isinstance(t, dict) and t.get("grids") is not None and not isinstance(t["grids"], list):
            problems.append(f"{path}: townships[{i}] ({t.get('code')}).grids: must be a list of grids")
    shapes: list[tuple[str, Polygon]] = []
    for entry, grid in _grids(doc):
        shape = None
        if grid.get("boundary") is not None:
            try:
                shape = polygon(grid["boundary"])
                shapes.append((entry, shape))
            except MapError as e:
                problems.append(f"{path}: {entry}: {e}")
        problems += [f"{path}: {entry}: {p}" for p in _place_problems(grid.get("places"), shape)]
    problems += [f"{path}: {p}" for p in _overlaps(shapes)]
    return problems


def missing_boundaries(doc: Mapping[str, Any], path: Path) -> list[str]:
    """Warnings: grids without a boundary (allowed; such a grid is found only by its places and its people)."""
    return [f"{path}: {entry}: no boundary yet: a location there is not placed in this grid"
            for entry, grid in _grids(doc) if grid.get("boundary") is None]


def _place_problems(places: Any, shape: Polygon | None) -> list[str]:
    """A grid's gazetteer by entry: each entry readable, no name twice, points near the grid (``shape``)."""
    if places is None:
        return []
    if not isinstance(places, list):
        return ["places: must be a list of names (or {name, location} for places with a point)"]
    problems, seen = [], {}
    for k, entry in enumerate(places):
        name = entry.get("name") if isinstance(entry, Mapping) else entry
        label = f"places[{k}]"
        if isinstance(name, str) and normalise(name):
            label += f" ({name[:12]}…)" if len(normalise(name)) > PLACE_MAX else f" ({name})"
        try:
            place = Place.parse(entry)
        except MapError as e:
            problems.append(f"{label}: {e}")
            continue
        key = normalise(place.name)
        if key in seen:
            problems.append(f"{label}: already in this grid (places[{seen[key]}])")
            continue
        seen[key] = k
        if place.location is not None and shape is not None:
            metres = _metres_outside(shape, *place.location)
            if metres > GRID_NEAR_M:
                problems.append(f"{label}: location is {metres:,.0f} m outside the grid's boundary (more than "
                                f"{GRID_NEAR_M:,.0f} m): another grid's place, or GCJ-02 rather than WGS-84?")
    return problems


def _metres_outside(shape: Polygon, lon: float, lat: float) -> float:
    """How far a point lies outside a polygon, in metres; 0 inside it or on its border."""
    point = Point(lon, lat)
    if shape.covers(point):
        return 0.0
    plane = Plane(lon, lat)
    return plane.metres_to(plane.project(shape), plane.project(point), lat, lon)


def _overlaps(shapes: list[tuple[str, Polygon]]) -> list[str]:
    """Pairs of grids overlapping beyond the tolerance, reported at the later entry, in file order."""
    if len(shapes) < 2:
        return []
    plane = Plane.around([shape for _, shape in shapes])
    flat = [plane.project(shape) for _, shape in shapes]
    tree = shapely.STRtree(flat)
    problems = []
    for j, shape in enumerate(flat):
        for i in sorted(int(i) for i in tree.query(shape, predicate="intersects") if i < j):
            area = shape.intersection(flat[i]).area
            if area > min(OVERLAP_M2, OVERLAP_SHARE * min(shape.area, flat[i].area)):
                problems.append(f"{shapes[j][0]}: overlaps {shapes[i][0]} by {area:,.0f} m²")
    return problems


class GridMap:
    """The county's grids as a map: :meth:`locate` a point, find the places a message names (:meth:`places_in`),
    a named place's :meth:`point`.

    Built from plain data (:class:`GridEntry`), e.g. by ``Directory.grid_map()`` from the database or
    :meth:`from_county` from a county file. Immutable once built; safe to share.
    """

    def __init__(self, grids: Iterable[GridEntry], near_m: float = GRID_NEAR_M) -> None:
        self.near_m = float(near_m)
        entries = sorted(grids, key=lambda g: g.code)
        self.codes: tuple[str, ...] = tuple(g.code for g in entries)
        self._places = {g.code: _readable_places(g) for g in entries}
        self._points = {(code, normalise(place.name)): (place.location[1], place.location[0])
                        for code in self.codes for place in self._places[code] if place.location is not None}
        self._gazetteer = Gazetteer((code, place.name) for code in self.codes for place in self._places[code])
        mapped: list[tuple[GridEntry, Polygon]] = []
        for g in entries:
            if g.boundary is None:
                continue
            try:
                mapped.append((g, polygon(g.boundary)))
            except MapError as e:  # loading checks boundaries; a row edited by hand must not stop the bot
                log.warning("grid %s: boundary ignored: %s", g.code, e)
        self._boundaries = {g.code: g.boundary for g, _ in mapped}
        self._mapped = tuple(g.code for g, _ in mapped)  # sorted by code: index order is code order
        shapes = [shape for _, shape in mapped]
        self._shapes = np.array(shapes, dtype=object)
        shapely.prepare(self._shapes)
        self._tree = shapely.STRtree(shapes)
        self._plane = Plane.around(shapes) if shapes else Plane(0.0, 0.0)
        self._flat = self._plane.project(self._shapes) if shapes else self._shapes
        self._flat_tree = shapely.STRtree(self._flat)

    @classmethod
    def from_county(cls, doc: Mapping[str, Any], near_m: float = GRID_NEAR_M) -> GridMap:
        """The map of a county file already checked (``bot.directory.parse_county``)."""
        return cls([GridEntry(g["code"], g.get("boundary"), tuple(g.get("places") or ()))
                    for _, g in _grids(doc)], near_m)

    def locate(self, lat: float, lon: float) -> Located | None:
        """The grid of a WGS-84 point (as Telegram sends it): inside a polygon (on a shared border: the lowest
        code), else the nearest within ``near_m`` metres (ties: the lowest code), else None."""
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
            return None
        if not self._mapped:
            return None
        point = Point(lon, lat)
        candidates = np.sort(self._tree.query(point))
        if len(candidates):
            inside = candidates[shapely.intersects(self._shapes[candidates], point)]
            if len(inside):
                return Located(self._mapped[int(inside[0])], INSIDE)
        flat = self._plane.project(point)
        best: tuple[float, int] | None = None
        for i in np.sort(self._flat_tree.query(flat, predicate="dwithin", distance=self.near_m * 1.01 + 1)):
            metres = self._plane.metres_to(self._flat[i], flat, lat, lon)
            if metres <= self.near_m and (best is None or (metres, int(i)) < best):
                best = (metres, int(i))
        return Located(self._mapped[best[1]], NEAR) if best else None

    def places_in(self, text: str) -> list[tuple[str, list[str]]]:
        """The gazetteer's names in a message with the grids that have them (sorted codes; several for an
        ambiguous name), longest first, then in the order they appear. Overlapping matches: the longest wins."""
        return self._gazetteer.find(text)

    def point(self, name: str, grid_code: str) -> tuple[float, float] | None:
        """(latitude, longitude) of the place of this name in this grid (compared as :func:`normalise` does),
        when the county file gives it a point; else None."""
        return self._points.get((grid_code, normalise(name)))

    def places(self, grid_code: str) -> tuple[Place, ...]:
        """A grid's gazetteer in the county file's order (entries the map could read)."""
        return self._places.get(grid_code, ())

    def boundary(self, grid_code: str) -> Mapping[str, Any] | None:
        """A grid's boundary (GeoJSON Polygon) as the map uses it; None without one (or with a broken one)."""
        return self._boundaries.get(grid_code)


def _readable_places(entry: GridEntry) -> tuple[Place, ...]:
    """A grid's places; entries a hand-edited row made unreadable are logged and left out (loading checks them)."""
    places, seen = [], set()
    for item in entry.places:
        try:
            place = Place.parse(item)
        except MapError as e:
            log.warning("grid %s: place %r ignored: %s", entry.code, item, e)
            continue
        if normalise(place.name) not in seen:  # the first of a name twice in a grid, as loading would insist
            seen.add(normalise(place.name))
            places.append(place)
    return tuple(places)
