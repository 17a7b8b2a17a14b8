"""The county map of the sandbox's chat page: grid boundaries and township names, read from the county file the
sandbox loaded, for the page to draw (its own SVG: no tiles, no network) and to pick a location on.

A grid of the county file may carry ``boundary`` (GeoJSON in WGS-84 [lon, lat]: a Polygon or MultiPolygon, a
Feature holding one, or a bare ring of positions) and ``places`` (named points). Anything missing or malformed
is left out and said in ``problems``; with no boundary at all the page draws a plain coordinate grid around
the county's centre.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DEFAULT_CENTER = (35.995, 119.410)  # the demo county's seat, N / E
FALLBACK_SPAN = 0.03  # degrees either side of the centre when no grid has a boundary
PADDING = 0.08  # share of the drawn extent added around the boundaries


def county_map(path: Path) -> dict[str, Any]:
    """{"grids": [{code, name, township, boundary (GeoJSON Polygon/MultiPolygon or None), places}], "center":
    [lat, lon], "bounds": {south, west, north, east}, "problems": [...]} for the county file at ``path``."""
    problems: list[str] = []
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        doc, problems = {}, [f"{path}: cannot read: {e}"]
    grids = []
    for township in _dicts(doc.get("townships") if isinstance(doc, dict) else None):
        for grid in _dicts(township.get("grids")):
            where = f"grid {grid.get('code')}"
            grids.append({
                "code": str(grid.get("code", "")), "name": str(grid.get("name", "")),
                "township": str(township.get("name", "")),
                "boundary": _boundary(grid.get("boundary"), where, problems),
                "places": _places(grid.get("places"), where, problems),
            })  # fmt: skip
    points = [p for g in grids if g["boundary"] for polygon in _polygons(g["boundary"]) for ring in polygon
              for p in ring] + [(p["longitude"], p["latitude"]) for g in grids for p in g["places"]]
    return {"grids": grids, **_extent(points), "problems": problems}


def _dicts(value: Any) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _extent(points: list[tuple[float, float]]) -> dict[str, Any]:
    if not points:
        lat, lon = DEFAULT_CENTER
        return {"center": [lat, lon], "bounds": {"south": lat - FALLBACK_SPAN, "west": lon - FALLBACK_SPAN,
                                                 "north": lat + FALLBACK_SPAN, "east": lon + FALLBACK_SPAN}}
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    pad = max(max(lons) - min(lons), max(lats) - min(lats), 0.002) * PADDING
    bounds = {"south": min(lats) - pad, "west": min(lons) - pad, "north": max(lats) + pad, "east": max(lons) + pad}
    return {"center": [(bounds["south"] + bounds["north"]) / 2, (bounds["west"] + bounds["east"]) / 2],
            "bounds": bounds}


def _position(value: Any) -> tuple[float, float] | None:
    """A GeoJSON position [lon, lat] on the globe."""
    if not isinstance(value, list | tuple) or len(value) < 2:
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:2]):
        return None
    lon, lat = float(value[0]), float(value[1])
    return (lon, lat) if -180 <= lon <= 180 and -90 <= lat <= 90 else None


def _ring(value: Any) -> list[list[float]] | None:
    positions = [_position(p) for p in value] if isinstance(value, list) else [None]
    if len(positions) < 3 or None in positions:
        return None
    if positions[0] != positions[-1]:
        positions.append(positions[0])  # GeoJSON rings are closed
    return [list(p) for p in positions]


def _boundary(value: Any, where: str, problems: list[str]) -> dict | None:
    """The boundary as a GeoJSON Polygon or MultiPolygon (None when absent or malformed)."""
    if value is None:
        return None
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    kind = value.get("type") if isinstance(value, dict) else None
    coordinates = value.get("coordinates") if isinstance(value, dict) else None
    if kind is None and isinstance(value, list):  # a bare ring, or a list of rings
        kind, coordinates = "Polygon", value if value and _position(value[0]) is None else [value]
    polygons = coordinates if kind == "MultiPolygon" else [coordinates] if kind == "Polygon" else None
    if not isinstance(polygons, list) or not polygons:
        polygons = [None]
    rings = [[_ring(r) for r in p] if isinstance(p, list) and p else [None] for p in polygons]
    if any(None in p for p in rings):
        problems.append(f"{where}: boundary is not a GeoJSON Polygon/MultiPolygon of [lon, lat]; not drawn")
        return None
    return {"type": "Polygon", "coordinates": rings[0]} if len(rings) == 1 else {
        "type": "MultiPolygon", "coordinates": rings}


def _polygons(boundary: dict) -> list:
    return boundary["coordinates"] if boundary["type"] == "MultiPolygon" else [boundary["coordinates"]]


def _places(value: Any, where: str, problems: list[str]) -> list[dict]:
    """Named points: {name, location: [lon, lat]} (or GeoJSON Point ``geometry``, or latitude/longitude)."""
    found = []
    for place in _dicts(value):
        spot = place.get("location") or place.get("coordinates") or (place.get("geometry") or {}).get("coordinates")
        if spot is None and "latitude" in place and "longitude" in place:
            spot = [place["longitude"], place["latitude"]]
        position = _position(spot)
        if position is None or not place.get("name"):
            problems.append(f"{where}: a place needs a name and a [lon, lat] location; not drawn")
            continue
        found.append({"name": str(place["name"]), "address": str(place.get("address") or ""),
                      "longitude": position[0], "latitude": position[1]})
    return found
