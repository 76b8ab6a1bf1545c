// Drift: upload a HAR and see what `trackmock check` finds against this vendor's contracts.
import { api } from "./api.js";
import { clear, h, say } from "./dom.js";

const VERDICTS = {
  "breaking-drift": ["bad", "Breaking drift: a client that follows the contract would break"],
  "no-breaking-drift": ["ok", "No breaking drift"],
  "nothing-to-check": ["warn", "Nothing to check: no exchange in the file matches this vendor's contract"],
};

export function mount(main, context) {
  const file = h("input", { type: "file", id: "drift-file", accept: ".har,.json,application/json" });
  const report = h("div", { id: "drift-report", "aria-live": "polite" });
  main.append(
    h("section", { class: "panel", "aria-labelledby": "drift-title" },
      h("h2", { id: "drift-title" }, `Check captured traffic against the ${context.me.title} contract`),
      h("p", { class: "muted" }, "A HAR file as a browser saves it (Network tab, \"Save all as HAR\", socket frames included), up to 5 MiB. Secrets in it never reach the report. The same check as ",
        h("code", {}, `trackmock check --vendor ${context.me.vendor} FILE`), "."),
      h("form", { class: "row", onsubmit: async (event) => {
        event.preventDefault();
        const chosen = file.files[0];
        if (!chosen) return say("Choose a HAR file first", true);
        clear(report, h("p", { class: "muted" }, `Checking ${chosen.name}…`));
        try {
          render(report, await api("POST", "drift", { body: await chosen.text() }), chosen.name);
        } catch (error) {
          clear(report, h("p", { class: "error" }, error.message));
        }
      } }, h("label", { for: "drift-file" }, "HAR file"), file, h("button", { type: "submit", class: "primary" }, "Check"))),
    report);
  return () => {};
}

function count(number, word) {
  return `${number} ${word}${number === 1 ? "" : "s"}`;
}

function render(place, result, name) {
  const [tone, text] = VERDICTS[result.verdict];
  const s = result.summary;
  clear(place,
    h("p", { class: `verdict ${tone}`, id: "drift-verdict" }, text),
    h("p", {}, `${name}: ${count(s.exchanges, "exchange")} and ${count(s.frames, "socket frame")} checked against ${result.contract}; `,
      `${s.breaking} breaking, ${count(s.informational, "informational finding")}.`),
    result.operations.filter((op) => op.findings.length).map((op) => h("section", { class: "panel" },
      h("h3", {}, op.operation, op.title !== op.operation ? h("span", { class: "muted" }, ` ${op.title}`) : null, ` (${op.checked} seen)`),
      h("table", { "aria-label": `Findings of ${op.operation}` },
        h("thead", {}, h("tr", {}, ["", "Kind", "Field", "What", "Seen"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, op.findings.map((f) => h("tr", { class: f.breaking ? "flag-contract" : null },
          h("td", {}, h("span", { class: f.breaking ? "badge bad" : "badge" }, f.breaking ? "BREAKING" : "info")),
          h("td", { class: "mono" }, f.kind + (f.side === "client" ? " (client)" : "")),
          h("td", { class: "mono" }, f.path),
          h("td", {}, f.message),
          h("td", { class: "mono" }, `${f.count}× ${f.sources.join(", ")}`))))))),
    (() => {
      const clean = result.operations.filter((op) => !op.findings.length).map((op) => op.operation);
      return clean.length ? h("p", {}, `No drift in: ${clean.join(", ")}`) : null;
    })(),
    Object.entries(s.skipped || {}).map(([reason, count]) => h("p", { class: "muted" }, `Skipped ${count}: ${reason}`)),
    result.notes.map((note) => h("p", { class: "muted" }, note)));
}
