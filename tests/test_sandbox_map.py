"""The chat page's county map: grid boundaries (GeoJSON, [lon, lat]) and township names from the county file the
sandbox loaded, served as the sandbox's `map` control; without boundaries, the county's centre for a plain
coordinate grid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bot.sandbox_map import DEFAULT_CENTER, county_map
from tests.conftest import FIXTURES, Clock, start_bot

BOX = [[119.40, 35.99], [119.415, 35.99], [119.415, 36.0], [119.40, 36.0], [119.40, 35.99]]


def county(tmp_path: Path, **grids: Any) -> Path:
    """The fixture county, its grids given these boundaries / places (by grid code)."""
    doc = yaml.safe_load((FIXTURES / "county.yaml").read_text(encoding="utf-8"))
    for township in doc["townships"]:
        for grid in township["grids"]:
            grid.update(grids.get(grid["code"].replace("-", "_"), {}))
    path = tmp_path / "county.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


async def map_control(double) -> dict:
    async with aiohttp.ClientSession(double.url) as http, http.post("/_control/map", json={}) as r:
        assert r.status == 200, await r.text()
        return (await r.json())["result"]


def test_without_boundaries_every_grid_is_listed_around_the_default_centre(tmp_path: Path) -> None:
    found = county_map(county(tmp_path))
    assert [(g["code"], g["township"], g["boundary"]) for g in found["grids"]] == [
        ("ld-01", "龙都街道", None), ("ld-02", "龙都街道", None)]
    assert found["center"] == list(DEFAULT_CENTER)
    b = found["bounds"]
    assert b["south"] < DEFAULT_CENTER[0] < b["north"] and b["west"] < DEFAULT_CENTER[1] < b["east"]
    assert found["problems"] == []


def test_boundaries_in_every_geojson_shape_become_polygons_and_set_the_extent(tmp_path: Path) -> None:
    feature = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [BOX]}}
    found = county_map(county(tmp_path, ld_01={"boundary": feature, "places": [
        {"name": "东关菜市场", "location": [119.408, 35.996], "address": "东关大街"}]},
        ld_02={"boundary": [p for p in BOX[:-1]]}))  # a bare ring, not closed
    first, second = found["grids"]
    assert first["boundary"] == {"type": "Polygon", "coordinates": [BOX]}
    assert second["boundary"] == {"type": "Polygon", "coordinates": [BOX]}  # closed
    assert first["places"] == [{"name": "东关菜市场", "address": "东关大街", "longitude": 119.408, "latitude": 35.996}]
    b = found["bounds"]
    assert b["south"] < 35.99 and b["north"] > 36.0 and b["west"] < 119.40 and b["east"] > 119.415
    assert b["north"] - b["south"] < 0.02  # around the boundaries, not the default span
    assert found["center"] == pytest.approx([35.995, 119.4075])

    multi = {"type": "MultiPolygon", "coordinates": [[BOX], [[[119.5, 36.1], [119.51, 36.1], [119.51, 36.11]]]]}
    found = county_map(county(tmp_path, ld_01={"boundary": multi}))
    assert found["grids"][0]["boundary"]["type"] == "MultiPolygon"
    assert found["bounds"]["north"] > 36.11 and found["bounds"]["east"] > 119.51


@pytest.mark.parametrize("boundary", [
    {"type": "Point", "coordinates": [119.4, 35.99]},
    {"type": "Polygon", "coordinates": [[[35.99, 119.40], [36.0, 119.41], [36.0, 119.40]]]},  # [lat, lon]: lat > 90
    {"type": "Polygon", "coordinates": [[[119.4, 35.99], [119.41, 35.99]]]},  # two points
    {"type": "Polygon"},
    "around the market",
])
def test_a_malformed_boundary_is_left_out_and_said(tmp_path: Path, boundary: Any) -> None:
    found = county_map(county(tmp_path, ld_01={"boundary": boundary}, ld_02={"places": [{"name": "无坐标"}]}))
    assert [g["boundary"] for g in found["grids"]] == [None, None]
    assert found["grids"][1]["places"] == []
    assert len(found["problems"]) == 2 and "ld-01" in found["problems"][0] and "ld-02" in found["problems"][1]
    assert found["center"] == list(DEFAULT_CENTER)


def test_an_unreadable_county_file_still_gives_a_map(tmp_path: Path) -> None:
    found = county_map(tmp_path / "missing.yaml")
    assert found["grids"] == [] and found["center"] == list(DEFAULT_CENTER) and "cannot read" in found["problems"][0]


async def test_the_sandbox_serves_its_county_map_to_the_page(sqlite_db, double, tmp_path: Path) -> None:
    local = await start_bot(sqlite_db, double, Clock(), county=county(tmp_path, ld_02={"boundary": {
        "type": "Polygon", "coordinates": [BOX]}}))
    try:
        assert "map" in double.state()["clock"]["controls"]  # the page asks for the map only where there is one
        found = await map_control(double)
    finally:
        await local.stop()
    assert [(g["code"], g["name"], bool(g["boundary"])) for g in found["grids"]] == [
        ("ld-01", "第一网格", False), ("ld-02", "第二网格", True)]
    assert found["center"] == pytest.approx([35.995, 119.4075])


async def test_the_sandbox_map_without_boundaries(sqlite_bot) -> None:
    found = await map_control(sqlite_bot.double)
    assert [g["boundary"] for g in found["grids"]] == [None, None] and found["center"] == list(DEFAULT_CENTER)
