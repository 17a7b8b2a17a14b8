"""Routing that is honest and specific: mood words do not decide, specific terms beat context, ties are broken the
same way in every process, a message that fits no matter goes to the dispatcher, the lead department decides
whether to route, and `gridbot nlp eval` scores and writes matter-level predictions."""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nlp.catalogue import load_catalogue
from nlp.classifier import DEFAULT_THRESHOLD, KEYWORD_NULL_EVIDENCE, KEYWORD_SHARPNESS, Classifier
from nlp.commands import cmd_eval
from nlp.evaluation import PREDICTION_COLUMNS
from nlp.keyword import NEUTRAL_WORDS, REPEAT_FACTOR, KeywordModel, keyword_specificity
from nlp.segment import normalise

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "nlp"
TIES = FIXTURES / "tie_catalogue.yaml"
OFFICES = FIXTURES / "office_catalogue.yaml"
MATTERS = FIXTURES / "matters_small.csv"


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier.load(load_catalogue())


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("小区门口路灯坏了好几天了没人管", "CX-04"),
        ("路灯坏了半个月，相关部门不作为", "CX-04"),
        ("强烈要求处理：楼下烧烤店油烟太大", "HB-05"),
        ("投诉！家里停水两天了", "CX-08"),
    ],
)
def test_a_mood_word_does_not_decide_the_matter(shipped: Classifier, text: str, code: str) -> None:
    result = shipped.classify(text)
    assert result.top is not None and result.top.code == code and result.confident(DEFAULT_THRESHOLD)
    # the mood words alone are no evidence of any matter (不作为 used to send street lights to 纪委)
    mood = shipped.classify("没人管，相关部门不作为，强烈要求处理，投诉")
    assert mood.candidates == () and not mood.confident(DEFAULT_THRESHOLD)


def test_mood_words_count_for_nothing_even_if_a_catalogue_lists_them(tmp_path: Path) -> None:
    text = TIES.read_text(encoding="utf-8").replace("{噪音: 3, 扰民: 3, 轰鸣: 3}", "{噪音: 3, 扰民: 3, 没人管: 3}")
    path = tmp_path / "catalogue.yaml"
    path.write_text(text, encoding="utf-8")
    classifier = Classifier(load_catalogue(path))
    assert "没人管" in NEUTRAL_WORDS
    assert classifier.classify("路灯坏了没人管").top.code == "T-LIGHT"
    assert classifier.keywords.matches("路灯坏了没人管") == ["路灯"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("晚自习的学生回家路上路灯不亮", "CX-04"),  # the students are who is affected, the lights the matter
        ("医保报销比例太低，在医院住院花了好多钱", "LD-06"),  # 医院/住院 are context of a 医保 complaint
        ("小区电梯又坏了，困过好几次", "SM-04"),  # lift safety is market supervision, not the 物业
        ("路面坑坑洼洼，晚上差点出车祸", "CX-03"),  # a near-miss is not a traffic accident
        ("老板拖欠了我们三个月的工资", "LD-01"),  # 拖欠…工资 split by what was owed
    ],
)
def test_the_specific_term_beats_the_context(shipped: Classifier, text: str, code: str) -> None:
    result = shipped.classify(text)
    assert result.top is not None and result.top.code == code


@pytest.mark.parametrize(
    ("text", "lead"),
    [
        ("小区的电梯经常出问题", "scj"),  # 电梯 was also a context word of 物业: discounted as generic
        ("村旁的造纸厂污染严重", "hbj"),  # a pollution source named as residents name it
        ("我们这里什么时候能用上天然气", "rqgs"),
        ("公交车站对面的快递代收点乱收费", "yzj"),
        ("一些老师师德太差", "jyj"),
        ("工厂排放有毒气体", "hbj"),
    ],
)
def test_a_title_in_residents_words_is_routed(shipped: Classifier, text: str, lead: str) -> None:
    """A short title naming one service in everyday words reaches its office without the dispatcher."""
    result = shipped.classify(text)
    assert result.lead == lead and result.confident(DEFAULT_THRESHOLD), (result.lead, result.lead_confidence)


