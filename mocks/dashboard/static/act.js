// Act as the vendor: every control action that takes input, as a form built from its contract,
// and what each action changed (tables that grew or changed, socket frames pushed, faults).
import { api } from "./api.js";
import { clear, clockTime, field, h, jsonBlock, poll, say } from "./dom.js";
import { frameLabel } from "./sockets.js";

/** The value of a form control for a field, or undefined when left empty. */
export function readField(spec, control) {
  const raw = control.value.trim();
  if (raw === "") return undefined;
  if (raw === "null" && spec.nullable) return null;
  switch (spec.type) {
    case "integer": return Number.parseInt(raw, 10);
    case "number": return Number(raw);
    case "boolean": return raw === "true";
    case "json": return JSON.parse(raw);
    default: return raw;
  }
}

function control(spec, given) {
  const prefill = given === null ? undefined : given;
  const listed = Array.isArray(spec.enum) && spec.enum.length > 0;
  if (spec.type === "boolean" || listed) {
    const options = spec.type === "boolean" ? ["true", "false"] : spec.enum.map(String);
    return h("select", {}, h("option", { value: "" }, "—"),
      options.map((o) => h("option", { value: o, selected: prefill !== undefined && String(prefill) === o }, o)));
  }
  if (spec.type === "json") {
    return h("textarea", { rows: 4, spellcheck: "false" }, prefill === undefined ? "" : JSON.stringify(prefill, null, 2));
  }
  return h("input", {
    type: spec.type === "integer" || spec.type === "number" ? "number" : "text",
    step: spec.type === "number" ? "any" : null,
    value: prefill === undefined ? "" : String(prefill),
    required: spec.required && spec.in === "path",
  });
}

function actionForm(action, after) {
  const inputs = [];
  const example = action.body?.example || {};
  const make = (spec, where, prefill) => {
    const id = `act-${action.id}-${where}-${spec.name}`;
    const input = control(spec, prefill);
    inputs.push({ spec, where, input });
    const label = `${spec.name}${spec.required ? " *" : ""}`;
    const help = [spec.description, spec.nullable ? "null allowed" : null].filter(Boolean).join(" · ");
    return field(id, label, input, help || null);
  };
  const result = h("div", { "aria-live": "polite", id: `act-${action.id}-result` });
  const form = h("form", {
    "data-action": action.id,
    onsubmit: async (event) => {
      event.preventDefault();
      let path = action.path.replace(/^\/__admin\//, "");
      const query = {};
      let body = action.body ? {} : undefined;
      try {
        for (const { spec, where, input } of inputs) {
          const value = readField(spec, input);
          if (value === undefined) {
            if (spec.required) throw new Error(`${spec.name} is required`);
            continue;
          }
          if (where === "path") path = path.replace(`{${spec.name}}`, encodeURIComponent(value));
          else if (where === "query") query[spec.name] = value;
          else if (where === "whole") body = value;
          else body[spec.name] = value;
        }
      } catch (error) {
        clear(result, h("p", { class: "error" }, `Not sent: ${error.message}`));
        return;
      }
      // The last answer goes while this one is on its way, so "done" always means this one.
      clear(result, h("p", { class: "muted" }, "sending…"));
      const before = await after.snapshot();
      try {
        const answer = await api(action.method, path, { body, query });
        clear(result, h("p", {}, h("span", { class: "badge ok" }, "done"), ` ${action.method} /__admin/${path}`), answer === null ? null : jsonBlock(answer, "Answer"));
        say(`${action.summary}: done`);
      } catch (error) {
        clear(result, h("p", { class: "error" }, error.message));
      }
      await after.changed(before);
    },
  },
  action.description ? h("p", { class: "muted" }, action.description) : null,
  action.parameters.map((spec) => make(spec, spec.in, spec.default)),
  (action.body?.fields || []).map((spec) => make(spec, "body", example[spec.name] ?? spec.default)),
  action.body?.whole ? make({ name: "body", type: "json", required: action.body.required, description: "The request body, as JSON." }, "whole", action.body.example) : null,
  h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Send"),
    h("code", { class: "muted" }, `${action.method} ${action.path}`)),
  result);
  return h("details", { class: "action", id: `action-${action.id}` }, h("summary", {}, action.summary), form);
}

