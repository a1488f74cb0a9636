// In-page checks of one drawn chart (tests/test_browser.py): is its text inside its box and
// clear of other text, in every state of its controls? Returns the problems found.
async ([id, maxStates]) => {
  const box = document.getElementById(id);
  const view = box.vegaView;
  const problems = [];
  const seen = new Set();
  const note = (problem) => { if (!seen.has(problem) && problems.length < 40) { seen.add(problem); problems.push(problem); } };

  function opacityOf(node) {
    let value = 1;
    for (let el = node; el && el.tagName !== "svg"; el = el.parentNode) {
      const own = el.getAttribute?.("opacity") ?? el.getAttribute?.("fill-opacity");
      if (own !== null && own !== undefined) value *= Number(own);
      const style = el.style?.opacity;
      if (style) value *= Number(style);
    }
    return value;
  }

  function check(state) {
    const svg = box.querySelector(".mildip-chart-view svg");
    if (!svg) { note(`${state}: nothing drawn`); return; }
    const frame = svg.getBoundingClientRect();
    const column = box.getBoundingClientRect();
    if (frame.right > column.right + 1 || frame.left < column.left - 1) {
      note(`${state}: the chart (${Math.round(frame.width)} px) is wider than its column (${Math.round(column.width)} px)`);
    }
    const texts = [...svg.querySelectorAll("text")]
      .filter((t) => t.textContent.trim() && opacityOf(t) > 0.1)
      .map((t) => ({ text: t.textContent.trim(), rect: t.getBoundingClientRect() }))
      .filter(({ rect }) => rect.width > 0 && rect.height > 0);
    for (const { text, rect } of texts) {
      if (rect.left < frame.left - 1 || rect.right > frame.right + 1 || rect.top < frame.top - 1 || rect.bottom > frame.bottom + 1) {
        note(`${state}: text "${text.slice(0, 60)}" falls outside the chart`);
      }
    }
    for (let i = 0; i < texts.length; i += 1) {
      for (let j = i + 1; j < texts.length; j += 1) {
        const a = texts[i].rect, b = texts[j].rect;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 2 && h > 2) note(`${state}: "${texts[i].text.slice(0, 40)}" overlaps "${texts[j].text.slice(0, 40)}"`);
      }
    }
    box.mildipRebuildTable?.();
    if (box.dataset.tableRows === "0") note(`${state}: no value drawn (an empty chart)`);
  }

  // Every state of every control: each control's values, all combinations when they are few.
  const controls = [...box.querySelectorAll(".vega-bind")].map((bind) => {
    const select = bind.querySelector("select");
    const radios = [...bind.querySelectorAll("input[type=radio]")];
    const range = bind.querySelector("input[type=range]");
    const checkbox = bind.querySelector("input[type=checkbox]");
    if (select) return { name: select.name, el: select, values: [...select.options].map((o) => o.value) };
    if (radios.length) return { name: radios[0].name, radios, values: radios.map((r) => r.value) };
    if (range) {
      const values = [];
      const min = Number(range.min), max = Number(range.max), step = Number(range.step) || 1;
      for (let v = min; v <= max + 1e-9; v += step) values.push(String(+v.toFixed(6)));
      return { name: range.name, el: range, values };
    }
    if (checkbox) return { name: checkbox.name, el: checkbox, values: [true, false] };
    return null;
  }).filter(Boolean);

  async function set(control, value) {
    if (control.radios) {
      const radio = control.radios.find((r) => r.value === value);
      radio.checked = true;
      radio.dispatchEvent(new Event("input", { bubbles: true }));
      radio.dispatchEvent(new Event("change", { bubbles: true }));
    } else if (control.el.type === "checkbox") {
      control.el.checked = value;
      control.el.dispatchEvent(new Event("change", { bubbles: true }));
    } else {
      control.el.value = value;
      control.el.dispatchEvent(new Event("input", { bubbles: true }));
      control.el.dispatchEvent(new Event("change", { bubbles: true }));
    }
    await view.runAsync();
    await new Promise((resolve) => requestAnimationFrame(() => resolve()));
    await view.runAsync(); // a change of size (autosize) is drawn in a second pass
  }

  const initial = controls.map((c) => (c.radios ? c.radios.find((r) => r.checked)?.value : c.el.type === "checkbox" ? c.el.checked : c.el.value));
  check("as first drawn");
  const combinations = controls.reduce((n, c) => n * c.values.length, 1);
  let states = 0;
  if (controls.length > 1 && combinations <= maxStates) {
    const walk = async (index, label) => {
      if (index === controls.length) { check(label); states += 1; return; }
      for (const value of controls[index].values) {
        await set(controls[index], value);
        await walk(index + 1, `${label}${label ? ", " : ""}${controls[index].name}=${value}`);
      }
    };
    await walk(0, "");
  } else {
    for (const [index, control] of controls.entries()) {
      for (const value of control.values) {
        await set(control, value);
        check(`${control.name}=${value}`);
        states += 1;
      }
      await set(control, initial[index]);
    }
  }
  // Legend filters: each entry chosen in turn.
  const entries = [...box.querySelectorAll(".mildip-chart-view svg [role=button][tabindex]")];
  for (const entry of entries) {
    entry.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    await view.runAsync();
    check(`legend "${entry.getAttribute("aria-label")}"`);
    states += 1;
  }
  if (entries.length) {
    entries[0].dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    await view.runAsync();
  }
  for (const [index, control] of controls.entries()) await set(control, initial[index]);
  return { problems, states };
}
