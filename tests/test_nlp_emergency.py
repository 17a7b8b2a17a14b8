"""Emergencies are real dangers now: flagged with a kind whatever the catalogue says, and not raised by
hypotheticals, the past, prices, pollution complaints or words that merely contain a danger word."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp.catalogue import load_catalogue
from nlp.classifier import Classifier
from nlp.emergency import HOTLINES, KINDS, detect, detect_normalised
from nlp.segment import normalise

BOT_CATALOGUE = Path(__file__).parent / "fixtures" / "catalogue.yaml"
SHIPPED = Classifier.load(load_catalogue())


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("厨房闻到一股煤气味", "gas"),
        ("楼道里天然气泄漏了，味道很大", "gas"),
        ("楼道里一直有煤气味", "gas"),  # a lasting gas smell is still a danger
        ("配电箱冒烟还有火花", "electric"),
        ("电线掉下来了还在冒火花", "electric"),
        ("有人触电了倒在地上", "electric"),
        ("我家楼下着火了，浓烟很大", "fire"),
        ("楼道里着火了，好多烟", "fire"),
        ("有人掉进湖里了", "water"),
        ("河边有小孩落水了快来人", "water"),
        ("塔吊要倒了，下面还有工人", "collapse"),
        ("桥塌了有车掉下去", "collapse"),
        ("电梯里困了人，按铃没人应", "trapped"),
        ("有人被困在电梯里出不来了", "trapped"),
        ("楼顶有人要跳楼", "person"),
        ("路边有个老人晕倒了", "person"),
        ("小区门口有人持刀砍人", "violence"),
        ("饭店里两伙人打起来了", "violence"),
        ("孩子被锁在车里了，车停在太阳底下", "child_in_car"),
        ("化工厂氯气泄漏了，大家都在跑", "chemical"),
        ("公路上一辆槽罐车侧翻了，在泄漏", "chemical"),
    ],
)
def test_real_dangers_are_flagged_with_their_kind(text: str, kind: str) -> None:
    found = detect(text)
    assert found is not None and found.kind == kind
    result = SHIPPED.classify(text)
    assert result.emergency and result.emergency_kind == kind
    assert HOTLINES[kind]


@pytest.mark.parametrize(
    "text",
    [
        "小区消防通道被堵，万一着火了消防车都进不来",  # hypothetical
        "如果楼道里煤气泄漏了谁负责",
        "老房子电线老化，随时可能起火",
        "学校组织演练，模拟教学楼着火了怎么疏散",
        "这栋楼去年着过火，到现在还没修好",  # the past
        "前年这里有人掉进河里淹死了，至今没装护栏",
        "上次电梯困人以后一直没有整改",
        "煤气泄漏报警器收费太贵",  # money
        "天然气管道破裂的维修费谁出",
        "工厂烟囱冒出浓烟",  # pollution
        "附近工厂排放废气，浓烟滚滚",
        "楼下烧烤店油烟太大，满屋子都是烟",
        "宽带被电信垄断，网速太慢",  # 被电 in 被电信 is a company, not an electric shock
        "围墙倒了好几天没人管",  # a standing nuisance, not an incident
        "电梯经常困人，物业不管",
        "小区门口天天有人打架",
        "雨水落水管坏了",  # words that contain a danger word
        "别对我们进行道德绑架",
        "路面塌陷了一个大坑",
    ],
)
def test_hypotheticals_past_prices_and_pollution_are_not_emergencies(text: str) -> None:
    assert detect(text) is None
    result = SHIPPED.classify(text)
    assert not result.emergency and result.emergency_kind is None


def test_the_classifiers_screen_of_normalised_text_agrees_with_detect() -> None:
    texts = [
        "厨房闻到一股煤气味", "有人掉进湖里了", "万一着火了消防车都进不来", "小区门口路灯坏了",
        "ＡＢＣ小区　配电箱冒烟还有火花", "L市红星路", "", "被困在电梯里了！", "老板拖欠工资",
    ]
    for text in texts:
        assert detect_normalised(normalise(text)) == detect(text)
    # no trigger character at all (most messages): nothing to search
    assert detect_normalised("小区门口路灯坏了") is None


def test_a_letter_that_recounts_a_danger_is_not_an_alert() -> None:
    # the detail of a letter is narrative: only the message itself (a letter's title) can raise an alert
    result = SHIPPED.classify("请求解决小区电梯安全问题", "上个月，有位老人被困在电梯里两个小时，电梯里困了人也没人来")
    assert not result.emergency
    assert detect("电梯困人了，物业和开发商互相推责") is None  # what followed an incident: it is over


def test_only_the_lead_of_a_long_message_can_raise_an_alert() -> None:
    story = "我想反映一下我们小区这些年的情况，物业换了三家，停车越来越难，绿化也没人管，楼道堆满杂物，" * 2
    assert detect("楼道里着火了") is not None
    assert detect(story + "楼道里着火了") is None


def test_the_flag_does_not_depend_on_the_catalogue() -> None:
    # the bot's test catalogue has a single emergency matter; a gas leak is flagged all the same
    small = Classifier(load_catalogue(BOT_CATALOGUE))
    result = small.classify("厨房闻到煤气味")
    assert result.emergency and result.emergency_kind == "gas"
    assert small.classify("楼道里着火了，好多烟，冒烟冒得厉害").emergency


def test_every_kind_has_hotlines() -> None:
    assert set(KINDS) == set(HOTLINES)
    assert all(set(numbers) <= {"110", "119", "120"} and numbers for numbers in HOTLINES.values())


def test_an_emergency_routes_to_the_matter_that_handles_it() -> None:
    catalogue = SHIPPED.catalogue
    for text in ("我家楼下着火了，浓烟很大", "厨房闻到煤气味", "有人落水了快来人"):
        result = SHIPPED.classify(text)
        assert result.emergency and catalogue.matter(result.top.code).emergency
