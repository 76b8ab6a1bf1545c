// Requests: the journal as a live table, filterable, with one exchange's details.
import { api } from "./api.js";
import { clear, clockTime, h, jsonBlock, poll, say, statusClass } from "./dom.js";

const KEEP = 1000;
const CONTRACT_RULES = new Set(["contract", "response-contract"]);

/** Why an entry stands out: the contract broken, no operation matched, or a rule fired. */
export function flags(entry) {
  const found = [];
  const rules = entry.rules || [];
  if (rules.some((r) => CONTRACT_RULES.has(r.rule))) found.push("contract");
  if (!entry.operation && [404, 405].includes(entry.status) && !entry.note) found.push("unmatched");
  if (rules.some((r) => !CONTRACT_RULES.has(r.rule))) found.push("rule");
  return found;
}

export function mount(main) {
  const entries = [];
  let last = 0;
  let selected = null;
  let paused = false;
  const filters = {
    text: h("input", { type: "search", id: "filter-text", placeholder: "path, rule or operation" }),
    method: h("select", { id: "filter-method" }, ["", "GET", "POST", "PUT", "PATCH", "DELETE"].map((m) => h("option", { value: m }, m || "any"))),
    status: h("select", { id: "filter-status" }, ["", "2", "3", "4", "5"].map((s) => h("option", { value: s }, s ? `${s}xx` : "any"))),
    flagged: h("input", { type: "checkbox", id: "filter-flagged" }),
  };
  const count = h("span", { class: "muted", id: "request-count" });
  const body = h("tbody", { id: "request-rows" });
  const details = h("section", { class: "panel", id: "request-details", "aria-labelledby": "details-title" },
    h("h2", { id: "details-title" }, "Exchange"), h("p", { class: "muted" }, "Choose a request to see it whole."));
  const pause = h("button", { type: "button", id: "requests-pause", "aria-pressed": "false", onclick: () => {
    paused = !paused;
    pause.setAttribute("aria-pressed", String(paused));
    pause.textContent = paused ? "Resume" : "Pause";
  } }, "Pause");
  main.append(
    h("div", { class: "panel row", role: "search" },
      h("label", { for: "filter-text" }, "Filter"), filters.text,
      h("label", { for: "filter-method" }, "Method"), filters.method,
      h("label", { for: "filter-status" }, "Status"), filters.status,
      filters.flagged, h("label", { for: "filter-flagged" }, "Only flagged"),
      pause,
      h("button", { type: "button", onclick: async () => {
        await api("DELETE", "journal");
        entries.length = 0;
        selected = null;
        render();
        say("Journal cleared");
      } }, "Clear journal"),
      count),
    h("div", { class: "grid2" },
      h("div", { class: "table-wrap" },
        h("table", { "aria-label": "Requests, newest first" },
          h("thead", {}, h("tr", {}, ["#", "Time", "Method", "Path", "Status", "Rule fired", "Flags"].map((t) => h("th", { scope: "col" }, t)))),
          body)),
      details));
  for (const control of Object.values(filters)) control.addEventListener("input", render);

  function shown(entry) {
    const text = filters.text.value.trim().toLowerCase();
    if (filters.method.value && entry.method !== filters.method.value) return false;
    if (filters.status.value && String(entry.status)[0] !== filters.status.value) return false;
    if (filters.flagged.checked && flags(entry).length === 0) return false;
    if (!text) return true;
    const haystack = [entry.path, entry.query, entry.operation, entry.note, ...(entry.rules || []).map((r) => `${r.rule} ${r.detail}`)]
      .join(" ").toLowerCase();
    return haystack.includes(text);
  }

  function render() {
    const visible = entries.filter(shown);
    count.textContent = `${visible.length} of ${entries.length} shown`;
    // Rows are rebuilt as requests arrive: keep the keyboard where it was.
    const focused = body.contains(document.activeElement) ? document.activeElement.closest("tr").dataset.id : null;
    clear(body, visible.slice().reverse().map(row));
    if (focused) body.querySelector(`tr[data-id="${focused}"] button`)?.focus();
  }

  function row(entry) {
    const marks = flags(entry);
    const classes = [marks.includes("contract") ? "flag-contract" : "", marks.includes("unmatched") ? "flag-unmatched" : "",
      marks.includes("rule") ? "flag-rule" : "", entry.id === selected ? "selected" : ""].filter(Boolean).join(" ");
    return h("tr", { class: classes || null, "data-id": entry.id },
      h("td", {}, h("button", { type: "button", class: "link", "aria-label": `Details of request ${entry.id}`, onclick: () => choose(entry.id) }, String(entry.id))),
      h("td", { class: "mono" }, clockTime(entry.time)),
      h("td", { class: "mono" }, entry.method),
      h("td", { class: "mono clip path", title: entry.path }, entry.path + (entry.query ? `?${entry.query}` : "")),
      h("td", { class: `mono ${statusClass(entry.status)}` }, entry.status ? String(entry.status) : "dropped"),
      h("td", { class: "clip" }, (entry.rules || []).map((r) => h("span", { class: CONTRACT_RULES.has(r.rule) ? "badge bad" : "badge warn", title: r.detail }, r.rule)), entry.note ? h("span", { class: "badge" }, entry.note) : null),
      h("td", {}, marks.includes("contract") ? h("span", { class: "badge bad" }, "contract violation") : null,
        marks.includes("unmatched") ? h("span", { class: "badge warn" }, "unmatched") : null));
  }

  function choose(id) {
    selected = id;
    const entry = entries.find((e) => e.id === id);
    render();
    if (entry) showDetails(details, entry);
  }

  const stop = poll(async () => {
    if (paused) return;
    const page = await api("GET", "journal", { query: { kind: "http", since: last || undefined, limit: 200 } });
    if (!page.entries.length) return;
    entries.push(...page.entries);
    last = page.entries[page.entries.length - 1].id;
    if (entries.length > KEEP) entries.splice(0, entries.length - KEEP);
    render();
  }, 1000);
  return stop;
}

