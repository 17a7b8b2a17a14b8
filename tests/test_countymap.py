"""The grid map: boundaries and gazetteers checked by entry, points located, places found and their points
given, the same in every process; stored by `gridbot county load` and served by Directory.grid_map()."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from shapely.geometry import Point, shape
from shapely.ops import unary_union
from sqlmodel import select

from bot.cli import main as cli
from bot.countymap import GridEntry, GridMap, check_map, missing_boundaries
from bot.demo import MARKET
from bot.directory import CountyError, Directory, load_county, parse_county
from nlp.catalogue import load_catalogue
from storage.models import Grid
from tests.conftest import FIXTURES, ROOT

DEMO = ROOT / "data" / "county.yaml"


def square(lon: float, lat: float, size: float = 0.01) -> dict:
    """A GeoJSON Polygon: the square of ``size`` degrees whose south-west corner is (lon, lat)."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def county(tmp_path: Path, *grids: dict, **extra) -> Path:
    path = tmp_path / "county.yaml"
    doc = {"townships": [{"code": "ld", "name": "龙都街道", "grids": list(grids)}], **extra}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def grid(code: str, boundary=None, places=None) -> dict:
    entry = {"code": code, "name": f"网格{code}"}
    if boundary is not None:
        entry["boundary"] = boundary
    if places is not None:
        entry["places"] = places
    return entry


def problems_of(path: Path) -> str:
    with pytest.raises(CountyError) as e:
        parse_county(path, load_catalogue(FIXTURES / "catalogue.yaml"))
    return str(e.value)


FIXTURE_MAP = GridMap.from_county(yaml.safe_load((FIXTURES / "county.yaml").read_text(encoding="utf-8")))


# -- checks -----------------------------------------------------------------------------------------
def test_broken_boundaries_are_reported_by_entry(tmp_path):
    open_ring = square(119.40, 35.99)
    open_ring["coordinates"][0].pop()
    bowtie = {"type": "Polygon", "coordinates": [[[119.40, 35.99], [119.41, 36.0], [119.41, 35.99], [119.40, 36.0],
                                                  [119.40, 35.99]]]}
    swapped = {"type": "Polygon", "coordinates": [[[lat, lon] for lon, lat in square(119.42, 35.99)["coordinates"][0]]]}
    path = county(tmp_path, grid("g0", open_ring), grid("g1", bowtie), grid("g2", swapped),
                  grid("g3", square(2.35, 48.85)), grid("g4", square(119.40, 95.0)),
                  grid("g5", {"type": "Point", "coordinates": [119.4, 35.99]}),
                  grid("g6", {"type": "Polygon", "coordinates": [[[119.4, 35.99], [119.41, 35.99], [119.4, 35.99]]]}),
                  grid("g7", {"type": "Polygon", "coordinates": [[[119.4, 35.99], "119.41, 35.99"]]}),
                  grid("g8", square(119.50, 35.99)))
    text = problems_of(path)
    for fragment in (
        "county.yaml: townships[0] (ld).grids[0] (g0): boundary is not closed",
        "grids[1] (g1): boundary is not a valid polygon: Self-intersection[119.405 35.995]",
        "grids[2] (g2): latitude and longitude look swapped",
        "grids[3] (g3): point [2.35, 48.85] is outside China",
        "grids[4] (g4): point [119.4, 95.0] is outside longitude -180..180 / latitude -90..90",
        "grids[5] (g5): boundary must be a GeoJSON Polygon",
        "grids[6] (g6): boundary: the outer ring has 3 points",
        "grids[7] (g7): boundary: the outer ring, point 1: expected [longitude, latitude]",
    ):
        assert fragment in text
    assert "(g8)" not in text  # the one good grid


def test_overlapping_grids_are_errors_and_slivers_along_a_border_are_not(tmp_path):
    sliver = square(119.41 - 5e-7, 35.99)  # 5 cm into its western neighbour along 1.1 km: 50 m²
    tiny = 0.0005  # 45 × 56 m: 1 % of it is 25 m²
    path = county(tmp_path, grid("a", square(119.40, 35.99)), grid("b", sliver),
                  grid("c", square(119.40, 36.005)), grid("d", square(119.405, 36.005)),
                  grid("e", square(119.43, 35.99, tiny)), grid("f", square(119.43 + tiny - 1e-5, 35.99, tiny)))
    text = problems_of(path)
    assert "townships[0] (ld).grids[3] (d): overlaps townships[0] (ld).grids[2] (c) by 500," in text  # half of c
    assert "townships[0] (ld).grids[5] (f): overlaps townships[0] (ld).grids[4] (e) by 50 m²" in text
    assert "(b): overlaps" not in text
    assert text.count("overlaps") == 2


