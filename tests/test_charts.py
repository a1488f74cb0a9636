"""Chart setup: the course theme, and the book renderer that needs no kernel or CDN."""

import json
import re

import altair as alt
import pandas as pd
import pytest

from mildip import charts
from mildip.book.markup import book_mimebundle


def payload(html: str) -> dict:
    found = re.search(r'<script type="application/json" class="mildip-chart-spec">(.*?)</script>', html)
    return json.loads(found.group(1).replace("<\\/", "</"))


def test_the_course_theme_uses_the_colour_blind_safe_palette():
    assert alt.theme.active == "mildip"
    spec = alt.Chart(pd.DataFrame({"a": [1]})).mark_point().encode(x="a").to_dict()
    assert spec["config"]["range"]["category"] == charts.PALETTE
    assert spec["config"]["timeFormat"] == charts.DATE_FORMAT


def test_book_renderer_embeds_a_compiled_vega_spec_for_the_bundled_script():
    chart = alt.Chart(pd.DataFrame({"a": [1, 2]})).mark_bar().encode(x="a").properties(description="Two bars.")
    html = book_mimebundle(chart.to_dict())["text/html"]
    assert 'class="mildip-chart"' in html
    spec = payload(html)
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega/")  # Vega, not Vega-Lite
    assert spec["description"] == "Two bars."
    assert "http" not in html.split("<script")[0]


def test_book_renderer_refuses_a_chart_without_alt_text():
    chart = alt.Chart(pd.DataFrame({"a": [1]})).mark_bar().encode(x="a")
    with pytest.raises(ValueError, match="alt text"):
        book_mimebundle(chart.to_dict())


def test_spec_text_cannot_close_the_script_tag():
    chart = alt.Chart(pd.DataFrame({"a": ["</script><b>"]})).mark_bar().encode(x="a").properties(description="x")
    html = book_mimebundle(chart.to_dict())["text/html"]
    assert html.count("</script>") == 1
    assert payload(html)["data"][0]["mildip:columns"]["a"] == ["</script><b>"]


def test_charts_fit_their_column_and_side_by_side_views_stack():
    single = alt.Chart(pd.DataFrame({"a": [1]})).mark_bar().encode(x="a").properties(width=560)
    fitted = charts.responsive(single.to_dict())
    assert fitted["width"] == "container"
    assert fitted["autosize"] == {"type": "fit-x", "contains": "padding", "resize": True}
    layered = charts.responsive((single + single).to_dict())
    assert layered["width"] == "container"
    pair = charts.responsive(alt.hconcat(single, single).to_dict())
    assert "hconcat" not in pair and [view["width"] for view in pair["vconcat"]] == ["container", "container"]


def test_inline_data_is_written_as_columns_with_rounded_floats():
    frame = pd.DataFrame({"year": [1950, 1951], "share": [0.5111090136857008, 0.25], "label": ["a", None]})
    chart = alt.Chart(frame).mark_point().encode(x="year", y="share").properties(description="d")
    data = [d for d in payload(book_mimebundle(chart.to_dict())["text/html"])["data"] if "mildip:columns" in d]
    columns = data[0]["mildip:columns"]
    assert columns["year"] == [1950, 1951]
    assert columns["share"] == [0.511109, 0.25]
    assert columns["label"] == ["a", None]
    assert "values" not in data[0]


def test_the_rendering_mode_is_decided_when_a_chart_is_drawn(monkeypatch):
    chart = alt.Chart(pd.DataFrame({"a": [1]})).mark_bar().encode(x="a").properties(description="d")
    assert alt.renderers.active == charts.RENDERER
    monkeypatch.delenv(charts.BOOK_ENV, raising=False)
    live = chart._repr_mimebundle_()
    live = live[0] if isinstance(live, tuple) else live
    assert "mildip-chart" not in str(live)
    monkeypatch.setenv(charts.BOOK_ENV, "1")
    book = chart._repr_mimebundle_()
    book = book[0] if isinstance(book, tuple) else book
    assert 'class="mildip-chart"' in book["text/html"]


def test_maps_use_the_outlines_the_site_ships(monkeypatch):
    monkeypatch.setenv(charts.BOOK_ENV, "1")
    outlines = charts.world_outlines().to_dict()
    assert outlines["url"] == charts.OUTLINES
    assert outlines["format"] == {"type": "topojson", "feature": "countries"}


def _book(tmp_path, mode, cache_path=""):
    from types import SimpleNamespace

    source = tmp_path / "book"
    (source / "_build" / "html").mkdir(parents=True)
    (source / "index.md").write_text("# Page\n", encoding="utf-8")
    app = SimpleNamespace(srcdir=str(source), outdir=str(source / "_build" / "html"))
    config = SimpleNamespace(nb_execution_mode=mode, nb_execution_cache_path=cache_path)
    return source, app, config


@pytest.mark.parametrize("mode", ["force", "auto", "off"])
def test_a_book_executed_without_a_cache_keeps_every_file(tmp_path, mode):
    from mildip.book import _clear_stale_cache

    source, app, config = _book(tmp_path, mode)
    _clear_stale_cache(app, config)
    assert sorted(p.name for p in source.iterdir()) == ["_build", "index.md"]


def test_a_cache_of_charts_in_an_older_markup_is_cleared_once(tmp_path):
    from mildip.book import _clear_stale_cache

    source, app, config = _book(tmp_path, "cache")
    cache = source / "_build" / ".jupyter_cache"
    cache.mkdir()
    (cache / "global.db").write_text("", encoding="utf-8")
    _clear_stale_cache(app, config)
    assert not (cache / "global.db").exists()
    assert (cache / "mildip-chart-markup").read_text(encoding="utf-8").strip() == charts.MARKUP_VERSION
    (cache / "global.db").write_text("", encoding="utf-8")
    _clear_stale_cache(app, config)
    assert (cache / "global.db").exists() and (source / "index.md").exists()


@pytest.mark.parametrize("setting", [".", ".."])
def test_a_cache_path_naming_the_book_itself_is_never_cleared(tmp_path, setting):
    from mildip.book import _clear_stale_cache

    source, app, config = _book(tmp_path, "cache", setting)
    (source / "global.db").write_text("", encoding="utf-8")
    _clear_stale_cache(app, config)
    assert (source / "index.md").exists() and (source / "global.db").exists()
