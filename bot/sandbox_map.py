"""The county map of the sandbox's chat page: the grid map the bot uses (loaded from the county file into the
database, bot/countymap.py), with grid and township names, for the page to draw (its own SVG: no tiles, no
network) and to pick a location or a named place on.

The county file was checked when it was loaded; a boundary the bot ignores (a row edited by hand) is not drawn
either. With no boundary at all the page draws a plain coordinate grid around the county's centre.
"""

from __future__ import annotations

from typing import Any

from bot.directory import Directory

DEFAULT_CENTER = (35.995, 119.410)  # the demo county's seat, N / E
FALLBACK_SPAN = 0.03  # degrees either side of the centre when nothing is drawn
PADDING = 0.08  # share of the drawn extent added around the boundaries and places


async def county_map(directory: Directory) -> dict[str, Any]:
    """{"grids": [{code, name, township, boundary (GeoJSON Polygon or None), places: [{name, address, longitude,
    latitude}] (the places with a point)}], "center": [lat, lon], "bounds": {south, west, north, east}}."""
    grid_map = await directory.grid_map()
    grids = [{
        "code": grid.code, "name": grid.name, "township": township.name, "boundary": grid_map.boundary(grid.code),
        "places": [{"name": p.name, "address": p.address, "longitude": p.location[0], "latitude": p.location[1]}
                   for p in grid_map.places(grid.code) if p.location is not None],
    } for grid, township in await directory.grids()]  # fmt: skip
    points = [(position[0], position[1]) for g in grids if g["boundary"] for ring in g["boundary"]["coordinates"]
              for position in ring] + [(p["longitude"], p["latitude"]) for g in grids for p in g["places"]]
    return {"grids": grids, **_extent(points)}


def _extent(points: list[tuple[float, float]]) -> dict[str, Any]:
    """The centre and bounds around (longitude, latitude) points, padded; around DEFAULT_CENTER without any."""
    if not points:
        lat, lon = DEFAULT_CENTER
        return {"center": [lat, lon], "bounds": {"south": lat - FALLBACK_SPAN, "west": lon - FALLBACK_SPAN,
                                                 "north": lat + FALLBACK_SPAN, "east": lon + FALLBACK_SPAN}}
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    pad = max(max(lons) - min(lons), max(lats) - min(lats), 0.002) * PADDING
    bounds = {"south": min(lats) - pad, "west": min(lons) - pad, "north": max(lats) + pad, "east": max(lons) + pad}
    return {"center": [(bounds["south"] + bounds["north"]) / 2, (bounds["west"] + bounds["east"]) / 2],
            "bounds": bounds}
