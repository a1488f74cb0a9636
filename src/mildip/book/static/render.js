// mildip: draws every chart that mildip.charts wrote into the page (a compiled Vega spec in a
// <script type="application/json">), with the copy of Vega the site ships (the global `vega`,
// loaded just before this module): no kernel, no CDN.
//
// Besides drawing, for every chart it:
// - fits the chart to its column (titles wrap, long axis labels are cut with an ellipsis,
//   side legends move below the chart on narrow screens, and a chart still too wide shrinks);
// - shows tooltips on hover, on tap and from the keyboard (Tab to the chart, then the arrow
//   keys; Escape hides), in one tooltip element whose text is also announced to screen readers;
// - makes legend entries that filter the chart reachable and operable by keyboard;
// - offers the values drawn as a table ("Data in this chart"), rebuilt as the controls change;
// - formats values for people: no "null" or "true", one date style, capitalised labels.

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December"];
const SHORT_MONTHS = MONTHS.map((m) => m.slice(0, 3));
const NARROW = 600; // px: below this a column is a phone's

// Where this script was loaded from: data files (country outlines) sit beside it.
const SCRIPT_URL = document.querySelector('script[src*="mildip/render.js"]')?.src || document.baseURI;
const LOADER = vega.loader({ baseURL: new URL(".", SCRIPT_URL).href });

/** A value as a reader should see it. */
function formatValue(value) {
  if (value === null || value === undefined) return "not given";
  if (value === true) return "yes";
  if (value === false) return "no";
  if (typeof value === "number") return Number.isFinite(value) ? value.toLocaleString("en-GB") : "not given";
  const text = String(value).trim();
  if (["", "null", "undefined", "NaN"].includes(text)) return "not given";
  if (text === "true") return "yes";
  if (text === "false") return "no";
  let match = text.match(/^(\d{4})-(\d{2})-(\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?Z?)?$/);
  if (match) return `${Number(match[3])} ${MONTHS[Number(match[2]) - 1]} ${match[1]}`;
  match = text.match(/^([A-Z][a-z]{2}) (\d{1,2}), (\d{4})$/); // Vega's default "%b %d, %Y"
  if (match && SHORT_MONTHS.includes(match[1])) {
    return `${Number(match[2])} ${MONTHS[SHORT_MONTHS.indexOf(match[1])]} ${match[3]}`;
  }
  return text;
}

/** A label as a reader should see it: capitalised, field names without underscores. */
function formatLabel(key) {
  const text = String(key).replace(/_/g, " ").trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The rows (label, value) of a tooltip value, formatted. */
function tooltipRows(value) {
  if (value === null || value === undefined) return [];
  if (typeof value === "object") return Object.entries(value).map(([k, v]) => [formatLabel(k), formatValue(v)]);
  return [["", formatValue(value)]];
}

// Columnar data (mildip.charts writes each inline data set as columns to keep pages light).
function restoreData(spec) {
  for (const data of spec.data || []) {
    const columns = data["mildip:columns"];
    if (!columns) continue;
    const names = Object.keys(columns);
    const length = names.length ? columns[names[0]].length : 0;
    data.values = Array.from({ length }, (_, i) => Object.fromEntries(names.map((n) => [n, columns[n][i]])));
    delete data["mildip:columns"];
  }
}

// Fitting a chart to its column ------------------------------------------------------------

const measureContext = document.createElement("canvas").getContext("2d");
function textWidth(text, size, weight) {
  measureContext.font = `${weight || "normal"} ${size}px sans-serif`;
  return measureContext.measureText(text).width;
}

function wrap(text, width, size, weight) {
  if (Array.isArray(text)) {
    const lines = text.flatMap((line) => wrap(line, width, size, weight));
    return lines.length === 1 ? lines[0] : lines;
  }
  if (typeof text !== "string" || textWidth(text, size, weight) <= width) return text;
  const lines = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    const candidate = line ? `${line} ${word}` : word;
    if (line && textWidth(candidate, size, weight) > width) {
      lines.push(line);
      line = word;
    } else {
      line = candidate;
    }
  }
  if (line) lines.push(line);
  return lines;
}

