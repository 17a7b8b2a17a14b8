"""Classification: keyword model, learned model, dispatcher learning, emergencies, similarity and the CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from nlp.catalogue import load_catalogue
from nlp.classifier import DEFAULT_THRESHOLD, Classification, Classifier
from nlp.commands import cmd_classify, cmd_eval, cmd_train
from nlp.data import DataError, read_labelled_csv
from nlp.features import KeyTable, feature_keys, features, gram_keys
from nlp.segment import init_jieba, normalise, tokens
from nlp.similarity import ExampleMemory, similarity
from nlp.training import train_model

FIXTURES = Path(__file__).parent / "fixtures" / "nlp"
TRAIN = FIXTURES / "train_small.csv"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture()
def keywords_only(catalogue) -> Classifier:
    return Classifier.load(catalogue)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model") / "model.npz"
    assert cmd_train([str(TRAIN)], str(out), history=[("楼道灯不亮了没人修", "CX-04")]) == 0
    return out


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("楼下烧烤店油烟太大", "HB-05"),
        ("小区门口路灯坏了好几天", "CX-04"),
        ("老板拖欠我们三个月工资", "LD-01"),
        ("半夜工地施工吵得睡不着", "HB-03"),
        ("家里停水两天了", "CX-08"),
        ("暖气不热，屋里才十几度", "CX-11"),
        ("出租车司机拒载还绕路", "JT-01"),
        ("孩子上学划片不合理", "JY-01"),
        ("有人在路边摆摊占道经营", "CX-06"),
        ("村里低保评得不公平", "MZ-01"),
        ("医保异地报销太麻烦", "LD-06"),
        ("ＡＰＰ登录不了", "KJ-03"),  # full-width letters are normalised
    ],
)
def test_keyword_model_routes_colloquial_sentences(keywords_only: Classifier, text: str, code: str) -> None:
    result = keywords_only.classify(text)
    assert result.top is not None and result.top.code == code
    assert result.confident(DEFAULT_THRESHOLD)
    assert not result.emergency
    confidences = [c.confidence for c in result.candidates]
    assert confidences == sorted(confidences, reverse=True) and len(confidences) <= 5
    assert all(0 < c <= 1 for c in confidences)


@pytest.mark.parametrize("text", ["我家楼下着火了，浓烟很大", "厨房闻到煤气味", "有人落水了快来人", "电线掉下来了还在冒火花"])
def test_emergencies_are_flagged(keywords_only: Classifier, text: str) -> None:
    result = keywords_only.classify(text)
    assert result.emergency
    assert result.top is not None and load_catalogue().matter(result.top.code).emergency


@pytest.mark.parametrize("text", ["小区存在火灾隐患", "楼下烧烤店油烟太大", "学校组织消防演练时着火了怎么办的宣传"])
def test_routine_reports_are_not_emergencies(keywords_only: Classifier, text: str) -> None:
    assert not keywords_only.classify(text).emergency


def test_hazard_phrase_beats_nested_emergency_word(keywords_only: Classifier) -> None:
    # "火灾隐患" contains "火灾": the longer keyword decides, so this is a fire-safety hazard, not a fire
    assert keywords_only.classify("小区存在火灾隐患").top.code == "ZF-07"


def test_gibberish_is_not_confident(keywords_only: Classifier, catalogue, model_path: Path) -> None:
    for text in ("啊啊啊哈哈哈", "asdfgh", "", "   ！！！"):
        result = keywords_only.classify(text)
        assert result == Classification((), False) or not result.confident(DEFAULT_THRESHOLD)
    learned = Classifier.load(catalogue, model_path)
    result = learned.classify("啊啊啊哈哈哈")
    assert result.top is not None and result.top.confidence < DEFAULT_THRESHOLD


def test_dispatcher_correction_changes_next_prediction(keywords_only: Classifier) -> None:
    before = keywords_only.classify("小区门口有人摆摊卖菜")
    assert before.top.code == "CX-06"
    keywords_only.learn("小区门口有人摆摊卖菜", "SM-07")  # the dispatcher says: market management
    after = keywords_only.classify("小区门口又有人摆摊卖菜了")
    assert after.top.code == "SM-07" and after.confident(DEFAULT_THRESHOLD)
    # unrelated messages are unaffected
    assert keywords_only.classify("家里停水两天了").top.code == "CX-08"
    with pytest.raises(KeyError):
        keywords_only.learn("随便", "NO-SUCH")


def test_correction_overrules_the_learned_model(catalogue, model_path: Path) -> None:
    classifier = Classifier.load(catalogue, model_path)
    text = "学校门口的小摊卖三无食品"
    assert classifier.classify(text).top.code != "SM-07"
    classifier.learn_many([(text, "SM-07")])
    assert classifier.classify("学校门口小摊卖三无食品").top.code == "SM-07"


def test_learned_model_uses_training_and_history(catalogue, model_path: Path) -> None:
    classifier = Classifier.load(catalogue, model_path)
    assert classifier.model is not None and set(classifier.model.labels) == {
        "环境保护", "劳动和社会保障", "教育文体", "城乡建设"
    }
    # history stored in the model file was replayed into the example memory
    assert classifier.classify("楼道灯不亮了一直没人修").top.code == "CX-04"
    result = classifier.classify("饭店油烟熏得家里都是味")
    assert result.top.code == "HB-05"
    # a category the model never saw still gets candidates from strong keywords
    assert "JT-01" in {c.code for c in classifier.classify("出租车司机拒载还绕路").candidates}


def test_train_rejects_unknown_labels(catalogue, tmp_path: Path) -> None:
    bad = tmp_path / "bad_labels.csv"
    bad.write_text("title,detail,label\n小区物业乱收费,,城乡建设\n工资,,不存在的分类\n", encoding="utf-8")
    with pytest.raises(DataError, match="unknown label"):
        train_model(catalogue, read_labelled_csv(bad))


def test_eval_cli_reports_json(model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(FIXTURES / "eval_small.csv")
    assert cmd_eval(str(model_path), data, "title") == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) >= {"macro_f1", "accuracy", "per_class_f1", "messages_per_second"}
    assert report["accuracy"] >= 5 / 6 and report["messages_per_second"] > 0
    assert set(report["per_class_f1"]) == {"环境保护", "劳动和社会保障", "教育文体", "城乡建设"}
    assert cmd_eval(None, data, "title+detail") == 0  # zero-shot keyword model
    assert json.loads(capsys.readouterr().out)["macro_f1"] >= 0.8


def test_classify_cli(model_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cmd_classify("我家楼下着火了", None) == 0
    out = capsys.readouterr().out
    assert "EMERGENCY" in out and "CX-25" in out and "消防救援大队" in out
    assert cmd_classify("小区物业乱收费", str(model_path)) == 0
    assert "CX-12" in capsys.readouterr().out
    assert cmd_classify("随便", "/nonexistent/model.npz") == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("missing_column.csv", "missing column(s) detail"),
        ("empty.csv", "empty file"),
        ("gbk.csv", "not UTF-8"),
        ("no_such_file.csv", "file not found"),
    ],
)
def test_bad_csv_gets_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, fragment: str
) -> None:
    path = str(FIXTURES / name)
    assert cmd_train([path], str(tmp_path / "m.npz")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err and name in err
    assert cmd_eval(None, path) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err
    assert not (tmp_path / "m.npz").exists()


def test_model_file_that_is_not_a_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = tmp_path / "fake.npz"
    fake.write_bytes(b"not a model")
    assert cmd_eval(str(fake), str(FIXTURES / "eval_small.csv")) == 2
    assert "not a GridBot model" in capsys.readouterr().err


def test_similarity() -> None:
    assert similarity("小区门口路灯坏了", "小区门口路灯坏了！") == pytest.approx(1.0)
    assert similarity("小区门口路灯坏了", "小区门口的路灯又坏了") > 0.6
    assert similarity("小区门口路灯坏了", "公司拖欠工资三个月") < 0.1
    assert similarity("", "任何") == 0.0
    a, b = "楼下烧烤店油烟太大", "烧烤店油烟扰民"
    assert similarity(a, b) == pytest.approx(similarity(b, a))
    memory = ExampleMemory()
    memory.add("小区门口路灯坏了", "CX-04")
    memory.add("公司拖欠工资", "LD-01")
    assert set(memory.best("小区门口的路灯坏了", 0.5)) == {"CX-04"}
    assert memory.best("完全无关的话", 0.5) == {}


def test_segmentation_uses_catalogue_words(catalogue) -> None:
    init_jieba(catalogue)
    init_jieba(catalogue)  # idempotent
    assert "私搭乱建" in tokens("小区里私搭乱建严重")
    assert normalise("ＡＰＰ １１０ ") == "app 110"


def test_features_do_not_span_punctuation() -> None:
    grams = features("小区。物业")
    assert "区。物" not in grams and "区物" not in grams
    assert {"小区", "物业", "小", "业"} <= set(grams)


# Texts that exercise the integer-key fast path's edge cases: separators of every kind, digits and Latin
# letters, full-width forms (normalised or not), underscores, single characters, repeated n-grams (sublinear
# tf), NUL, the U+FFFF padding character, and characters outside the BMP (emoji, CJK extension B).
TRICKY_TEXTS = [
    "",
    "小",
    "a",
    "_",
    "！！！",
    "小区。物业",
    "小区门口路灯坏了好几天",
    "的的的的的的",
    "小区小区小区，物业物业",
    "abcabc abc_abc",
    "app登录不了110打不通",
    "ＡＰＰ登录不了１１０",
    "路灯_坏了__三天",
    "暖气不热了😡😡😡",
    "𠀀𠀁小区𠀀",
    "小区\0物业",
    "小区\uffff物业",
    "半夜工地施工吵得睡不着。。。楼下烧烤店油烟太大！！！",
    "  空格  分隔\t制表\n换行  ",
    "老板拖欠工资老板拖欠工资老板拖欠工资",
]


def test_feature_keys_are_the_string_features(catalogue, model_path: Path) -> None:
    model = Classifier.load(catalogue, model_path).model
    assert model is not None
    for raw in TRICKY_TEXTS:
        for text in (raw, normalise(raw)):
            keys = feature_keys(text)
            if keys is None:  # the string path: NUL, U+FFFF or a character outside the BMP
                assert any(ch in text for ch in "\0\uffff") or any(ord(ch) > 0xFFFF for ch in text)
                assert model.margins(text) == model.scores(features(text)).tolist()
                continue
            assert keys.shape == (3, len(text))
            # every string feature has its key among the text's keys, as often as it occurs
            grams = features(text)
            gram_key, keyable = gram_keys(grams) if grams else (np.empty(0, np.uint64), np.empty(0, bool))
            assert keyable.all()
            assert Counter(gram_key.tolist()) - Counter(keys.ravel().tolist()) == Counter()
            assert model.margins(text) == pytest.approx(model.scores(grams).tolist(), abs=1e-5)
    for row in read_labelled_csv(TRAIN) + read_labelled_csv(FIXTURES / "eval_small.csv"):
        text = normalise(f"{row.title}\n{row.detail}")
        assert model.margins(text) == pytest.approx(model.scores(features(text)).tolist(), abs=1e-5)
    with pytest.raises(ValueError):
        gram_keys(["小区物业"])  # only 1-3-grams have keys


def test_text_outside_the_fast_path_is_classified_alike(catalogue, model_path: Path) -> None:
    classifier = Classifier.load(catalogue, model_path)
    fast = classifier.classify("楼下烧烤店油烟太大")
    for text in ("楼下烧烤店油烟太大😡", "楼下烧烤店油烟太大\0"):  # the string path, the same features
        slow = classifier.classify(text)
        assert [c.code for c in slow.candidates] == [c.code for c in fast.candidates]
        assert [c.confidence for c in slow.candidates] == pytest.approx([c.confidence for c in fast.candidates], abs=2e-4)


def test_key_table_finds_exactly_its_keys() -> None:
    rng = np.random.default_rng(3)
    keys = np.unique(rng.integers(1, 2**48, 5000, dtype=np.uint64))
    values = np.arange(len(keys), dtype=np.int32)
    table = KeyTable(keys, values)
    queries = np.concatenate([keys[::7], rng.integers(1, 2**48, 500, dtype=np.uint64), keys[:3], keys[:3]])
    expected = {key: value for key, value in zip(keys.tolist(), values.tolist(), strict=True)}
    assert table.values(queries).tolist() == [expected[q] for q in queries.tolist() if q in expected]
    assert table.values(np.empty(0, dtype=np.uint64)).tolist() == []
    with pytest.raises(ValueError):
        KeyTable(np.array([5, 5], dtype=np.uint64), np.array([0, 1]))