def test_gazetteer_mistakes_and_a_grid_outside_any_township_are_reported(tmp_path):
    path = county(tmp_path, grid("a", places=["金地家园", " ", "湖", "金地家园 ", "人" * 41, 7]),
                  grid("b", places="金地家园"), grids=[grid("c")])
    text = problems_of(path)
    for fragment in ("grids[0] (a): places[1]: empty name", "grids[0] (a): places[2] (湖): one character",
                     "grids[0] (a): places[3] (金地家园 ): already in this grid (places[0])",
                     "grids[0] (a): places[4] (人人人人人人人人人人人人…): longer than 40 characters",
                     "grids[0] (a): places[5]: must be a name (text) or {name, location: [longitude, latitude]}, got 7",
                     "grids[1] (b): places: must be a list of names",
                     "county.yaml: grids: a grid belongs to a township"):
        assert fragment in text
    assert "places[0]" not in text.replace("(places[0])", "")


def test_places_with_a_point_are_checked_by_entry(tmp_path):
    at = [119.405, 35.995]  # the middle of grid a
    path = county(tmp_path, grid("a", square(119.40, 35.99), [
        "金地家园",
        {"name": "东关菜市场", "address": "东关大街 12 号", "location": at},
        {"name": "龙都小学", "location": [119.4105, 35.995]},  # 45 m east of a: within the tolerance
        {"name": "南湖公园", "location": [119.423, 35.995]},  # 1.2 km east
        {"name": "幸福小区", "location": at[::-1]},
        {"name": "北关菜市场", "location": [2.35, 48.85]},
        {"name": "城北小学", "location": [119.405]},
        {"name": "超然台", "location": [*at, 12.0]},  # a pair, not a position with an altitude
        {"name": "市民广场", "location": ["119.405", "35.995"]},
        {"name": "府前街"},
        {"name": "湖", "location": at},
        {"location": at},
        {"name": "东关菜市场 ", "location": at},
        {"name": "人民路", "locaton": at},
        {"name": "和平街", "address": 12, "location": at},
        {"name": "扶淇河", "location": [119.405, 95.0]},
    ]), grid("b", places=[{"name": "昌城大集", "location": [119.32, 36.078]}]))  # no boundary to be near
    text = problems_of(path)
    for fragment in (
        "grids[0] (a): places[3] (南湖公园): location is 1,170 m outside the grid's boundary (more than 200 m)",
        "grids[0] (a): places[4] (幸福小区): location: latitude and longitude look swapped",
        "grids[0] (a): places[5] (北关菜市场): location: point [2.35, 48.85] is outside China",
        "grids[0] (a): places[6] (城北小学): location: expected [longitude, latitude], got [119.405]",
        "grids[0] (a): places[7] (超然台): location: expected [longitude, latitude], got [119.405, 35.995, 12.0]",
        "grids[0] (a): places[8] (市民广场): location: expected [longitude, latitude], got ['119.405', '35.995']",
        "grids[0] (a): places[9] (府前街): needs a location [longitude, latitude]; a place without a point is "
        "written as its name",
        "grids[0] (a): places[10] (湖): one character would match in too many messages",
        "grids[0] (a): places[11]: needs a name (text)",
        "grids[0] (a): places[12] (东关菜市场 ): already in this grid (places[1])",
        "grids[0] (a): places[13] (人民路): unknown key locaton (a place has name, location, address)",
        "grids[0] (a): places[14] (和平街): address must be text, got 12",
        "grids[0] (a): places[15] (扶淇河): location: point [119.405, 95.0] is outside longitude -180..180",
    ):
        assert fragment in text
    assert len(text.splitlines()) == 13  # nothing about places[0..2] nor grid b