function eachGroup(node, visit) {
  visit(node);
  for (const mark of node.marks || []) if (mark.type === "group") eachGroup(mark, visit);
}

function fitSpec(spec, width) {
  const config = spec.config || {};
  const titleSize = config.title?.fontSize || config.style?.["group-title"]?.fontSize || 13;
  const room = Math.max(120, width - 14);
  eachGroup(spec, (group) => {
    const title = group.title;
    if (typeof title === "string") {
      group.title = { text: wrap(title, room, titleSize, "bold") };
    } else if (title) {
      if (title.text) title.text = wrap(title.text, room, title.fontSize || titleSize, "bold");
      if (title.subtitle) {
        const size = title.subtitleFontSize || config.title?.subtitleFontSize
          || config.style?.["group-subtitle"]?.fontSize || 12;
        title.subtitle = wrap(title.subtitle, room - 4, size, "normal");
      }
    }
    const continuous = new Set(["linear", "log", "pow", "sqrt", "symlog", "time", "utc"]);
    const scaleType = (name) => (group.scales || spec.scales || []).find((s) => s.name === name)?.type || "linear";
    for (const axis of group.axes || []) {
      if ((axis.orient === "bottom" || axis.orient === "top") && axis.labelBound === undefined) {
        axis.labelBound = true; // a label that would run past the end of the axis is not drawn
      }
      if ((axis.orient === "left" || axis.orient === "right") && axis.labels !== false) {
        const limit = Math.round(width < NARROW ? Math.max(70, width * 0.45) : Math.max(120, width * 0.4));
        axis.labelLimit = Math.min(axis.labelLimit ?? config.axis?.labelLimit ?? 180, limit);
      }
      if (axis.labelFlush === undefined && axis.labels !== false && continuous.has(scaleType(axis.scale))) {
        axis.labelFlush = true; // first and last labels stay within the axis, clear of the other axis
      }
      if (axis.title && typeof axis.title === "string" && axis.labels !== false) {
        const horizontal = axis.orient === "top" || axis.orient === "bottom";
        axis.title = wrap(axis.title, horizontal ? room - 40 : Math.min(260, (group.height || 260) + 20),
          config.axis?.titleFontSize || 11, "bold");
      }
    }
    if (width < NARROW) {
      // Legends sharing a side are stacked, not set side by side: together they would not fit.
      spec.config = spec.config || {};
      spec.config.legend = spec.config.legend || {};
      spec.config.legend.layout = { ...spec.config.legend.layout,
        top: { direction: "vertical", anchor: "start", margin: 6 },
        bottom: { direction: "vertical", anchor: "start", margin: 6 } };
      for (const legend of group.legends || []) {
        if (legend.orient === undefined || legend.orient === "right" || legend.orient === "left") {
          legend.orient = "bottom";
        }
        if (legend.type !== "gradient" && (legend.orient === "bottom" || legend.orient === "top")) {
          legend.direction = "vertical";
          legend.columns = 1;
          legend.labelLimit = Math.floor(width) - 70; // room for the symbol, padding and offset
          if (typeof legend.title === "string") legend.title = wrap(legend.title, room, 12, "bold");
        }
      }
    }
  });
}

/** Shrink a chart whose drawing is still wider than its column (concatenated views). */
async function shrinkToFit(view, box, available) {
  for (let round = 0; round < 3; round += 1) {
    const svg = box.querySelector(".mildip-chart-view svg");
    const over = svg ? svg.getBoundingClientRect().width - available : 0;
    if (over <= 1) return;
    const names = ["width", "childWidth", "concat_0_width"].filter((n) => {
      try { return typeof view.signal(n) === "number"; } catch (error) { return false; }
    });
    if (!names.length) return;
    for (const name of names) view.signal(name, Math.max(80, view.signal(name) - over - 2));
    await view.runAsync();
  }
}

// Tooltips: hover, tap, keyboard -------------------------------------------------------------

const tip = document.createElement("div");
tip.id = "mildip-tooltip";
tip.setAttribute("role", "tooltip");
tip.hidden = true;
const announcer = document.createElement("div");
announcer.className = "mildip-sr-only";
announcer.setAttribute("aria-live", "polite");

