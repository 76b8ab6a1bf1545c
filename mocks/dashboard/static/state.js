// State: each table of the vendor's state, paged by the server, with a record view.
import { api } from "./api.js";
import { clear, h, jsonBlock, say } from "./dom.js";

const COLUMNS = 6;

/** The columns of a page: the record's first scalar fields, in the contract's order. */
export function columns(rows) {
  const names = [];
  for (const { record } of rows.slice(0, 5)) {
    for (const [name, value] of Object.entries(record || {})) {
      const scalar = value === null || ["string", "number", "boolean"].includes(typeof value);
      if (scalar && !names.includes(name)) names.push(name);
    }
  }
  return names.slice(0, COLUMNS);
}

function cell(value) {
  if (value === null || value === undefined) return "";
  return String(value);
}

export function mount(main) {
  let tables = [];
  let current = null;
  let offset = 0;
  let order = null;
  const picker = h("select", { id: "state-table" });
  const size = h("select", { id: "state-size" }, [25, 50, 100, 200].map((n) => h("option", { value: n, selected: n === 50 }, String(n))));
  const orderButton = h("button", { type: "button", id: "state-order" }, "Newest first");
  const goKey = h("input", { id: "state-key", type: "search", placeholder: "key", size: 10 });
  const summary = h("span", { id: "state-summary", "aria-live": "polite" });
  const table = h("table", { "aria-labelledby": "state-title" });
  const record = h("section", { class: "panel", id: "state-record", "aria-labelledby": "record-title" },
    h("h2", { id: "record-title" }, "Record"), h("p", { class: "muted" }, "Choose a row to see the record whole."));
  const pager = (where) => h("div", { class: "pager", role: "group", "aria-label": `Pages (${where})` },
    h("button", { type: "button", "data-page": "first", onclick: () => go(0) }, "« First"),
    h("button", { type: "button", "data-page": "prev", onclick: () => go(offset - Number(size.value)) }, "‹ Previous"),
    h("button", { type: "button", "data-page": "next", onclick: () => go(offset + Number(size.value)) }, "Next ›"),
    h("button", { type: "button", "data-page": "last", onclick: () => go(lastOffset()) }, "Last »"));
  main.append(
    h("div", { class: "panel row" },
      h("label", { for: "state-table" }, "Table"), picker,
      h("label", { for: "state-size" }, "Rows"), size, orderButton,
      h("form", { class: "row", onsubmit: (event) => { event.preventDefault(); openRecord(goKey.value.trim()); } },
        h("label", { for: "state-key" }, "Open record"), goKey, h("button", { type: "submit" }, "Open")),
      h("button", { type: "button", onclick: () => load() }, "Refresh")),
    h("div", { class: "grid2" },
      h("section", {}, h("h2", { id: "state-title" }, "Records"), summary, pager("top"), h("div", { class: "table-wrap" }, table), pager("bottom")),
      record));

  picker.addEventListener("change", () => { current = picker.value; offset = 0; order = null; load(); });
  size.addEventListener("change", () => { offset = 0; load(); });
  orderButton.addEventListener("click", () => { order = currentOrder() === "desc" ? "asc" : "desc"; offset = 0; load(); });

  const info = () => tables.find((t) => t.name === current);
  const currentOrder = () => order || info()?.order || "asc";
  const lastOffset = () => {
    const per = Number(size.value);
    const total = info()?.total ?? 0;
    return Math.max(0, Math.floor((total - 1) / per) * per);
  };

  function go(to) {
    offset = Math.max(0, Math.min(to, lastOffset()));
    load();
  }

  async function load() {
    if (!current) return;
    const page = await api("GET", `state/${encodeURIComponent(current)}`, { query: { offset, limit: size.value, order: currentOrder() } });
    const found = info();
    if (found) found.total = page.total;
    orderButton.textContent = page.order === "desc" ? "Oldest first" : "Newest first";
    orderButton.setAttribute("aria-label", `Show ${page.order === "desc" ? "oldest" : "newest"} first`);
    const first = page.total ? page.offset + 1 : 0;
    summary.textContent = `${found ? found.title : current}: rows ${first}–${page.offset + page.rows.length} of ${page.total} (${page.order === "desc" ? "newest" : "oldest"} first)`;
    const names = columns(page.rows);
    clear(table,
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "key"), names.map((n) => h("th", { scope: "col" }, n)))),
      h("tbody", { id: "state-rows" }, page.rows.map((row) => h("tr", { "data-key": row.key },
        h("td", {}, h("button", { type: "button", class: "link", "aria-label": `Record ${row.key}`, onclick: () => openRecord(String(row.key)) }, String(row.key))),
        names.map((n) => h("td", { class: "clip" }, cell(row.record[n])))))));
  }

  async function openRecord(key) {
    if (!key || !current) return;
    let found;
    try {
      found = await api("GET", `state/${encodeURIComponent(current)}/${encodeURIComponent(key)}`);
    } catch (error) {
      say(error.message, true);
      return;
    }
    clear(record,
      h("h2", { id: "record-title", tabindex: "-1" }, `${info()?.title || current} ${found.key}`),
      jsonBlock(found.record, "Record"),
      Object.entries(found.related).map(([name, items]) => [
        h("h3", {}, `${name} (${items.length})`),
        items.length ? jsonBlock(items, name) : h("p", { class: "muted" }, "none"),
      ]));
    record.querySelector("h2").focus();
  }

  api("GET", "state").then((listing) => {
    tables = listing.tables.map((t) => ({ ...t, total: t.count }));
    const groups = new Map();
    for (const t of tables) {
      if (!groups.has(t.group)) groups.set(t.group, []);
      groups.get(t.group).push(t);
    }
    clear(picker, [...groups].map(([group, members]) => {
      const options = members.map((t) => h("option", { value: t.name }, `${t.title} (${t.count})`));
      return group ? h("optgroup", { label: group }, options) : options;
    }));
    current = tables[0]?.name || null;
    picker.value = current;
    load();
  }).catch((error) => say(error.message, true));
  return () => {};
}