def test_keyword_specificity_comes_from_the_catalogue() -> None:
    catalogue = load_catalogue()
    specificity = keyword_specificity(catalogue)
    # 医保 belongs to the medical-insurance office only; 拖欠 is in matters of two offices (wages, construction)
    assert specificity["医保"] == 1.0
    assert 0.4 < specificity["拖欠"] < 1.0
    model = KeywordModel(catalogue, tuple(catalogue.matters))
    assert model.matches(normalise("路灯坏了，不作为")) == ["路灯坏了"]


def test_the_detail_helps_but_the_title_decides(shipped: Classifier) -> None:
    vague = shipped.classify("反映一个情况")
    assert vague.candidates == ()
    helped = shipped.classify("反映一个情况", "我们村的路灯全坏了，晚上黑灯瞎火的")
    assert helped.top is not None and helped.top.code == "CX-04"
    # the same words in the title are stronger evidence than in the detail
    assert shipped.classify("村里的路灯全坏了").top.confidence > helped.top.confidence
    # and a detail that wanders off does not overrule a clear title
    result = shipped.classify("家里停水两天了", "我家老人身体不好，去医院看病回来发现没有水，学校的孩子也没法洗澡")
    assert result.top.code == "CX-08" and result.confident(DEFAULT_THRESHOLD)


@pytest.mark.parametrize(
    "text",
    [
        "你们窗口工作人员办事效率太低",
        "强烈要求领导重视，尽快处理",
        "说说我的困惑",
        "啊啊啊啊",
    ],
)
def test_a_message_that_fits_no_matter_goes_to_the_dispatcher(shipped: Classifier, text: str) -> None:
    assert not shipped.classify(text).confident(DEFAULT_THRESHOLD)


def test_an_agency_name_alone_is_not_enough_to_route(shipped: Classifier) -> None:
    result = shipped.classify("县卫生局")
    assert not result.confident(DEFAULT_THRESHOLD)


def test_routing_is_decided_on_the_lead_department(shipped: Classifier) -> None:
    # two candidate matters of one office (人社局): the ticket reaches the right office whichever it is
    result = shipped.classify("老板拖欠工资还不签劳动合同")
    assert {c.code for c in result.candidates[:2]} == {"LD-01", "LD-02"}
    assert result.lead == "rsj"
    # the office's evidence combines the keywords of both matters: more than either matter's probability,
    # and more than their sum (two signs of one office are stronger evidence than one)
    assert result.lead_confidence > sum(
        c.confidence for c in result.candidates if shipped.catalogue.matter(c.code).lead == "rsj"
    )
    assert result.confident(DEFAULT_THRESHOLD)


def test_keywords_of_several_matters_of_one_office_add_up() -> None:
    classifier = Classifier(load_catalogue(OFFICES))
    # one typical-object keyword (weight 2) alone stays with the dispatcher, whichever matter of rsj it names
    for text in ("工钱", "工伤", "轰鸣"):
        assert not classifier.classify(text).confident(DEFAULT_THRESHOLD)
    # one of each rsj matter: two signs of one office, routed to it
    both = classifier.classify("工钱还有工伤")
    assert both.lead == "rsj" and both.confident(DEFAULT_THRESHOLD)
    assert both.lead_confidence == pytest.approx(_office_probability(2.0 + REPEAT_FACTOR * 2.0, others=()), abs=1e-4)
    # signs of two offices do not add up
    assert not classifier.classify("工钱和轰鸣").confident(DEFAULT_THRESHOLD)


def test_a_keyword_listed_under_two_matters_of_one_office_counts_once() -> None:
    classifier = Classifier(load_catalogue(OFFICES))
    shared, single = classifier.classify("合同"), classifier.classify("工钱")
    assert {c.code for c in shared.candidates} == {"O-WAGE", "O-CONTRACT"}
    assert shared.lead == "rsj"
    assert shared.lead_confidence == pytest.approx(single.lead_confidence, abs=1e-4)
    assert classifier.keywords.evidence_by_lead("合同")[1] == {classifier.keywords.leads.index("rsj"): 2.0}


