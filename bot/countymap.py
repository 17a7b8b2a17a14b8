"""The grid map: each grid's boundary and gazetteer from the county file, checked, and looked up. No Telegram.

**Coordinates.** A grid's ``boundary`` is a GeoJSON Polygon in WGS-84, the system GPS and Telegram use, with
positions in GeoJSON's order ``[longitude, latitude]`` (诸城: about ``[119.41, 35.99]``). Chinese map services
(高德, 腾讯: GCJ-02; 百度: BD-09) are offset by hundreds of metres: the county file must hold WGS-84.

**Checks** (:func:`check_map`, by entry): a Polygon with closed rings of at least four positions, numbers in
the longitude/latitude ranges and in China (latitude 18–54, longitude 73–135; a ring that only fits the other
way round is reported as swapped), a valid polygon (GEOS's ``explain_validity`` says where it self-intersects),
no two grids overlapping, gazetteer names neither empty, nor of one character (it would match everywhere),
nor longer than :data:`PLACE_MAX`, nor twice in a grid. **Overlaps**: a point in two grids goes to the lower
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

**Places** (:meth:`GridMap.places_in`): the gazetteer's names found in a message as substrings, like the
keyword model's scan (a two-character prefix index: one dictionary look-up per character), overlapping matches
resolved longest first ("金地家园小区门口" finds 金地家园, not a shorter 金地 inside it). The issue's other idea,
the gazetteer as a jieba user dictionary, was measured on a county-sized gazetteer (1,000 grids, 20,000 names,
50-character messages): a jieba Tokenizer over a dictionary of the gazetteer alone takes 140–250 µs a message
against 12–21 µs for the scan, and 7 MB against 6 MB, plus 15 MB for importing jieba, which the bot otherwise
never does; jieba's main dictionary would add 62 MB more to a bot kept under 150 MB. Both find the same names
in these messages, but jieba's best path can cut a name in two when its neighbours form a likelier word, and
it splits at characters outside its word pattern. So the scan: faster, smaller, no jieba in the bot.

**Determinism.** Grids are kept sorted by code; every choice is by (distance, code) or (length, position);
nothing iterates a set or a dict of strings to decide (str hashes differ per process).
"""

from __future__ import annotations

import logging
import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.validation import explain_validity

from bot.geo import EARTH_RADIUS_M, GRID_NEAR_M, distance_m

log = logging.getLogger(__name__)

#: an overlap between two grids is an error above this area (m²) ...
OVERLAP_M2 = 100.0
#: ... or above this share of the smaller grid, whichever is less
OVERLAP_SHARE = 0.01
#: a place name's length in characters
PLACE_MIN, PLACE_MAX = 2, 40
#: China's extent, to catch positions outside the county's country and swapped latitude/longitude
CHINA_LAT, CHINA_LON = (18.0, 54.0), (73.0, 135.0)

INSIDE, NEAR = "inside", "near"


class Located(NamedTuple):
    """Where a point is: ``grid`` code and ``how`` — :data:`INSIDE` its polygon or :data:`NEAR` it."""

    grid: str
    how: str


@dataclass(frozen=True)
class GridEntry:
    """One grid of the map as plain data: its code, its boundary (a GeoJSON Polygon or None) and its places."""

    code: str
    boundary: Mapping[str, Any] | None = None
    places: tuple[str, ...] = ()


class BoundaryError(ValueError):
    """What is wrong with a boundary, in words for the county file's author."""


