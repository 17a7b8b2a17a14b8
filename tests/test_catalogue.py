"""The responsibility catalogue: validation of broken files, and the shipped catalogue's coverage."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp.catalogue import (
    CLOCK_STAGES,
    DEFAULT_CATALOGUE,
    TOWNSHIP,
    CatalogueError,
    check_catalogue,
    load_catalogue,
    parse_clock,
)
from nlp.commands import cmd_catalogue_check
from nlp.taxonomy import CATEGORIES, TAXONOMY

FIXTURES = Path(__file__).parent / "fixtures" / "nlp"
BROKEN = FIXTURES / "broken_catalogue.yaml"


def test_broken_catalogue_lists_every_problem_by_entry() -> None:
    with pytest.raises(CatalogueError) as info:
        load_catalogue(BROKEN)
    problems = info.value.problems
    assert str(info.value) == "\n".join(problems)
    text = "\n".join(problems)
    expected = [
        "duplicate key '扰民'",
        "departments[1] (zjj): duplicate department code",
        "departments[2] (Bad Code): code must be",
        "matters[1] (BAD-CATEGORY): '不存在的二级分类' is not a second-level category of '城乡建设'",
        "matters[1] (BAD-CATEGORY): lead 'nobody'",
        "matters[1] (BAD-CATEGORY): cooperate lists a department twice",
        "matters[1] (BAD-CATEGORY): keyword '噪音': weight must be",
        "matters[1] (BAD-CATEGORY): emergency must be true or false",
        "matters[1] (BAD-CATEGORY): clock accept: '2x'",
        "matters[1] (BAD-CATEGORY): clock 'arrive' must be set exactly when onsite is true",
        "matters[2] (THIS-CODE-IS-TOO-LONG): unknown field 'colour'",
        "matters[2] (THIS-CODE-IS-TOO-LONG): code must be 1-12",
        "matters[2] (THIS-CODE-IS-TOO-LONG): unknown first-level category",
        "matters[2] (THIS-CODE-IS-TOO-LONG): keywords must be a non-empty mapping",
        "matters[2] (THIS-CODE-IS-TOO-LONG): clock 'accept' is required",
        "matters[3] (OK-01): duplicate matter code",
    ]
    for fragment in expected:
        assert fragment in text, fragment
    assert all(p.startswith(str(BROKEN)) for p in problems)
    assert check_catalogue(BROKEN) == problems


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    assert check_catalogue(tmp_path / "missing.yaml") == [f"{tmp_path / 'missing.yaml'}: file not found"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nmatters: [\n", encoding="utf-8")
    [problem] = check_catalogue(bad)
    assert "YAML syntax error" in problem
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n", encoding="utf-8")
    assert "must be a mapping" in check_catalogue(listy)[0]


def test_catalogue_check_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cmd_catalogue_check(str(BROKEN)) == 2
    err = capsys.readouterr().err
    assert "matters[1] (BAD-CATEGORY)" in err and "problem(s) in" in err
    assert cmd_catalogue_check(None) == 0
    assert "OK" in capsys.readouterr().out


def test_shipped_catalogue_is_a_realistic_county_list() -> None:
    catalogue = load_catalogue(DEFAULT_CATALOGUE)
    matters = list(catalogue.matters.values())
    assert len(matters) >= 100
    assert {m.category1 for m in matters} == set(CATEGORIES)
    assert len(CATEGORIES) == 15
    assert len(catalogue.departments) >= 20
    for m in matters:
        assert m.category2 in TAXONOMY[m.category1]
        assert len(m.code) <= 12 and m.code.isascii()
        assert {"accept", "resolve"} <= set(m.clocks) <= set(CLOCK_STAGES)
        assert ("arrive" in m.clocks) == m.onsite
        assert len(m.keywords) >= 5, m.code
        for dept in (m.lead, *m.cooperate):
            assert dept == TOWNSHIP or dept in catalogue.departments
    # townships take part as 属地, and the emergencies the bot must escalate are there
    assert any(TOWNSHIP in (m.lead, *m.cooperate) for m in matters)
    emergencies = {m.name for m in matters if m.emergency}
    assert {"火灾", "燃气泄漏"} <= emergencies and len(emergencies) >= 4
    assert catalogue.matter("CX-01").name == "违法建设"
    with pytest.raises(KeyError):
        catalogue.matter("NOPE")


def test_parse_clock() -> None:
    assert parse_clock("5wd") == (5, "wd")
    assert parse_clock("2h") == (2, "h")
    assert parse_clock("30m") == (30, "m") and parse_clock("0.5wd") == (0.5, "wd")
    for bad in ("0h", "2", "h2", "3w"):
        with pytest.raises(ValueError):
            parse_clock(bad)
