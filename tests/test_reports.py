"""Charts and workbooks (bot/reports): Chinese renders as Chinese (not tofu boxes), pictures have a fixed size fit
for Telegram, workbooks open in openpyxl with frozen bold headers, county-time datetimes and legal sheet titles."""

from __future__ import annotations

import io
import warnings
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.calendar import TZ
from bot.reports import charts
from bot.reports.fonts import FontMissing, find_cjk_font, font_properties, mpl
from bot.reports.workbook import Sheet, sheet_title, text_width, workbook


@pytest.fixture(scope="module")
def cjk_font() -> Path:
    try:
        return find_cjk_font()
    except FontMissing as e:
        pytest.skip(f"no CJK font installed (.ci/run installs fonts-wqy-microhei): {e}")


def latin_font() -> Path:
    """matplotlib's own DejaVu Sans: no Chinese glyphs, so every Chinese character is the same box."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def ink(text: str, font: Path):
    """The pixels a string inks, drawn alone in the font at 48 pt, as a boolean array."""
    import numpy as np

    Figure, Canvas = mpl()[0], mpl()[1]
    fig = Figure(figsize=(2, 1), dpi=100, facecolor="white")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Glyph … missing from font": the point of the reference
        fig.text(0.05, 0.2, text, fontproperties=font_properties(font, 48), color="black")
        canvas = Canvas(fig)
        canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., 0] < 128


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


# -- Chinese, not tofu --------------------------------------------------------------------------
def test_the_chart_font_has_the_chinese_glyphs(cjk_font):
    font = mpl()[2].FT2Font(str(cjk_font))
    for c in "网格通指挥中心按时办结率满意度排名":
        assert font.get_char_index(ord(c)) != 0, f"{c} is missing from {cjk_font}"
    assert mpl()[2].FT2Font(str(latin_font())).get_char_index(ord("网")) == 0


def test_chinese_renders_as_distinct_glyphs_not_tofu(cjk_font):
    # the reference: a font without the glyphs draws 网 and 格 as the very same box
    tofu_wang, tofu_ge = ink("网", latin_font()), ink("格", latin_font())
    assert tofu_wang.any() and (tofu_wang == tofu_ge).all()
    wang, ge = ink("网", cjk_font), ink("格", cjk_font)
    assert wang.sum() > 50 and ge.sum() > 50
    assert (wang != ge).sum() > 50, "two different characters render alike: tofu"
    assert (wang != tofu_wang).sum() > 50, "网 renders like the missing-glyph box"
    assert (ink("网格", cjk_font) != ink("□□", cjk_font)).sum() > 50


def test_a_font_without_chinese_is_refused_with_a_clear_error(monkeypatch):
    monkeypatch.setenv("GRIDBOT_CJK_FONT", str(latin_font()))
    with pytest.raises(FontMissing, match="GRIDBOT_CJK_FONT"):
        charts.bar_chart("网格", ["a"], [1.0])
    monkeypatch.setenv("GRIDBOT_CJK_FONT", "/nowhere/font.ttc")
    with pytest.raises(FontMissing, match="fonts-wqy-microhei"):
        charts.figures_card("网格", [("受理", "1")])


# -- the pictures -------------------------------------------------------------------------------
def test_a_bar_chart_is_a_fixed_size_png_and_the_same_data_gives_the_same_picture(cjk_font):
    labels = ["住建局", "城管局", "诸城市龙都街道", "交通局"]
    picture = charts.bar_chart("按时办结率（本月）", labels, [92.5, 80.0, None, 100.0])
    assert png_size(picture) == (1024, 576)
    assert len(picture) < 200_000
    assert charts.bar_chart("按时办结率（本月）", labels, [92.5, 80.0, None, 100.0]) == picture
    assert charts.bar_chart("按时办结率（本月）", labels, [92.5, 81.0, None, 100.0]) != picture
    many = charts.bar_chart("受理量", [f"{i}月" for i in range(1, 13)], [float(i) for i in range(12)], unit="件")
    assert png_size(many) == (1024, 576)
    with pytest.raises(ValueError):
        charts.bar_chart("x", ["a", "b"], [1.0])


def test_a_ranking_chart_grows_with_its_rows_only(cjk_font):
    rows = [("城管局", 95.2), ("住建局", 90.0), ("交通局", 71.5), ("龙都街道", 60.25)]
    picture = charts.ranking_chart("综合得分排名", rows, unit="分")
    width, height = png_size(picture)
    assert width == 1024 and height == png_size(charts.ranking_chart("另一个标题", [(n, 1.0) for n in "甲乙丙丁"]))[1]
    assert png_size(charts.ranking_chart("排名", rows * 20))[1] <= 140 + 34 * charts.MAX_RANKED
    assert png_size(charts.ranking_chart("排名", []))[0] == 1024


def test_a_figures_card(cjk_font):
    rows = [("受理", "12"), ("及时签收率", "91.7%"), ("满意率", "95.0%"), ("响应时长（中位数）", "18分钟")]
    card = charts.figures_card("今日概况", rows)
    width, height = png_size(card)
    assert width <= 1280 and height == 80 + 44 * 4 + 20
    assert png_size(charts.figures_card("今日概况", []))[1] == 80 + 44 + 20


# -- workbooks ----------------------------------------------------------------------------------
def test_a_workbook_opens_with_frozen_bold_headers_and_its_values():
    import openpyxl

    at = datetime(2026, 11, 26, 1, 5, tzinfo=UTC)  # 09:05 in the county
    tickets = Sheet("工单", ["编号", "受理时间", "部门", "用时（小时）", "日期"],
                    [["ZC-20261126-0001", at, "住建局", 1.5, date(2026, 11, 26)],
                     ["ZC-20261126-0002", None, "城管局", 2, None]])
    units = Sheet("单位指标", ["单位", "按时办结率"], [["住建局", 0.925], ["龙都街道", None]])
    book = openpyxl.load_workbook(io.BytesIO(workbook([tickets, units])))
    assert book.sheetnames == ["工单", "单位指标"]
    ws = book["工单"]
    assert ws.freeze_panes == "A2" and book["单位指标"].freeze_panes == "A2"
    assert [c.value for c in ws[1]] == tickets.header and all(c.font.b for c in ws[1])
    assert [c.value for c in ws[2]][0] == "ZC-20261126-0001" and ws["C2"].value == "住建局" and ws["D2"].value == 1.5
    assert ws["B2"].value == datetime(2026, 11, 26, 9, 5)  # local, naive: Excel has no time zone
    assert ws["B2"].value.replace(tzinfo=TZ) == at  # the round trip
    assert ws["B2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["E2"].value.date() == date(2026, 11, 26)
    assert ws["B3"].value is None and ws["D3"].value == 2
    assert [[c.value for c in row] for row in book["单位指标"].iter_rows(min_row=2)] == [["住建局", 0.925],
                                                                                        ["龙都街道", None]]
    assert ws.column_dimensions["A"].width == len("ZC-20261126-0001") + 2
    assert ws.column_dimensions["C"].width == 6 + 2  # 住建局: three wide characters


def test_sheet_titles_are_made_legal_and_unique():
    import openpyxl

    assert sheet_title("工单 [11/26]: 住建局?*") == "工单 _11_26__ 住建局__"
    assert len(sheet_title("很长的标题" * 10)) == 31
    assert sheet_title("'[]'") == "__"
    sheets = [Sheet("a/b", ["x"], []), Sheet("A_B", ["x"], []), Sheet("", ["x"], [["y"]])]
    book = openpyxl.load_workbook(io.BytesIO(workbook(sheets)))
    assert book.sheetnames == ["a_b", "A_B (2)", "Sheet"]
    assert text_width("住建局 A1") == 9
    assert openpyxl.load_workbook(io.BytesIO(workbook([]))).sheetnames == ["Sheet1"]


def test_given_widths_win():
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(workbook([Sheet("t", ["a", "b"], [[1, 2]], widths=[30, 12.5])])))
    ws = book["t"]
    assert (ws.column_dimensions["A"].width, ws.column_dimensions["B"].width) == (30, 12.5)