function showTip(value, x, y) {
  const rows = tooltipRows(value);
  if (!rows.length) { hideTip(); return; }
  tip.replaceChildren(...rows.map(([label, text]) => {
    const row = document.createElement("div");
    if (label) {
      const name = document.createElement("span");
      name.className = "mildip-tooltip-key";
      name.textContent = `${label}: `;
      row.append(name);
    }
    row.append(text);
    return row;
  }));
  tip.hidden = false;
  const margin = 8;
  const rect = tip.getBoundingClientRect();
  let left = x + 12;
  let top = y + 12;
  if (left + rect.width > window.innerWidth - margin) left = Math.max(margin, x - rect.width - 12);
  if (top + rect.height > window.innerHeight - margin) top = Math.max(margin, y - rect.height - 12);
  tip.style.left = `${left + window.scrollX}px`;
  tip.style.top = `${top + window.scrollY}px`;
  announcer.textContent = rows.map(([label, text]) => (label ? `${label}: ${text}` : text)).join("; ");
}

function hideTip() {
  tip.hidden = true;
}

function tooltipHandler(handler, event, item, value) {
  if (value === null || value === undefined || value === "") {
    // A finger leaves the screen after every tap: keep the tooltip it opened until the next tap.
    if (event && event.pointerType !== "touch") hideTip();
    return;
  }
  showTip(value, event.clientX, event.clientY);
}

/** Every drawn item with a tooltip, with its position on the page, in reading order. */
function tooltipItems(view) {
  const found = [];
  (function walk(scene, dx, dy) {
    for (const item of scene.items || []) {
      if (item.tooltip !== undefined && item.tooltip !== null && item.bounds && !item.mark?.marktype?.startsWith("group")) {
        const opacity = item.opacity ?? 1;
        const fillOpacity = item.fillOpacity ?? 1;
        if (opacity > 0.2 && fillOpacity > 0.2) {
          const b = item.bounds;
          found.push({ item, x: dx + (b.x1 + b.x2) / 2, y: dy + (b.y1 + b.y2) / 2 });
        }
      }
      if (item.items) walk(item, dx, dy);
      if (item.mark?.marktype === "group" || item.marktype === "group") {
        for (const child of item.items || []) walk(child, dx + (item.x || 0), dy + (item.y || 0));
      }
    }
  })(view.scenegraph().root, view.origin()[0], view.origin()[1]);
  const seen = new Set();
  return found
    .filter(({ item }) => {
      const key = JSON.stringify(item.tooltip);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.x - b.x || a.y - b.y);
}

function keyboardTooltips(box, view) {
  const view_el = box.querySelector(".mildip-chart-view");
  let index = -1;
  let items = [];
  const show = () => {
    if (!items.length) return;
    const { item, x, y } = items[index];
    const svg = view_el.querySelector("svg").getBoundingClientRect();
    showTip(item.tooltip, svg.left + x, svg.top + y);
  };
  view_el.tabIndex = 0;
  view_el.setAttribute("role", "group");
  const name = box.dataset.title || view_el.querySelector("svg")?.getAttribute("aria-label") || "Chart";
  view_el.setAttribute("aria-label", `${name}. Use the arrow keys to read the values drawn, Escape to stop.`);
  view_el.addEventListener("focus", () => {
    items = tooltipItems(view);
    if (index < 0 || index >= items.length) index = 0;
    show();
  });
  view_el.addEventListener("blur", hideTip);
  view_el.addEventListener("keydown", (event) => {
    if (!items.length) return;
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (step) {
      index = (index + step + items.length) % items.length;
      show();
      event.preventDefault();
    } else if (event.key === "Home" || event.key === "End") {
      index = event.key === "Home" ? 0 : items.length - 1;
      show();
      event.preventDefault();
    } else if (event.key === "Escape") {
      hideTip();
    }
  });
  // A tap (or click) on a mark shows its tooltip; a tap elsewhere hides it. Vega reports a tap's
  // click on the chart's group once the finger has left, so the mark touched is remembered.
  const hasTip = (item) => item && item.tooltip !== undefined && item.tooltip !== null;
  let touched = null;
  view.addEventListener("pointerdown", (event, item) => {
    touched = event.pointerType === "touch" && hasTip(item) ? { item, time: Date.now() } : null;
  });
  view.addEventListener("click", (event, item) => {
    const recent = touched && Date.now() - touched.time < 1000 ? touched.item : null;
    const target = hasTip(item) ? item : recent;
    if (target) showTip(target.tooltip, event.clientX, event.clientY);
    else hideTip();
    touched = null;
  });
}

// Legends that filter: keyboard access -------------------------------------------------------

function filtersByLegend(spec) {
  const text = JSON.stringify(spec.signals || []) + JSON.stringify(spec.marks || []);
  return /_legend_symbols|_legend_labels|legend_symbols/.test(text) || /"markname":"[^"]*legend/.test(text);
}

