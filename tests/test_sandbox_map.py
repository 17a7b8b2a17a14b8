"""The chat page's county map, served as the sandbox's `map` control: the grid map the bot uses (the county file
loaded into the database) with grid and township names — boundaries, and the named places that have a point;
without boundaries, the county's centre for a plain coordinate grid. (A malformed county file never gets this
far: bot/countymap.py's checks refuse it, tests/test_countymap.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from sqlmodel import select

from bot.directory import load_county
from bot.sandbox_map import DEFAULT_CENTER
from storage.models import Grid
from tests.conftest import FIXTURES, Clock, start_bot

WEST = [[119.400, 35.990], [119.410, 35.990], [119.410, 36.000], [119.400, 36.000], [119.400, 35.990]]
EAST = [[119.410, 35.990], [119.420, 35.990], [119.420, 36.000], [119.410, 36.000], [119.410, 35.990]]
MARKET = {"name": "东关菜市场", "address": "东关大街 12 号", "location": [119.4112, 35.9968]}


def county(tmp_path: Path, **grids: dict[str, Any]) -> Path:
    """The fixture county with these boundaries and places (by grid code, `ld_01`), and no others (its places
    as names only)."""
    doc = yaml.safe_load((FIXTURES / "county.yaml").read_text(encoding="utf-8"))
    for township in doc["townships"]:
        for grid in township["grids"]:
            grid.pop("boundary", None)
            grid["places"] = [p["name"] if isinstance(p, dict) else p for p in grid.get("places") or []]
            grid.update(grids.get(grid["code"].replace("-", "_"), {}))
    path = tmp_path / "county.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def polygon(ring: list) -> dict:
    return {"type": "Polygon", "coordinates": [ring]}


async def map_control(double) -> dict:
    """The map as the page asks for it."""
    async with aiohttp.ClientSession(double.url) as http, http.post("/_control/map", json={}) as r:
        assert r.status == 200, await r.text()
        return (await r.json())["result"]


async def test_the_page_gets_the_grids_their_boundaries_and_the_places_with_a_point(database, double, tmp_path):
    path = county(tmp_path, ld_01={"boundary": polygon(WEST), "places": ["金地家园", MARKET]},
                  ld_02={"boundary": polygon(EAST)})
    local = await start_bot(database, double, Clock(), county=path)
    try:
        assert "map" in double.state()["clock"]["controls"]  # the page asks for the map only where there is one
        found = await map_control(double)
    finally:
        await local.stop()
    assert [(g["code"], g["name"], g["township"], g["boundary"]) for g in found["grids"]] == [
        ("ld-01", "第一网格", "龙都街道", polygon(WEST)), ("ld-02", "第二网格", "龙都街道", polygon(EAST))]
    first, second = found["grids"]
    assert first["places"] == [{"name": "东关菜市场", "address": "东关大街 12 号", "longitude": 119.4112,
                                "latitude": 35.9968}]  # 金地家园 has no point: nothing to click
    assert second["places"] == []  # the fixture's names only
    b = found["bounds"]
    assert b["south"] < 35.99 and b["north"] > 36.0 and b["west"] < 119.40 and b["east"] > 119.42
    assert b["north"] - b["south"] < 0.02  # around the boundaries, not the fallback span
    assert found["center"] == pytest.approx([35.995, 119.41])


async def test_without_boundaries_the_grids_are_listed_around_the_default_centre(sqlite_db, double, tmp_path):
    local = await start_bot(sqlite_db, double, Clock(), county=county(tmp_path))
    try:
        found = await map_control(double)
    finally:
        await local.stop()
    assert [(g["code"], g["township"], g["boundary"], g["places"]) for g in found["grids"]] == [
        ("ld-01", "龙都街道", None, []), ("ld-02", "龙都街道", None, [])]
    assert found["center"] == list(DEFAULT_CENTER)
    b = found["bounds"]
    assert b["south"] < DEFAULT_CENTER[0] < b["north"] and b["west"] < DEFAULT_CENTER[1] < b["east"]


async def test_places_with_a_point_are_drawn_in_a_grid_without_a_boundary(sqlite_db, double, tmp_path):
    school = {"name": "龙都小学", "location": [119.5, 36.1]}  # far from the county's seat: the map goes there
    local = await start_bot(sqlite_db, double, Clock(), county=county(tmp_path, ld_02={"places": [school]}))
    try:
        found = await map_control(double)
    finally:
        await local.stop()
    assert found["grids"][1]["boundary"] is None
    assert found["grids"][1]["places"] == [{"name": "龙都小学", "address": "", "longitude": 119.5, "latitude": 36.1}]
    assert found["center"] == pytest.approx([36.1, 119.5])


async def test_the_page_draws_the_map_the_bot_uses_and_a_new_county_load(sqlite_db, double, tmp_path):
    local = await start_bot(sqlite_db, double, Clock(), county=county(tmp_path, ld_01={"boundary": polygon(WEST)},
                                                                       ld_02={"boundary": polygon(EAST)}))
    try:
        async with sqlite_db.session() as s:  # a row edited by hand: the bot ignores its boundary, so does the page
            ld02 = (await s.exec(select(Grid).where(Grid.code == "ld-02"))).one()
            ld02.boundary = {"type": "Polygon", "coordinates": [EAST[:3]]}
            s.add(ld02)
        found = await map_control(double)
        assert [g["boundary"] for g in found["grids"]] == [polygon(WEST), None]

        await load_county(local.svc.db, local.svc.catalogue, county(tmp_path, ld_02={
            "boundary": polygon(EAST), "places": [MARKET | {"location": [119.415, 35.995]}]}))
        found = await map_control(double)  # the county file loaded again: the page's next map shows it
    finally:
        await local.stop()
    assert [g["boundary"] for g in found["grids"]] == [None, polygon(EAST)]
    assert [p["name"] for p in found["grids"][1]["places"]] == ["东关菜市场"]
