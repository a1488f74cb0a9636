"""Chart setup: the course theme, and the book renderer that needs no kernel or CDN."""

import json
import re

import altair as alt
import pandas as pd
import pytest

from mildip import charts


def test_the_course_theme_uses_the_colour_blind_safe_palette():
    assert alt.theme.active == "mildip"
    spec = alt.Chart(pd.DataFrame({"a": [1]})).mark_point().encode(x="a").to_dict()
    assert spec["config"]["range"]["category"] == charts.PALETTE


def test_book_renderer_embeds_the_spec_for_the_bundled_script():
    chart = alt.Chart(pd.DataFrame({"a": [1, 2]})).mark_bar().encode(x="a").properties(description="Two bars.")
    html = charts.book_mimebundle(chart.to_dict())["text/html"]
    assert 'class="mildip-chart"' in html
    payload = re.search(r'<script type="application/json" class="mildip-chart-spec">(.*?)</script>', html).group(1)
    assert json.loads(payload)["description"] == "Two bars."
    assert "http" not in html.split("<script")[0]


def test_book_renderer_refuses_a_chart_without_alt_text():
    chart = alt.Chart(pd.DataFrame({"a": [1]})).mark_bar().encode(x="a")
    with pytest.raises(ValueError, match="alt text"):
        charts.book_mimebundle(chart.to_dict())


def test_spec_text_cannot_close_the_script_tag():
    chart = alt.Chart(pd.DataFrame({"a": ["</script><b>"]})).mark_bar().encode(x="a").properties(description="x")
    html = charts.book_mimebundle(chart.to_dict())["text/html"]
    assert html.count("</script>") == 1
