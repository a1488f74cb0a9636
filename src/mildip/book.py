"""Sphinx extension used by the book (``_config.yml`` lists it under ``extra_extensions``).

- Sets ``MILDIP_BOOK=1`` so that notebooks executed for the book render charts with the
  bundled client-side renderer (see :mod:`mildip.charts`).
- Writes one JavaScript file for the whole site, ``_static/mildip/vega.js``: Vega, Vega-Lite
  and Vega-Embed as bundled by the ``vl-convert-python`` package (no CDN, no network), plus a
  few lines that draw every chart on the page. It is loaded as an ES module, so its names
  cannot clash with Sphinx's own scripts.
"""

from __future__ import annotations

import os
from pathlib import Path

ASSET_DIR = "mildip"
SCRIPT = "vega.js"

# Draws every chart written by mildip.charts.book_mimebundle.
DRAW_CHARTS = """
function drawCharts() {
  for (const box of document.querySelectorAll("div.mildip-chart:not([data-drawn])")) {
    box.dataset.drawn = "pending";
    const spec = JSON.parse(box.querySelector("script.mildip-chart-spec").textContent);
    const view = box.querySelector(".mildip-chart-view");
    vegaEmbed(view, spec, { actions: false, renderer: "svg" })
      .then(() => { box.dataset.drawn = "yes"; })
      .catch((error) => {
        box.dataset.drawn = "failed";
        view.textContent = "This chart could not be drawn: " + error.message;
        console.error(error);
      });
  }
}
window.vegaEmbed = vegaEmbed;
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", drawCharts);
} else {
  drawCharts();
}
"""


def _vega_lite_version() -> str:
    import altair as alt

    major, minor = alt.SCHEMA_VERSION.lstrip("v").split(".")[:2]
    return f"{major}.{minor}"


def write_script(static_dir: Path) -> Path:
    """Write the bundled chart script into ``static_dir/mildip/`` (once per version)."""
    import vl_convert

    version = _vega_lite_version()
    target = static_dir / ASSET_DIR / SCRIPT
    stamp = target.with_suffix(".version")
    stamp_text = f"vl-convert {vl_convert.__version__}, vega-lite {version}\n{DRAW_CHARTS}"
    if target.is_file() and stamp.is_file() and stamp.read_text() == stamp_text:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(vl_convert.javascript_bundle(DRAW_CHARTS, vl_version=version), encoding="utf-8")
    stamp.write_text(stamp_text)
    return target


def _add_static_dir(app, config):
    static_dir = Path(app.outdir).parent / "mildip_static"
    write_script(static_dir)
    config.html_static_path.append(str(static_dir))


def setup(app):
    os.environ["MILDIP_BOOK"] = "1"
    app.connect("config-inited", _add_static_dir)
    app.add_js_file(f"{ASSET_DIR}/{SCRIPT}", type="module")
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