def test_a_grid_without_a_boundary_is_a_warning_not_an_error(tmp_path, capsys):
    path = county(tmp_path, grid("a", square(119.40, 35.99), ["金地家园"]), grid("b"))
    assert cli(["county", "check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "ok (2 grids, 1 with a boundary, 1 places, 0 with a point)" in out
    assert err.strip() == f"warning: {path}: townships[0] (ld).grids[1] (b): no boundary yet: " \
                          "a location there is not placed in this grid"
    broken = county(tmp_path, grid("a", square(119.40, 35.99)), grid("b", square(119.405, 35.99)))
    assert cli(["county", "check", str(broken)]) == 1
    assert "overlaps" in capsys.readouterr().err


def test_the_demo_county_is_a_clean_map_of_tiled_townships():
    doc = parse_county(DEMO, load_catalogue(ROOT / "data" / "catalogue.yaml"))
    assert check_map(doc, DEMO) == [] and missing_boundaries(doc, DEMO) == []
    demo = GridMap.from_county(doc)
    townships = {t["code"]: t["grids"] for t in doc["townships"]}
    assert {"ld", "mz", "sw", "cc"} <= set(townships) and sum(map(len, townships.values())) >= 12
    for code, grids in townships.items():
        union = unary_union([shape(g["boundary"]) for g in grids])
        assert union.geom_type == "Polygon" and not union.interiors, f"{code}: gaps inside the township"
        assert len({place.name for g in grids for place in demo.places(g["code"])}) >= 5 * len(grids)
        for g in grids:  # every grid has places with a point, inside it
            points = [place.location for place in demo.places(g["code"]) if place.location]
            assert points and all(shape(g["boundary"]).contains(Point(p)) for p in points), g["code"]
    city = unary_union([shape(g["boundary"]) for c in ("ld", "mz", "sw") for g in townships[c]])
    assert city.geom_type == "Polygon" and not city.interiors and city.contains(shape(
        {"type": "Point", "coordinates": [119.410, 35.995]}))  # the streets tile the city around its centre
    assert all(not city.intersects(shape(g["boundary"])) for g in townships["cc"])  # a town outside it
    assert demo.locate(*MARKET) == ("ld-01", "inside")  # the demo's 人民路菜市场 (bot/demo.py)
    assert demo.places_in("人民路菜市场门口占道经营") == [("人民路菜市场", ["ld-01"])]
    assert demo.point("人民路菜市场", "ld-01") == MARKET


# -- locating ----------------------------------------------------------------------------------------
def test_a_point_is_located_inside_its_grid():
    assert FIXTURE_MAP.locate(35.99, 119.405) == ("ld-01", "inside")
    assert FIXTURE_MAP.locate(35.99, 119.415) == ("ld-02", "inside")


def test_a_point_on_a_shared_border_goes_to_the_lowest_code_whatever_the_order():
    entries = [GridEntry("b", square(119.40, 35.99)), GridEntry("a", square(119.41, 35.99))]
    for order in (entries, entries[::-1]):
        located = GridMap(order)
        assert located.locate(35.995, 119.41) == ("a", "inside")  # on the border: a, though east of it
        assert located.locate(35.99, 119.41) == ("a", "inside")  # a shared corner
        assert located.locate(35.995, 119.405) == ("b", "inside")
    assert FIXTURE_MAP.locate(35.99, 119.41) == ("ld-01", "inside")


def test_just_outside_is_near_within_the_tolerance_and_far_is_nowhere():
    assert FIXTURE_MAP.locate(35.9985, 119.405) == ("ld-01", "near")  # 55 m north of ld-01
    assert FIXTURE_MAP.locate(35.99, 119.4215) == ("ld-02", "near")  # 135 m east of ld-02
    assert FIXTURE_MAP.locate(35.9995, 119.41) == ("ld-01", "near")  # as near to both: the lowest code
    assert FIXTURE_MAP.locate(35.99, 119.4235) is None  # 315 m
    assert FIXTURE_MAP.locate(36.04, 119.45) is None
    assert FIXTURE_MAP.locate(0.0, 0.0) is None
    assert FIXTURE_MAP.locate(math.nan, 119.41) is None and FIXTURE_MAP.locate(35.99, math.inf) is None
    strict = GridMap([GridEntry("a", square(119.40, 35.99))], near_m=50)
    assert strict.locate(36.0006, 119.405) is None  # 67 m: beyond this map's 50 m
    assert strict.locate(36.0003, 119.405) == ("a", "near")  # 33 m north
    assert strict.locate(35.9903, 119.4104) == ("a", "near")  # 36 m east


def test_grids_without_a_boundary_or_a_map_without_any_locate_nothing():
    assert GridMap([GridEntry("a", None, ("金地家园",))]).locate(35.99, 119.405) is None
    assert GridMap([]).locate(35.99, 119.405) is None and GridMap([]).places_in("金地家园") == []


# -- places ------------------------------------------------------------------------------------------
def test_places_are_found_longest_first_and_an_ambiguous_name_names_every_grid():
    assert FIXTURE_MAP.places_in("金地家园小区门口有人乱停车") == [("金地家园", ["ld-01"])]
    assert FIXTURE_MAP.places_in("幸福小区楼下的垃圾三天没人清") == [("幸福小区", ["ld-01", "ld-02"])]
    assert FIXTURE_MAP.places_in("东关菜市场旁边，金地 家园北门") == [("东关菜市场", ["ld-02"]), ("金地家园", ["ld-01"])]
    assert FIXTURE_MAP.places_in("楼下的垃圾三天没人清") == []
    nested = GridMap([GridEntry("a", places=("金地", "人民路")), GridEntry("b", places=("金地家园", "人民路东段"))])
    assert nested.places_in("金地家园小区门口") == [("金地家园", ["b"])]
    assert nested.places_in("人民路东段和金地") == [("人民路东段", ["b"]), ("金地", ["a"])]
    assert nested.places_in("人民路上") == [("人民路", ["a"])]


def test_a_place_s_point_is_given_in_its_grid_by_name():
    market = {"name": "东关菜市场", "address": "东关大街 12 号", "location": [119.405, 35.995]}
    grid_map = GridMap([GridEntry("b", square(119.41, 35.99), ({"name": "东关菜市场", "location": [119.415, 35.995]},)),
                        GridEntry("a", square(119.40, 35.99), ("金地家园", market))])
    assert grid_map.point("东关菜市场", "a") == (35.995, 119.405)  # (latitude, longitude), as locate takes them
    assert grid_map.point("东关菜市场", "b") == (35.995, 119.415)  # the same name in another grid: its own point
    assert grid_map.point(" 东关 菜市场", "a") == (35.995, 119.405)  # compared as places_in compares names
    assert grid_map.point("金地家园", "a") is None  # a name without a point
    assert grid_map.point("金地家园", "b") is None and grid_map.point("东关菜市场", "c") is None
    assert grid_map.places_in("东关菜市场门口") == [("东关菜市场", ["a", "b"])]  # the gazetteer: names only
    assert [(p.name, p.address) for p in grid_map.places("a")] == [("金地家园", ""), ("东关菜市场", "东关大街 12 号")]


def test_a_place_a_hand_edited_row_made_unreadable_is_left_out(caplog):
    grid_map = GridMap([GridEntry("a", None, ("金地家园", 7, {"name": "东关菜市场", "location": "东关大街"},
                                              {"name": "金地家园", "location": [119.405, 35.995]}))])
    assert grid_map.places_in("金地家园和东关菜市场") == [("金地家园", ["a"])]
    assert [p.name for p in grid_map.places("a")] == ["金地家园"]  # the first of a name twice
    assert grid_map.point("金地家园", "a") is None and grid_map.point("东关菜市场", "a") is None
    assert "grid a: place 7 ignored" in caplog.text


# -- the same in every process ---------------------------------------------------------------------------
_SCRIPT = """
import json, yaml
from pathlib import Path
from bot.countymap import GridMap, check_map
doc = yaml.safe_load(Path("data/county.yaml").read_text(encoding="utf-8"))
demo = GridMap.from_county(doc)
points = [(35.96 + i * 0.0025, 119.29 + j * 0.0025) for i in range(65) for j in range(70)]
located = [demo.locate(lat, lon) for lat, lon in points]
borders = [demo.locate(35.9995, 119.37 + k * 0.001) for k in range(80)]  # 人民路: the border of two streets
texts = ["东关大街和东坡街路口，人民路菜市场门口", "南湖公园、南环路东段、东武花园", "得利斯路昌城大集"]
broken = {"townships": [{"code": "ld", "name": "x", "grids": [
    {"code": c, "name": c, "places": ["幸福小区", "幸福小区"],
     "boundary": {"type": "Polygon", "coordinates": [[[119.4, 35.99], [119.42, 35.99], [119.42, 36.0],
                                                      [119.4, 36.0], [119.4, 35.99]]]}} for c in "zyx"]}]}
points = [demo.point(place.name, code) for code in demo.codes for place in demo.places(code)]
print(json.dumps([located, borders, [demo.places_in(t) for t in texts], check_map(broken, Path("f")), points],
                 ensure_ascii=False))
"""


def test_locate_places_and_checks_are_the_same_in_every_process():
    outputs = []
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed})
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    located, borders, places, problems, points = json.loads(outputs[0])
    assert {how for *_, how in filter(None, located)} == {"inside", "near"}
    assert len({code for code, _ in filter(None, located)}) == 12 and None in located
    # the lower code of the two streets on either side: mz-03 over sw-01 (west), ld-01 and ld-02 over mz-02, mz-03
    assert [code for code, _ in borders] == ["mz-03"] * 30 + ["ld-01"] * 25 + ["ld-02"] * 25
    assert [name for name, _ in places[0]] == ["人民路菜市场", "东关大街", "东坡街"]
    assert len(problems) == 6
    assert len([p for p in points if p]) >= 12 and [35.9958, 119.4101] in points