def normalise(text: str) -> str:
    """How names and messages are compared: NFKC (full-width letters and digits), case-folded, no white space."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def polygon(boundary: Any) -> Polygon:
    """The shapely polygon of a GeoJSON Polygon (coordinates in longitude, latitude); BoundaryError if wrong."""
    if not isinstance(boundary, Mapping) or boundary.get("type") != "Polygon":
        raise BoundaryError("boundary must be a GeoJSON Polygon: {type: Polygon, coordinates: [[[lon, lat], ...]]}")
    rings = boundary.get("coordinates")
    if not isinstance(rings, list) or not rings:
        raise BoundaryError("boundary has no coordinates (a list of rings, each a list of [longitude, latitude])")
    parsed = [_ring(ring, r) for r, ring in enumerate(rings)]
    _check_position(parsed)
    shape = Polygon(parsed[0], parsed[1:])
    if not shape.is_valid:
        raise BoundaryError(f"boundary is not a valid polygon: {explain_validity(shape)}")
    return shape


def _ring(ring: Any, r: int) -> list[tuple[float, float]]:
    where = f"ring {r}" if r else "the outer ring"
    if not isinstance(ring, list):
        raise BoundaryError(f"boundary: {where} must be a list of [longitude, latitude] positions")
    points = []
    for k, position in enumerate(ring):
        if (not isinstance(position, list | tuple) or len(position) not in (2, 3)
                or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                           for v in position)):
            raise BoundaryError(f"boundary: {where}, point {k}: expected [longitude, latitude], got {position!r}")
        points.append((float(position[0]), float(position[1])))
    if len(points) < 4:
        raise BoundaryError(f"boundary: {where} has {len(points)} points: a closed ring needs at least 4 "
                            "(the first repeated last)")
    if points[0] != points[-1]:
        raise BoundaryError(f"boundary is not closed: the last point of {where} must repeat its first")
    return points


def _check_position(rings: list[list[tuple[float, float]]]) -> None:
    points = [p for ring in rings for p in ring]
    if all(_in_china(lon=y, lat=x) for x, y in points):
        raise BoundaryError("latitude and longitude look swapped: GeoJSON positions are [longitude, latitude], "
                            "e.g. [119.41, 35.99]")
    for x, y in points:
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise BoundaryError(f"point [{x}, {y}] is outside longitude -180..180 / latitude -90..90")
    for x, y in points:
        if not _in_china(lon=x, lat=y):
            raise BoundaryError(f"point [{x}, {y}] is outside China (longitude 73..135, latitude 18..54): "
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
        if grid.get("boundary") is not None:
            try:
                shapes.append((entry, polygon(grid["boundary"])))
            except BoundaryError as e:
                problems.append(f"{path}: {entry}: {e}")
        problems += [f"{path}: {entry}: {p}" for p in _place_problems(grid.get("places"))]
    problems += [f"{path}: {p}" for p in _overlaps(shapes)]
    return problems


def missing_boundaries(doc: Mapping[str, Any], path: Path) -> list[str]:
    """Warnings: grids without a boundary (allowed; such a grid is found only by its places and its people)."""
    return [f"{path}: {entry}: no boundary yet: a location there is not placed in this grid"
            for entry, grid in _grids(doc) if grid.get("boundary") is None]


def _place_problems(places: Any) -> list[str]:
    if places is None:
        return []
    if not isinstance(places, list):
        return ["places: must be a list of names"]
    problems, seen = [], {}
    for k, name in enumerate(places):
        if not isinstance(name, str):
            problems.append(f"places[{k}]: must be a name (text), got {name!r}")
        elif not normalise(name):
            problems.append(f"places[{k}]: empty name")
        elif len(normalise(name)) < PLACE_MIN:
            problems.append(f"places[{k}] ({name}): one character would match in too many messages")
        elif len(normalise(name)) > PLACE_MAX:
            problems.append(f"places[{k}] ({name[:12]}…): longer than {PLACE_MAX} characters")
        elif normalise(name) in seen:
            problems.append(f"places[{k}] ({name}): already in this grid (places[{seen[normalise(name)]}])")
        else:
            seen[normalise(name)] = k
    return problems


def _overlaps(shapes: list[tuple[str, Polygon]]) -> list[str]:
    """Pairs of grids overlapping beyond the tolerance, reported at the later entry, in file order."""
    if len(shapes) < 2:
        return []
    plane = _Plane.around([shape for _, shape in shapes])
    flat = [plane.project(shape) for _, shape in shapes]
    tree = shapely.STRtree(flat)
    problems = []
    for j, shape in enumerate(flat):
        for i in sorted(int(i) for i in tree.query(shape, predicate="intersects") if i < j):
            area = shape.intersection(flat[i]).area
            if area > min(OVERLAP_M2, OVERLAP_SHARE * min(shape.area, flat[i].area)):
                problems.append(f"{shapes[j][0]}: overlaps {shapes[i][0]} by {area:,.0f} m²")
    return problems


class _Plane:
    """A local equirectangular projection to metres around (lon0, lat0): affine, so straight borders stay
    straight and sides stay sides; within 0.5 % for distances over a county's 50 km."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.origin = np.array([lon0, lat0])
        self.scale = np.array([math.cos(math.radians(lat0)), 1.0]) * math.radians(1) * EARTH_RADIUS_M

    @classmethod
    def around(cls, shapes: Sequence[Polygon]) -> _Plane:
        xmin, ymin, xmax, ymax = shapely.total_bounds(shapes)
        return cls((xmin + xmax) / 2, (ymin + ymax) / 2)

    def project(self, geometry: Any) -> Any:
        return shapely.transform(geometry, lambda xy: (xy - self.origin) * self.scale)

    def unproject(self, geometry: Any) -> Any:
        return shapely.transform(geometry, lambda xy: xy / self.scale + self.origin)


