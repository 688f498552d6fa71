"""The dashboard's SVG charts as pure code: well-formed, proportional, labelled, mirrored."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from web.charts import (
    PALETTE,
    ChartText,
    Series,
    column_chart,
    column_layout,
    line_chart,
    nice_ceiling,
    row_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
TEXT = ChartText(title="Status per body", summary="JIU leads.", empty="Nothing to show yet.")


def fmt(value: float) -> str:
    return f"{value:g}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def bars(root: ET.Element) -> list[ET.Element]:
    """The data rectangles: those with a tooltip (legend swatches have none)."""
    return [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]


STATUS = [Series("Verified", (2.0, 1.0)), Series("In progress", (4.0, 0.0))]


def test_a_column_chart_is_well_formed_svg_named_and_described() -> None:
    root = parse(column_chart(key="status", text=TEXT, categories=["JIU", "IMAC"],
                              series=STATUS, fmt=fmt))  # fmt: skip

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "status-title"
    assert root.get("aria-describedby") == "status-desc"
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == "status-title"
    assert title.text == "Status per body"
    assert desc is not None and desc.text == "JIU leads."


def test_segment_heights_are_proportional_to_their_values() -> None:
    root = parse(column_chart(key="status", text=TEXT, categories=["JIU", "IMAC"],
                              series=STATUS, fmt=fmt))  # fmt: skip

    heights = {
        (r.find(f"{SVG}title").text or ""): float(r.get("height", "0"))  # type: ignore[union-attr]
        for r in bars(root)
    }
    assert set(heights) == {"JIU · Verified: 2", "JIU · In progress: 4", "IMAC · Verified: 1"}
    assert heights["JIU · In progress: 4"] == pytest.approx(2 * heights["JIU · Verified: 2"])
    assert heights["JIU · Verified: 2"] == pytest.approx(2 * heights["IMAC · Verified: 1"])


def test_stacked_segments_sit_on_each_other() -> None:
    layout, top = column_layout(["JIU"], STATUS, plot_height=200)

    verified, in_progress = layout
    assert top == 10  # a total of 6 is drawn against an axis up to 10
    assert verified.height == pytest.approx(40) and in_progress.height == pytest.approx(80)
    assert in_progress.y + in_progress.height == pytest.approx(verified.y)


def test_labels_totals_and_legend_are_written_as_text() -> None:
    root = parse(column_chart(key="status", text=TEXT, categories=["JIU", "IMAC"],
                              series=STATUS, fmt=fmt))  # fmt: skip

    words = texts(root)
    assert {"JIU", "IMAC", "Verified", "In progress", "6", "1"} <= set(words)
    assert "0" in words and "10" in words  # the axis, from zero to a round top


def test_series_differ_by_pattern_not_only_by_colour() -> None:
    root = parse(column_chart(key="status", text=TEXT, categories=["JIU", "IMAC"],
                              series=STATUS, fmt=fmt))  # fmt: skip

    fills = {r.get("fill") for r in bars(root)}
    assert fills == {PALETTE[0], "url(#status-p1)"}
    pattern = root.find(f".//{SVG}pattern")
    assert pattern is not None and pattern.get("id") == "status-p1"


def test_user_text_is_escaped() -> None:
    root = parse(column_chart(key="x", text=TEXT, categories=["<b>&"],
                              series=[Series("a\"b", (1.0,))], fmt=fmt))  # fmt: skip

    assert "<b>&" in texts(root)


@pytest.mark.parametrize(
    "svg",
    [
        column_chart(key="e", text=TEXT, categories=[], series=[], fmt=fmt),
        column_chart(key="e", text=TEXT, categories=["JIU"], series=[Series("a", (0.0,))], fmt=fmt),
        row_chart(key="e", text=TEXT, categories=[], series=[], fmt=fmt),
        line_chart(key="e", text=TEXT, categories=["2020"], values=[None], fmt=fmt),
    ],
)
def test_an_empty_chart_says_so_and_keeps_its_name(svg: str) -> None:
    root = parse(svg)

    assert texts(root) == ["Nothing to show yet."]
    assert root.get("role") == "img"
    assert bars(root) == []


def test_right_to_left_mirrors_the_x_axis() -> None:
    ltr = parse(column_chart(key="s", text=TEXT, categories=["A", "B"],
                             series=[Series("n", (1.0, 2.0))], fmt=fmt))  # fmt: skip
    rtl = parse(column_chart(key="s", text=TEXT, categories=["A", "B"],
                             series=[Series("n", (1.0, 2.0))], fmt=fmt, rtl=True))  # fmt: skip

    assert (ltr.get("direction"), rtl.get("direction")) == ("ltr", "rtl")
    width = float(rtl.get("width", "0"))
    for left, right in zip(bars(ltr), bars(rtl), strict=True):
        mirrored = width - float(left.get("x", "0")) - float(left.get("width", "0"))
        assert float(right.get("x", "0")) == pytest.approx(mirrored)
    first_ltr, first_rtl = bars(ltr)[0], bars(rtl)[0]  # category A
    assert float(first_ltr.get("x", "0")) < width / 2 < float(first_rtl.get("x", "0"))


def test_row_chart_widths_are_proportional_and_names_are_above_the_bars() -> None:
    root = parse(row_chart(key="issues", text=TEXT, categories=["Accessibility", "Gender"],
                           series=[Series("open", (3.0, 1.0)), Series("closed", (1.0, 0.0))],
                           fmt=fmt))  # fmt: skip

    widths = [float(r.get("width", "0")) for r in bars(root)]
    assert widths[0] == pytest.approx(3 * widths[2])  # open: 3 against 1
    assert widths[1] == pytest.approx(widths[2])  # closed 1 in accessibility, open 1 in gender
    assert {"Accessibility", "Gender", "open", "closed", "4", "1"} <= set(texts(root))


def test_line_chart_places_points_by_value_and_leaves_gaps_for_unknowns() -> None:
    root = parse(line_chart(key="rate", text=TEXT, categories=["2019", "2020", "2021", "2022"],
                            values=[0.5, 1.0, None, 0.25], fmt=fmt))  # fmt: skip

    circles = list(root.iter(f"{SVG}circle"))
    assert len(circles) == 3
    ys = [float(c.get("cy", "0")) for c in circles]
    base = 24 + 220  # the x axis
    assert base - ys[1] == pytest.approx(2 * (base - ys[0]))
    assert base - ys[0] == pytest.approx(2 * (base - ys[2]))
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 1  # 2019 to 2020; 2022 stands alone after the gap
    assert len(lines[0].get("points", "").split()) == 2
    assert {"2019", "2022", "0.5", "0.25"} <= set(texts(root))


def test_mismatched_data_is_refused() -> None:
    with pytest.raises(ValueError, match="one value per category"):
        column_chart(key="x", text=TEXT, categories=["a", "b"], series=[Series("s", (1.0,))],
                     fmt=fmt)  # fmt: skip
    with pytest.raises(ValueError, match="negative"):
        row_chart(key="x", text=TEXT, categories=["a"], series=[Series("s", (-1.0,))], fmt=fmt)


@pytest.mark.parametrize(
    ("value", "top"), [(0, 1), (1, 1), (3, 5), (6, 10), (11, 20), (21, 25), (0.3, 0.5)]
)
def test_axis_tops_are_round_numbers_at_or_above_the_largest_value(
    value: float, top: float
) -> None:
    assert nice_ceiling(value) == pytest.approx(top)


def test_counts_get_whole_gridlines() -> None:
    root = parse(column_chart(key="c", text=TEXT, categories=["a"], series=[Series("s", (4.0,))],
                              fmt=fmt))  # fmt: skip

    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert ticks == ["0", "1", "2", "3", "4", "5"]


def test_rates_get_quarter_gridlines() -> None:
    root = parse(line_chart(key="r", text=TEXT, categories=["2020"], values=[0.4], fmt=fmt))

    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert ticks == ["0", "0.25", "0.5", "0.75", "1"]
