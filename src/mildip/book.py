"""Sphinx extension used by the book (``_config.yml`` lists it under ``extra_extensions``).

It makes the built site self-contained (no CDN, no request to another host) and keeps
kernel-only features out of it:

- Sets ``MILDIP_BOOK=1`` so that notebooks executed for the book render charts with the
  bundled client-side renderer (see :mod:`mildip.charts`) and explorers from
  :mod:`mildip.widgets` show their table instead of a widget that would need a kernel.
- Writes one JavaScript file for the charts, ``_static/mildip/vega.js``: Vega, Vega-Lite
  and Vega-Embed as bundled by the ``vl-convert-python`` package, plus a few lines that draw
  every chart on the page. It is loaded as an ES module (so its names cannot clash with
  Sphinx's own scripts), and only on pages that have a chart.
- Writes ``_static/mildip/site.css``, loaded on every page (charts, their controls, tables),
  and fixes the theme's markup where axe-core finds WCAG 2 violations (see ``THEME_FIXES``).
- Serves MathJax from the site itself: ``mathjax_path`` points at a copy of MathJax 3 taken
  from the ``sphinx-mathjax-offline`` package (Sphinx's default is a CDN). Sphinx loads it
  only on pages with mathematics.
- Drops sphinx-thebe's scripts (Jupyter Book always adds them; they point at a CDN and make
  cells look runnable, but the book has no kernel) and myst-nb's ipywidgets loader (require.js
  and the widget manager from CDNs).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

ASSET_DIR = "mildip"
SCRIPT = "vega.js"
SITE_STYLE = "site.css"
MATHJAX_DIR = "mathjax"
MATHJAX_SCRIPT = "tex-chtml.js"
MATHJAX_PACKAGE = "sphinx-mathjax-offline"

# Draws every chart written by mildip.charts.book_mimebundle.
DRAW_CHARTS = """
function labelControls(box) {
  // Vega's bound inputs: give each control an accessible name even if its label is blank.
  for (const input of box.querySelectorAll(".vega-bind input, .vega-bind select")) {
    if (!input.getAttribute("aria-label")) {
      const name = input.closest(".vega-bind")?.querySelector(".vega-bind-name")?.textContent.trim();
      input.setAttribute("aria-label", name || input.name || "Chart control");
    }
  }
}
function drawCharts() {
  for (const box of document.querySelectorAll("div.mildip-chart:not([data-drawn])")) {
    box.dataset.drawn = "pending";
    const spec = JSON.parse(box.querySelector("script.mildip-chart-spec").textContent);
    const view = box.querySelector(".mildip-chart-view");
    vegaEmbed(view, spec, { actions: false, renderer: "svg" })
      .then((result) => {
        labelControls(box);
        if (box.scrollWidth > box.clientWidth) {
          // A chart wider than the page scrolls: keyboard users must be able to scroll it too.
          box.tabIndex = 0;
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", "Chart (scrolls sideways): " + (spec.title?.text || spec.title || spec.description));
        }
        box.vegaView = result.view;
        box.dataset.drawn = "yes";
      })
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

SITE_CSS = """/* mildip: charts, their controls and tables (written by mildip.book). */
.mildip-chart { margin: 1rem 0; overflow-x: auto; }
.mildip-chart .vega-bind { margin: 0.25rem 0; }
.mildip-chart .vega-bind-name { font-weight: 600; margin-right: 0.5rem; }
.mildip-chart .vega-bind input:focus-visible,
.mildip-chart .vega-bind select:focus-visible { outline: 3px solid #0072B2; outline-offset: 2px; }
/* Vega's tooltip: dark text on white, readable in light and dark mode. */
#vg-tooltip-element { color: #1a1a1a; background: #fff; }
table.mildip-table caption { caption-side: top; font-weight: 600; }
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


def write_site_assets(static_dir: Path) -> None:
    """Write the site-wide style sheet into ``static_dir/mildip/``."""
    folder = static_dir / ASSET_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in ((SITE_STYLE, SITE_CSS),):
        target = folder / name
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")


def mathjax_source() -> Path:
    """MathJax 3's browser components, as shipped by the ``sphinx-mathjax-offline`` package."""
    from importlib.metadata import distribution

    folder = Path(distribution(MATHJAX_PACKAGE).locate_file(f"{MATHJAX_PACKAGE}/static/mathjax"))
    if not (folder / MATHJAX_SCRIPT).is_file():
        raise FileNotFoundError(f"MathJax not found in the {MATHJAX_PACKAGE} package at {folder}")
    return folder


def _configure(app, config):
    static_dir = Path(app.outdir).parent / "mildip_static"
    write_script(static_dir)
    write_site_assets(static_dir)
    config.html_static_path.append(str(static_dir))
    # MathJax from the site itself (copied in _copy_mathjax), not from Sphinx's default CDN.
    config.mathjax_path = f"{ASSET_DIR}/{MATHJAX_DIR}/{MATHJAX_SCRIPT}"
    # No widget manager from a CDN: the book has no kernel (tests check no page has widget output).
    config.nb_ipywidgets_js = {}
    # pydata-sphinx-theme logs a console error on every first visit unless a mode is set.
    config.html_context = {"default_mode": "auto", **(config.html_context or {})}


def _copy_mathjax(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / ASSET_DIR / MATHJAX_DIR
    if not (target / MATHJAX_SCRIPT).is_file():
        shutil.copytree(mathjax_source(), target, dirs_exist_ok=True)


def _is_kernel_only(asset) -> bool:
    filename = str(getattr(asset, "filename", asset) or "")
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return "thebe" in filename or "THEBE_JS_URL" in body


THEBE_CONFIG = re.compile(r'\s*<script type="text/x-thebe-config">.*?</script>', re.S)
# Docutils marks bibliography entries role="doc-biblioentry" inside role="list"; ARIA 1.2 deprecates
# that role and axe-core requires a list's children to be list items (a critical violation).
BIBLIOENTRY = re.compile(r'(<div class="citation"[^>]*?) role="doc-biblioentry"')


def _page_assets(app, pagename, templatename, context, doctree):
    # In place: these lists are the builder's own, reset for every page.
    for key in ("script_files", "css_files"):
        if key in context:
            context[key][:] = [asset for asset in context[key] if not _is_kernel_only(asset)]
    if "body" in context:
        context["body"] = BIBLIOENTRY.sub(r'\1 role="listitem"', THEBE_CONFIG.sub("", context["body"]))
        if 'class="mildip-chart"' in context["body"]:
            app.add_js_file(f"{ASSET_DIR}/{SCRIPT}", type="module")


# The theme's markup, as written (pydata-sphinx-theme 0.17): fixes for axe-core's serious findings.
THEME_FIXES = [
    # Search buttons show "Search" and a Ctrl+K hint but are named by aria-label="Search": the
    # name must contain the visible text (WCAG 2.5.3). Name them by their text; hide the hint.
    (re.compile(r'(<button class="btn search-button-field search-button__button[^"]*"[^>]*?) aria-label="Search"'), r"\1"),
    (re.compile(r'<span class="search-button__kbd-shortcut">'), '<span class="search-button__kbd-shortcut" aria-hidden="true">'),
    # The colour-mode button is named "Color mode"; its icons' titles ("Light", "Dark", ...) made
    # visible text that is not in that name. The icons are decorative.
    (re.compile(r'(<i class="theme-switch [^"]*"[^>]*?) title="[^"]*"'), r'\1 aria-hidden="true"'),
    # sphinx-togglebutton names its "Show code cell outputs" toggles "Toggle hidden content":
    # let the visible text name them.
    (re.compile(r'<summary aria-label="Toggle hidden content">'), "<summary>"),
]


def fix_theme_markup(text: str) -> str:
    for pattern, replacement in THEME_FIXES:
        text = pattern.sub(replacement, text)
    return text


def _fix_pages(app, exception):
    """Apply THEME_FIXES to every page written (the theme's templates are not ours to edit)."""
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = fix_theme_markup(text)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


def setup(app):
    os.environ["MILDIP_BOOK"] = "1"
    app.connect("config-inited", _configure)
    app.connect("html-page-context", _page_assets, priority=900)
    app.connect("build-finished", _copy_mathjax)
    app.connect("build-finished", _fix_pages)
    app.add_css_file(f"{ASSET_DIR}/{SITE_STYLE}")
    return {"version": "2", "env_version": 2, "parallel_read_safe": True, "parallel_write_safe": True}