def _office_probability(evidence: float, others: tuple[float, ...]) -> float:
    """The keyword model's probability of an office with this evidence next to other offices and "no matter"."""
    weights = [math.exp(KEYWORD_SHARPNESS * e) for e in (evidence, *others, KEYWORD_NULL_EVIDENCE)]
    return weights[0] / sum(weights)


def test_a_tie_is_broken_by_catalogue_order() -> None:
    classifier = Classifier(load_catalogue(TIES))
    for text in ("路灯噪音", "噪音路灯", "照明扰民", "轰鸣灯杆"):
        result = classifier.classify(text)
        assert [c.code for c in result.candidates] == ["T-LIGHT", "T-NOISE"]
        assert result.candidates[0].confidence == result.candidates[1].confidence


_TIE_SCRIPT = """
import json, sys
from nlp.catalogue import load_catalogue
from nlp.classifier import Classifier
out = []
for path in sys.argv[1:]:
    classifier = Classifier(load_catalogue(path) if path != "-" else load_catalogue())
    for text in ("路灯噪音", "噪音路灯", "照明扰民工钱", "讨薪轰鸣灯杆", "扰民照明", "小区路灯坏了噪音扰民",
                 "医院看病医保报销", "学校门口摆摊卖三无食品", "工地施工噪音大还拖欠工资"):
        r = classifier.classify(text)
        out.append([[c.code, c.confidence] for c in r.candidates] + [r.lead, r.lead_confidence])
print(json.dumps(out, ensure_ascii=False))
"""


def test_the_same_message_routes_the_same_way_in_every_process() -> None:
    """String hashing differs between processes (PYTHONHASHSEED); the ranking must not depend on it."""
    outputs = set()
    for seed in ("0", "1", "2", "3", "4", "5", "6", "7"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", _TIE_SCRIPT, str(TIES), "-"], cwd=ROOT, env=env, capture_output=True, text=True,
            check=True,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
    first = json.loads(outputs.pop())
    assert [row[0][0] for row in first[:5]] == ["T-LIGHT", "T-LIGHT", "T-LIGHT", "T-LIGHT", "T-LIGHT"]


def test_eval_reports_matter_level_figures_and_writes_predictions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "predictions.csv"
    assert cmd_eval(None, str(MATTERS), "title", predictions=str(out)) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["level"] == "matter"
    assert set(report) >= {
        "matter_accuracy", "lead_accuracy", "routed_share", "confidently_wrong_share", "lead_accuracy_routed",
        "emergency_flags", "by_confidence",
    }
    with open(MATTERS, encoding="utf-8") as fh:
        records = list(csv.DictReader(fh))
    assert report["n"] == sum(1 for r in records if r["matter"])  # the unlabelled row is predicted, not scored
    assert report["none_rows"] == 2 and report["none_routed"] == 0
    with open(out, encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == PREDICTION_COLUMNS
    predictions = [dict(zip(PREDICTION_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert len(predictions) == len(records)  # one per input row, in order, the NONE and untitled ones included
    catalogue = load_catalogue()
    for record, p in zip(records, predictions, strict=True):
        assert p["routed"] in ("0", "1") and p["emergency"] in ("0", "1") and 0 <= float(p["confidence"]) <= 1
        if p["matter"]:
            assert p["lead"] == catalogue.matter(p["matter"]).lead
        else:
            assert p["lead"] == "" and p["routed"] == "0"
        if record["matter"] == "NONE":
            assert p["routed"] == "0"
    assert predictions[0]["matter"] == "CX-04" and predictions[0]["routed"] == "1"
    untitled = next(i for i, r in enumerate(records) if not r["title"])
    assert predictions[untitled]["matter"] == ""  # title mode: nothing to classify
    assert cmd_eval(None, str(MATTERS), "title+detail", predictions=str(out)) == 0
    capsys.readouterr()
    with open(out, encoding="utf-8") as fh:
        again = list(csv.DictReader(fh))
    assert again[untitled]["matter"] == "HB-03"  # title+detail: the detail alone


def test_eval_rejects_unknown_matter_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("title,detail,matter\n路灯坏了,,XX-99\n", encoding="utf-8")
    assert cmd_eval(None, str(bad), "title") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "XX-99" in err