function keyboardLegends(box) {
  const svg = box.querySelector(".mildip-chart-view svg");
  // A legend holding buttons is a group of controls, not a graphic (axe: nested-interactive).
  for (const legend of svg.querySelectorAll(".role-legend")) legend.setAttribute("role", "group");
  for (const entry of svg.querySelectorAll(".role-legend-symbol path:not([data-mildip-key])")) {
    entry.dataset.mildipKey = "yes";
    const group = entry.closest(".role-scope") || entry.parentNode;
    const label = group.querySelector(".role-legend-label text")?.textContent || "entry";
    entry.setAttribute("tabindex", "0");
    entry.setAttribute("role", "button");
    entry.setAttribute("aria-label", `Show only ${label} (legend filter; again to show all)`);
    entry.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      const r = entry.getBoundingClientRect();
      const init = { bubbles: true, cancelable: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2,
        shiftKey: event.shiftKey };
      for (const type of ["pointerdown", "mousedown", "pointerup", "mouseup", "click"]) {
        entry.dispatchEvent(type.startsWith("pointer") ? new PointerEvent(type, init) : new MouseEvent(type, init));
      }
    });
  }
}

/** A legend entry chosen a second time shows every group again (with the mouse, a tap or Enter),
 * as its label says: Vega-Lite itself only clears a legend filter on a click on empty space. */
function legendToggles(box, view, spec) {
  const names = (spec.signals || []).map((s) => s.name).filter((n) => n.endsWith("_legend"));
  if (!names.length) return;
  let chosen = null;
  view.addEventListener("click", (event, item) => {
    const entry = item && /legend_(symbols|labels|entries)$/.test(item.mark?.name || "");
    if (!entry || event.shiftKey) {
      chosen = null;
      return;
    }
    const value = item.datum?.value ?? item.items?.[0]?.items?.[0]?.datum?.value;
    if (value !== undefined && value === chosen) {
      chosen = null;
      setTimeout(async () => {
        for (const name of names) view.signal(name, null);
        await view.runAsync();
        box.mildipRebuildTable?.();
      }, 0);
    } else {
      chosen = value;
    }
  });
}

// Accessible markup that survives redrawing ---------------------------------------------------

/** After every redraw: empty mark containers are hidden from assistive technology (an unnamed
 * graphic is an axe violation), and legend entries that filter stay keyboard buttons. */
function keepAccessible(box, legends) {
  const svg = box.querySelector(".mildip-chart-view svg");
  if (!svg) return;
  const fix = () => {
    for (const mark of svg.querySelectorAll("g.role-mark")) {
      const empty = !mark.firstElementChild;
      if (empty && !mark.hasAttribute("aria-hidden")) {
        mark.setAttribute("aria-hidden", "true");
        mark.dataset.mildipHidden = "yes"; // hidden here, shown again when it has marks
      } else if (!empty && mark.dataset.mildipHidden === "yes") {
        mark.removeAttribute("aria-hidden");
        delete mark.dataset.mildipHidden;
      }
    }
    if (legends) keyboardLegends(box);
  };
  fix();
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; fix(); });
  }).observe(svg, { childList: true, subtree: true });
}

// The values drawn, as a table ---------------------------------------------------------------