class GridMap:
    """The county's grids as a map: :meth:`locate` a point, find the places a message names (:meth:`places_in`).

    Built from plain data (:class:`GridEntry`), e.g. by ``Directory.grid_map()`` from the database or
    :meth:`from_county` from a county file. Immutable once built; safe to share.
    """

    def __init__(self, grids: Iterable[GridEntry], near_m: float = GRID_NEAR_M) -> None:
        self.near_m = float(near_m)
        entries = sorted(grids, key=lambda g: g.code)
        self.codes: tuple[str, ...] = tuple(g.code for g in entries)
        self._gazetteer = _Gazetteer(entries)
        mapped: list[tuple[str, Polygon]] = []
        for g in entries:
            if g.boundary is None:
                continue
            try:
                mapped.append((g.code, polygon(g.boundary)))
            except BoundaryError as e:  # loading checks boundaries; a row edited by hand must not stop the bot
                log.warning("grid %s: boundary ignored: %s", g.code, e)
        self._mapped = tuple(code for code, _ in mapped)  # sorted by code: index order is code order
        shapes = [shape for _, shape in mapped]
        self._shapes = np.array(shapes, dtype=object)
        shapely.prepare(self._shapes)
        self._tree = shapely.STRtree(shapes)
        self._plane = _Plane.around(shapes) if shapes else _Plane(0.0, 0.0)
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
            nearest = self._plane.unproject(shapely.shortest_line(self._flat[i], flat)).coords[0]
            metres = distance_m(lat, lon, nearest[1], nearest[0])
            if metres <= self.near_m and (best is None or (metres, int(i)) < best):
                best = (metres, int(i))
        return Located(self._mapped[best[1]], NEAR) if best else None

    def places_in(self, text: str) -> list[tuple[str, list[str]]]:
        """The gazetteer's names in a message with the grids that have them (sorted codes; several for an
        ambiguous name), longest first, then in the order they appear. Overlapping matches: the longest wins."""
        return self._gazetteer.find(text)


class _Gazetteer:
    """Place names → grid codes, found in a text by a two-character prefix index (see the module doc)."""

    def __init__(self, entries: Sequence[GridEntry]) -> None:
        self._grids: dict[str, list[str]] = {}
        self._spelling: dict[str, str] = {}
        for entry in entries:  # sorted by code: a name's grids come out sorted, its spelling is the lowest code's
            for name in entry.places:
                key = normalise(name)
                if len(key) < PLACE_MIN or entry.code in self._grids.get(key, ()):
                    continue
                self._grids.setdefault(key, []).append(entry.code)
                self._spelling.setdefault(key, name.strip())
        lengths: dict[str, set[int]] = {}
        for key in self._grids:
            lengths.setdefault(key[:2], set()).add(len(key))
        self._lengths = {prefix: tuple(sorted(sizes, reverse=True)) for prefix, sizes in lengths.items()}

    def find(self, text: str) -> list[tuple[str, list[str]]]:
        text = normalise(text)
        spans = []
        for start in range(len(text) - 1):
            for size in self._lengths.get(text[start : start + 2], ()):
                if text[start : start + size] in self._grids:
                    spans.append((start, size))
                    break  # the longest at this start; shorter ones would lie inside it
        spans.sort(key=lambda span: (-span[1], span[0]))
        covered = bytearray(len(text))
        found: dict[str, None] = {}
        for start, size in spans:
            if not any(covered[start : start + size]):
                covered[start : start + size] = b"\x01" * size
                found.setdefault(text[start : start + size])
        return [(self._spelling[key], list(self._grids[key])) for key in found]
