"""Rankings of the 12345 indicators (bot/indicators): peer groups, relative scores, ties, missing rates; on
hand-built histories made through the real workflow (tests/indicators/conftest.py)."""

from __future__ import annotations

import shutil

import pytest

from bot.indicators import Unit
from bot.indicators.figures import Figures
from bot.indicators.ranking import rank
from bot.indicators.score import score
from nlp.catalogue import CatalogueError, load_catalogue
from storage.models import Department, DepartmentKind, Grid
from tests.conftest import FIXTURES
from tests.indicators.conftest import (
    DECEMBER,
    JTJ_STAFF,
    NOVEMBER,
    RESIDENT,
    WEIGHTS,
    ZFJ_STAFF,
    ZJJ_STAFF,
    World,
    build_world,
)


# -- rankings ------------------------------------------------------------------------------------------------
async def _ranking_history(world: World) -> None:
    """zfj: 3 accepted on time, none resolved → only 及时签收率 1.0 → score 100.
    zjj: 1 of 3 accepted on time, all resolved and rated 满意 → 签收 1/3, 解决 1, 满意 1
         → score 0.1 × 1/3 + 0.5 + 0.4 = 93.3.
    jtj: 3 accepted on time, all resolved; answers 满意, 不满意, 不满意 (both 重办, still solved)
         → 签收 1 (the 重办 assignments are within their limit: not counted yet), 解决 1, 满意 1/3
         → score 0.1 + 0.5 + 0.4/3 = 73.3.
    gaj: 2 tickets → below the minimum of 3. rsj, hbj, xfj: none."""
    zfj = [await world.file("T-WJ") for _ in range(3)]
    zjj = [await world.file("T-LD") for _ in range(3)]
    jtj = [await world.file("T-DL") for _ in range(3)]
    [await world.file("T-ZS") for _ in range(2)]
    world.later(hours=1)  # 10:00
    for t in zfj:
        await world.accept(t, ZFJ_STAFF)
    for t in jtj:
        await world.accept(t, JTJ_STAFF)
    await world.accept(zjj[0], ZJJ_STAFF)
    world.later(hours=4)  # 14:00: past zjj's 13:00 limit
    for t in zjj[1:]:
        await world.accept(t, ZJJ_STAFF)
    for t in zjj:
        await world.resolve(t, ZJJ_STAFF)
        await world.flow.callback.rate(t, world.p[RESIDENT], True, "satisfied")
    for t, answer in zip(jtj, ("satisfied", "dissatisfied", "dissatisfied"), strict=True):
        await world.resolve(t, JTJ_STAFF, onsite=True)
        await world.flow.callback.rate(t, world.p[RESIDENT], True, answer)


async def test_a_peer_group_ranks_units_with_enough_orders_and_names_what_put_them_on_the_lists(world):
    await _ranking_history(world)
    ranking = await world.indicators(min_orders=3, list_size=1).ranking(NOVEMBER, "county")
    assert [(u.code, round(score, 1)) for u, _, score in ranking.ranked] == [("zfj", 100.0), ("zjj", 93.3),
                                                                            ("jtj", 73.3)]
    assert [(u.code, f.orders) for u, f in ranking.below_minimum] == [("gaj", 2)]
    assert [u.code for u, _ in ranking.no_orders] == ["hbj", "rsj", "xfj"]
    # red: zfj; its only rate, 及时签收率 1.0, is 0.22 above the group's mean (1 + 1/3 + 1) / 3
    assert [(e.unit.code, e.indicator) for e in ranking.red] == [("zfj", "及时签收率")]
    assert ranking.red[0].group_mean == pytest.approx(7 / 9)
    # black: jtj; 签收 +0.22, 解决 0, 满意 1/3 − (1 + 1/3) / 2 = −0.33: 满意率 put it there
    assert [(e.unit.code, e.indicator) for e in ranking.black] == [("jtj", "满意率")]
    assert ranking.black[0].value == pytest.approx(1 / 3)
    default = await world.indicators().ranking(NOVEMBER, "county")  # minimum 5: nobody is ranked
    assert not default.ranked and not default.red and [u.code for u, _ in default.below_minimum] == [
        "gaj", "jtj", "zfj", "zjj"]