function dataTable(box, view) {
  const details = document.createElement("details");
  details.className = "mildip-chart-table";
  const summary = document.createElement("summary");
  summary.textContent = "Data in this chart, as a table";
  const scroller = document.createElement("div");
  scroller.className = "mildip-table-scroll";
  scroller.tabIndex = 0;
  scroller.setAttribute("role", "region");
  scroller.setAttribute("aria-label", "Data in this chart");
  details.append(summary, scroller);
  const build = () => {
    const rows = tooltipItems(view).map(({ item }) => tooltipRows(item.tooltip));
    const columns = [];
    for (const row of rows) for (const [label] of row) if (!columns.includes(label)) columns.push(label);
    const table = document.createElement("table");
    table.className = "mildip-table";
    const caption = table.createCaption();
    caption.textContent = `${box.dataset.title || "Chart"}: the values drawn (${rows.length} ${rows.length === 1 ? "row" : "rows"})`;
    const head = table.createTHead().insertRow();
    for (const column of columns) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = column || "Value";
      head.append(th);
    }
    const body = table.createTBody();
    for (const row of rows) {
      const values = Object.fromEntries(row);
      const tr = body.insertRow();
      for (const column of columns) tr.insertCell().textContent = values[column] ?? "";
    }
    scroller.replaceChildren(table);
    box.dataset.tableRows = String(rows.length);
  };
  details.addEventListener("toggle", () => details.open && build());
  box.mildipRebuildTable = () => { build(); };
  box.append(details);
  build();
  return build;
}

// Drawing -------------------------------------------------------------------------------------

function labelControls(box) {
  for (const input of box.querySelectorAll(".vega-bind input, .vega-bind select")) {
    if (!input.getAttribute("aria-label")) {
      const name = input.closest(".vega-bind")?.querySelector(".vega-bind-name")?.textContent.trim();
      input.setAttribute("aria-label", name || input.name || "Chart control");
    }
  }
}

/** What to call a chart (its table's caption, its accessible name): its title, or, when the title
 * is computed as the controls change, its subtitle, or else the first sentence of its alt text. */
function chartName(spec) {
  const text = (value) => (Array.isArray(value) ? value.join(" ") : typeof value === "string" ? value : "");
  const title = spec.title ?? spec.marks?.find((m) => m.title)?.title;
  return text(title?.text ?? title) || text(title?.subtitle)
    || (spec.description || "").split(/(?<=\.)\s/)[0] || "Chart";
}

async function draw(box) {
  box.dataset.drawn = "pending";
  const spec = JSON.parse(box.querySelector("script.mildip-chart-spec").textContent);
  restoreData(spec);
  const viewEl = box.querySelector(".mildip-chart-view");
  const controls = document.createElement("div");
  controls.className = "mildip-chart-controls";
  viewEl.after(controls); // below the chart, where the chapters' text says the controls are
  const available = viewEl.clientWidth; // the column, less any padding of the box
  fitSpec(spec, available);
  box.dataset.title = chartName(spec);
  const view = new vega.View(vega.parse(spec), { renderer: "svg", loader: LOADER, hover: true });
  view.tooltip(tooltipHandler);
  view.initialize(viewEl, controls);
  await view.runAsync();
  await shrinkToFit(view, box, available);
  if (!controls.childElementCount) controls.remove();
  labelControls(box);
  keyboardTooltips(box, view);
  keepAccessible(box, filtersByLegend(spec));
  legendToggles(box, view, spec);
  const rebuild = dataTable(box, view);
  // Controls and clicks change what is drawn: the table follows.
  view.addEventListener("click", () => setTimeout(rebuild, 50));
  controls.addEventListener("input", () => setTimeout(rebuild, 50));
  box.vegaView = view;
  box.dataset.drawn = "yes";
}

function drawCharts() {
  document.body.append(tip, announcer);
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") hideTip(); });
  for (const box of document.querySelectorAll("div.mildip-chart:not([data-drawn])")) {
    draw(box).catch((error) => {
      box.dataset.drawn = "failed";
      box.querySelector(".mildip-chart-view").textContent = `This chart could not be drawn: ${error.message}`;
      console.error(error);
    });
  }
}

window.mildipFormat = { value: formatValue, label: formatLabel };
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", drawCharts);
} else {
  drawCharts();
}