# -- stored by county load, served by the directory ------------------------------------------------------
async def test_load_stores_the_map_and_the_directory_serves_it_rebuilt_after_a_new_load(database, tmp_path):
    catalogue = load_catalogue(FIXTURES / "catalogue.yaml")
    await load_county(database, catalogue, FIXTURES / "county.yaml")
    async with database.read() as s:
        ld01 = (await s.exec(select(Grid).where(Grid.code == "ld-01"))).one()
    assert ld01.places == [{"name": "金地家园", "location": [119.4052, 35.9921]}, "幸福小区", "人民路西段", "龙都小学"]
    assert ld01.boundary["type"] == "Polygon" and ld01.boundary["coordinates"][0][0] == [119.4, 35.986]

    directory = Directory(database)
    first = await directory.grid_map()
    assert first.point("东关菜市场", "ld-02") is None  # the fixture's places have no point
    assert first.locate(35.99, 119.405) == ("ld-01", "inside") and first.codes == ("ld-01", "ld-02")
    assert await directory.grid_map() is first  # cached

    doc = yaml.safe_load((FIXTURES / "county.yaml").read_text(encoding="utf-8"))
    del doc["townships"][0]["grids"][0]["boundary"]
    doc["townships"][0]["grids"][1]["places"] = ["东关菜市场", "颐和苑小区"]
    edited = tmp_path / "county.yaml"
    edited.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    await load_county(database, catalogue, edited)
    again = await directory.grid_map()
    assert again.locate(35.99, 119.4085) == ("ld-02", "near")  # ld-01 has no boundary any more
    assert again.places_in("幸福小区和颐和苑小区") == [("颐和苑小区", ["ld-02"]), ("幸福小区", ["ld-01"])]

    async with database.session() as s:  # another process loads the county: seen once the cache is stale
        ld02 = (await s.exec(select(Grid).where(Grid.code == "ld-02"))).one()
        ld02.places = ["人民路东段"]
        s.add(ld02)
    assert await directory.grid_map() is again
    directory.MAP_REFRESH_S = 0.0
    assert (await directory.grid_map()).places_in("人民路东段") == [("人民路东段", ["ld-02"])]


async def test_load_stores_places_with_their_point_and_the_directory_gives_it(database, tmp_path):
    path = county(tmp_path, grid("a", square(119.40, 35.99), [
        " 金地家园", {"name": " 东关菜市场 ", "address": " 东关大街 12 号 ", "location": [119.405, 35.995]},
        {"name": "龙都小学", "location": [119.402, 35.992]}]))
    await load_county(database, load_catalogue(FIXTURES / "catalogue.yaml"), path)
    async with database.read() as s:
        a = (await s.exec(select(Grid).where(Grid.code == "a"))).one()
    assert a.places == ["金地家园", {"name": "东关菜市场", "location": [119.405, 35.995], "address": "东关大街 12 号"},
                        {"name": "龙都小学", "location": [119.402, 35.992]}]
    grid_map = await Directory(database).grid_map()
    assert grid_map.point("东关菜市场", "a") == (35.995, 119.405) and grid_map.point("龙都小学", "a") == (35.992, 119.402)
    assert grid_map.places_in("龙都小学门口") == [("龙都小学", ["a"])]