def test_relative_scoring_measures_each_unit_against_the_best_of_its_group():
    """甲: 签收 5/10, 解决 2/4, 满意 2/4 → absolute 50.0; 乙: 签收 4/10, 解决 1/4, 满意 1/4 → 0.04 + 0.125 + 0.1 = 26.5.
    比值法, the group's best being 甲's 0.5 everywhere: 甲 100.0; 乙 0.1 × 0.8 + 0.5 × 0.5 + 0.4 × 0.5 = 53.0."""
    def figures(on_time: int, solved: int, satisfied: int) -> Figures:
        f = Figures(accept_base=10, accepted_on_time=on_time, callbacks=4, solved=solved, satisfied=satisfied,
                    dissatisfied=4 - satisfied, orders=10)
        f.score = score(f, WEIGHTS)
        return f

    table = [(Unit("department", 1, "甲", "a"), figures(5, 2, 2)), (Unit("department", 2, "乙", "b"), figures(4, 1, 1))]
    absolute = rank(NOVEMBER, "county", table, WEIGHTS, 5, 1)
    relative = rank(NOVEMBER, "county", table, WEIGHTS, 5, 1, mode="relative")
    assert [(u.name, round(s, 1)) for u, _, s in absolute.ranked] == [("甲", 50.0), ("乙", 26.5)]
    assert [(u.name, round(s, 1)) for u, _, s in relative.ranked] == [("甲", 100.0), ("乙", 53.0)]
    assert table[1][1].score == pytest.approx(26.5), "/stats keeps showing the unit's own score"


async def test_a_tie_is_broken_by_orders_then_code_and_lists_never_overlap(sqlite_world):
    world = sqlite_world
    for _ in range(2):
        await world.file("T-LD")
    await world.file("T-WJ")
    world.later(hours=1)
    for t in (1, 2, 3):
        await world.accept(t, ZJJ_STAFF if t < 3 else ZFJ_STAFF)
    ranking = await world.indicators(min_orders=1, list_size=3).ranking(NOVEMBER, "county")
    assert [u.code for u, _, _ in ranking.ranked] == ["zjj", "zfj"]  # both 100: zjj has more orders
    assert [e.unit.code for e in ranking.red] == ["zjj"] and [e.unit.code for e in ranking.black] == ["zfj"]


async def test_utilities_and_townships_are_their_own_peer_groups(database, tmp_path):
    catalogue = tmp_path / "catalogue.yaml"
    shutil.copy(FIXTURES / "catalogue.yaml", catalogue)
    text = catalogue.read_text(encoding="utf-8")
    catalogue.write_text(text.replace("aliases: [环保, 环保局]}", "aliases: [环保, 环保局], group: utility}"),
                         encoding="utf-8")
    world = await build_world(database, catalogue)
    assert world.catalogue.departments["hbj"].group == "utility"
    assert world.catalogue.departments["zfj"].group == "county"
    async with world.db.session() as s:
        mz = Department(code="mz", name="密州街道", kind=DepartmentKind.TOWNSHIP)
        s.add(mz)
        await s.flush()
        s.add(Grid(code="mz-01", name="第一网格", township_id=mz.id))
    for _ in range(3):
        await world.file("T-LD")  # the resident's home grid, ld-01
    ind = world.indicators(min_orders=3)
    utility = await ind.ranking(NOVEMBER, "utility")
    assert [u.code for u, _ in utility.no_orders] == ["hbj"] and not utility.ranked
    county = await ind.ranking(NOVEMBER, "county")
    assert "hbj" not in [u.code for u, _ in county.no_orders + county.below_minimum]
    assert [u.code for u, _ in (await ind.ranking(NOVEMBER, "township")).unscored] == ["ld"], "nothing decided yet"
    world.later(hours=5)  # the accept limits have passed: a score (0: none accepted)
    townships = await ind.ranking(NOVEMBER, "township")
    assert [(u.code, score) for u, _, score in townships.ranked] == [("ld", 0.0)]
    assert [u.code for u, _ in townships.no_orders] == ["mz"]
    with pytest.raises(ValueError):
        await ind.ranking(NOVEMBER, "nonsense")


def test_a_department_group_the_catalogue_does_not_know_is_refused(tmp_path):
    catalogue = tmp_path / "catalogue.yaml"
    text = (FIXTURES / "catalogue.yaml").read_text(encoding="utf-8")
    catalogue.write_text(text.replace("aliases: [环保, 环保局]}", "aliases: [环保, 环保局], group: water}"),
                         encoding="utf-8")
    with pytest.raises(CatalogueError, match="group must be one of county, utility"):
        load_catalogue(catalogue)


async def test_the_score_leaves_out_missing_rates_and_renormalises(sqlite_world):
    world = sqlite_world
    ticket = await world.file("T-LD")
    world.later(hours=1)
    await world.accept(ticket, ZJJ_STAFF)
    await world.resolve(ticket, ZJJ_STAFF)
    await world.flow.callback.rate(ticket, world.p[RESIDENT], True, "basic")
    f = await world.indicators().figures(NOVEMBER)
    assert f.score == pytest.approx(100 * (0.1 + 0.5 + 0.4 * 0.9))  # all three rates present
    only_accept = await world.indicators(score_weights="响应:1,办结:1").figures(NOVEMBER)
    assert only_accept.score == 100.0, "按时办结率 has no denominator yet (due Sunday): left out"
    nothing = await world.indicators().figures(DECEMBER)
    assert nothing.score is None and dict(nothing.rows())["综合得分"] == "—"