function showDetails(panel, entry) {
  const marks = flags(entry);
  const headers = (pairs) => h("table", { class: "headers" }, h("tbody", {},
    Object.entries(pairs || {}).map(([name, value]) => h("tr", {}, h("th", { scope: "row" }, name), h("td", { class: "mono" }, value)))));
  clear(panel,
    h("h2", { id: "details-title" }, `${entry.method} ${entry.path}`),
    h("p", {},
      h("span", { class: `mono ${statusClass(entry.status)}` }, entry.status ? `${entry.status}` : "dropped"), " · ",
      entry.operation ? h("span", {}, "operation ", h("code", {}, entry.operation)) : h("span", { class: "badge warn" }, "no operation matched"),
      " · ", entry.time),
    marks.includes("unmatched") ? h("p", { class: "error" }, "No operation of the contract has this method and path: a wrong URL or method in the client?") : null,
    entry.rules?.length ? h("ul", { "aria-label": "Rules that fired" },
      entry.rules.map((r) => h("li", {}, h("span", { class: CONTRACT_RULES.has(r.rule) ? "badge bad" : "badge warn" }, r.rule), " ", r.detail))) : null,
    entry.note ? h("p", {}, h("span", { class: "badge" }, entry.note)) : null,
    entry.query ? h("p", { class: "mono" }, `?${entry.query}`) : null,
    h("h3", {}, "Request headers"), headers(entry.request?.headers),
    entry.request?.body ? [h("h3", {}, "Request body"), jsonBlock(entry.request.body, "Request body")] : null,
    h("h3", {}, "Response headers"), headers(entry.response?.headers),
    h("h3", {}, "Response body"),
    entry.response?.body ? jsonBlock(entry.response.body, "Response body") : h("p", { class: "muted" }, entry.response?.bodyBase64 ? "(binary)" : "(empty)"));
}
