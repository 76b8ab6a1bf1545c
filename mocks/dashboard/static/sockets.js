// Socket frames: connections, and the live frames of one, each checked against the AsyncAPI
// document (which message it is, or why it is none). PING and pong stand out.
import { api } from "./api.js";
import { clear, clockTime, h, jsonBlock, poll } from "./dom.js";

const KEEP = 2000;
const ARROWS = { "ws-out": "server → client", "ws-in": "client → server", "ws-open": "opened", "ws-close": "closed" };

export function frameLabel(frame) {
  if (frame.kind === "ws-out" && frame.message === "status") return "PING";
  if (frame.kind === "ws-in" && frame.message === "pong") return "pong";
  return frame.message || "";
}

export function mount(main) {
  const frames = [];
  let connections = [];
  let chosen = null;
  let last = 0;
  const list = h("ul", { class: "conn-list", id: "connections", "aria-label": "Connections" });
  const body = h("tbody", { id: "frame-rows" });
  const heading = h("h2", { id: "frames-title" }, "Frames");
  const details = h("div", { id: "frame-details" });
  main.append(h("div", { class: "grid-side" },
    h("section", { class: "panel", "aria-labelledby": "connections-title" },
      h("h2", { id: "connections-title" }, "Connections"), list,
      h("p", { class: "muted" }, "Connections the journal still holds, and every open one.")),
    h("section", { "aria-labelledby": "frames-title" }, heading,
      h("div", { class: "table-wrap" }, h("table", { "aria-label": "Frames, newest first" },
        h("thead", {}, h("tr", {}, ["#", "Time", "Direction", "Message", "Frame", "Check"].map((t) => h("th", { scope: "col" }, t)))),
        body)),
      details)));

  function renderConnections() {
    const focused = list.contains(document.activeElement) ? document.activeElement.dataset.connection : null;
    clear(list, connections.length ? connections.slice().reverse().map((c) => h("li", {},
      h("button", { type: "button", "data-connection": c.id, "aria-pressed": String(c.id === chosen), onclick: () => { chosen = c.id; renderConnections(); renderFrames(); } },
        `#${c.id} ${c.path} `, c.open ? h("span", { class: "badge ok" }, "open") : h("span", { class: "badge" }, `closed${c.closeCode ? ` ${c.closeCode}` : ""}`)))) :
      h("li", { class: "muted" }, "No socket yet: open one (Track: log in, then GET /api/socket)."));
    if (focused) list.querySelector(`button[data-connection="${focused}"]`)?.focus();
  }

  function renderFrames() {
    const mine = frames.filter((f) => f.connection === chosen);
    heading.textContent = chosen ? `Frames of connection #${chosen} (${mine.length})` : "Frames";
    clear(body, mine.slice().reverse().map((frame) => {
      const label = frameLabel(frame);
      const bad = frame.problems.length > 0;
      return h("tr", { class: label === "PING" || label === "pong" ? "ping" : null, "data-id": frame.id },
        h("td", {}, h("button", { type: "button", class: "link", "aria-label": `Frame ${frame.id} whole`, onclick: () => show(frame) }, String(frame.id))),
        h("td", { class: "mono" }, clockTime(frame.time)),
        h("td", {}, ARROWS[frame.kind]),
        h("td", {}, label ? h("span", { class: label === "PING" || label === "pong" ? "badge warn" : "badge" }, label) : null),
        h("td", { class: "mono clip", title: frame.text }, frame.kind === "ws-close" ? `code ${frame.status ?? ""} ${frame.note || ""}` : frame.text),
        h("td", {}, frame.kind === "ws-in" || frame.kind === "ws-out"
          ? (bad ? h("span", { class: "badge bad", title: frame.problems.join("\n") }, "not documented") : h("span", { class: "badge ok" }, "documented"))
          : null));
    }));
  }

  function show(frame) {
    clear(details, h("section", { class: "panel", "aria-label": `Frame ${frame.id}` },
      h("h3", {}, `Frame ${frame.id}: ${ARROWS[frame.kind]} ${frameLabel(frame)}`),
      frame.problems.length ? h("ul", { class: "error" }, frame.problems.map((p) => h("li", {}, p))) : null,
      jsonBlock(frame.text, "Frame")));
  }

  return poll(async () => {
    const page = await api("GET", "sockets/frames", { query: { since: last || undefined, limit: 500 } });
    connections = page.connections;
    if (page.frames.length) {
      frames.push(...page.frames);
      last = page.frames[page.frames.length - 1].id;
      if (frames.length > KEEP) frames.splice(0, frames.length - KEEP);
    }
    const before = chosen;
    if (chosen === null || !connections.some((c) => c.id === chosen)) {
      const open = connections.filter((c) => c.open);
      const latest = (open.length ? open : connections).at(-1);
      chosen = latest ? latest.id : null;
    }
    renderConnections();
    if (page.frames.length || chosen !== before) renderFrames();
  }, 1000);
}