function changes(panel) {
  const list = h("div", { id: "changes" }, h("p", { class: "muted" }, "Tables that grow or change after an action show here."));
  panel.append(h("h2", { id: "changes-title" }, "What changed"), list);
  const counts = async () => {
    const listing = await api("GET", "state");
    return new Map(listing.tables.map((t) => [t.name, t]));
  };
  return {
    snapshot: counts,
    changed: async (before) => {
      const after = await counts();
      const grown = [...after.values()].filter((t) => t.count !== before.get(t.name)?.count);
      if (!grown.length) {
        clear(list, h("p", { class: "muted" }, "No table changed size (records may have changed in place)."));
        return;
      }
      const blocks = await Promise.all(grown.map(async (t) => {
        const page = await api("GET", `state/${encodeURIComponent(t.name)}`, { query: { limit: 3, order: "desc" } });
        const was = before.get(t.name)?.count ?? 0;
        return h("section", { "data-table": t.name },
          h("h3", {}, `${t.group ? `${t.group} · ` : ""}${t.title}: ${was} → ${t.count}`),
          jsonBlock(page.rows.map((r) => r.record), `Newest ${t.title}`));
      }));
      clear(list, blocks);
    },
  };
}

// One line per fault: what it does, what it selects, how often it acted.
function faultLabel(f) {
  const wait = f.latency_max_ms !== null && f.latency_max_ms !== undefined
    ? ` ${f.latency_min_ms}–${f.latency_max_ms} ms` : f.latency_ms ? ` ${f.latency_ms} ms` : "";
  const what = [
    f.status ? ` ${f.status}` : "",
    wait,
    f.close_code ? ` code ${f.close_code} after ${f.after_frames}` : "",
    f.content_type ? ` as ${f.content_type}` : "",
    f.truncate_bytes !== null && f.truncate_bytes !== undefined ? ` keep ${f.truncate_bytes} B` : "",
    f.probability !== undefined && f.probability < 1 ? ` p=${f.probability}` : "",
  ].join("");
  const selects = f.action.startsWith("frame_") || f.action === "socket_close" || f.action === "upgrade_refuse"
    ? `socket ${f.path || "*"}` : `${f.method || "any"} ${f.path || "*"}`;
  const misses = f.misses ? ` · misses ${f.misses}` : "";
  return `#${f.id} ${f.action}${what} ${selects} · hits ${f.hits}${misses}${f.remaining === null ? "" : ` · ${f.remaining} left`}`;
}

function faultsPanel(panel) {
  const list = h("ul", { id: "faults" });
  panel.append(h("h2", {}, "Active faults"), list,
    h("button", { type: "button", id: "clear-faults", onclick: async () => { await api("DELETE", "faults"); say("Faults cleared"); } }, "Clear all faults"));
  return async () => {
    const { faults } = await api("GET", "faults");
    clear(list, faults.length ? faults.map((f) => h("li", { class: "mono" }, faultLabel(f))) :
      h("li", { class: "muted" }, "none"));
  };
}

function pushedPanel(panel) {
  const list = h("tbody", { id: "pushed" });
  let last = 0;
  panel.append(h("h2", {}, "Socket frames pushed (live)"),
    h("div", { class: "table-wrap" }, h("table", { "aria-label": "Frames sent, newest first" },
      h("thead", {}, h("tr", {}, ["Time", "Conn.", "Message", "Frame"].map((t) => h("th", { scope: "col" }, t)))), list)));
  const shown = [];
  return async () => {
    const page = await api("GET", "sockets/frames", { query: { since: last || undefined, limit: 50 } });
    const sent = page.frames.filter((f) => f.kind === "ws-out");
    if (page.frames.length) last = page.frames[page.frames.length - 1].id;
    if (!sent.length) return;
    shown.unshift(...sent.reverse());
    shown.length = Math.min(shown.length, 20);
    clear(list, shown.map((f) => h("tr", {}, h("td", { class: "mono" }, clockTime(f.time)), h("td", {}, `#${f.connection}`),
      h("td", {}, h("span", { class: "badge" }, frameLabel(f))), h("td", { class: "mono clip", title: f.text }, f.text))));
  };
}

export function mount(main, context) {
  const formsColumn = h("section", { "aria-label": "Control actions" });
  const side = h("section", { class: "panel", "aria-labelledby": "changes-title" });
  const faultSide = h("section", { class: "panel" });
  const pushSide = h("section", { class: "panel" });
  main.append(h("div", { class: "grid2" }, formsColumn, h("div", {}, side, faultSide, context.me.sockets.length ? pushSide : null)));
  const after = changes(side);
  const stops = [poll(faultsPanel(faultSide), 2000)];
  if (context.me.sockets.length) stops.push(poll(pushedPanel(pushSide), 1000));
  api("GET", "actions").then(({ actions }) => {
    const vendor = actions.filter((a) => a.source === "vendor");
    const core = actions.filter((a) => a.source === "core");
    formsColumn.append(
      h("h2", {}, `Act as ${context.me.title}`),
      h("p", { class: "muted" }, "What the vendor's own UI, devices or support do, through this emulator's control API: the emulator's rules apply, the journal and sockets see it."),
      ...vendor.map((a) => actionForm(a, after)),
      h("h2", {}, "Faults and sockets"),
      ...core.map((a) => actionForm(a, after)));
  }).catch((error) => say(error.message, true));
  return () => stops.forEach((stop) => stop());
}
