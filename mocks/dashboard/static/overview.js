// Overview: the emulators with their URLs and credentials, the CA, the clock, reset.
import { api } from "./api.js";
import { clear, copyButton, h, poll, say } from "./dom.js";

const STEPS = [["+1 s", 1], ["+1 min", 60], ["+10 min", 600], ["+1 h", 3600]];

export function mount(main, context) {
  const clockPanel = h("section", { class: "panel", "aria-labelledby": "clock-title" });
  const healthPanel = h("section", { class: "panel", "aria-labelledby": "health-title" });
  main.append(
    h("div", { class: "grid2" },
      h("div", {}, context.emulators.map((emulator) => emulatorPanel(emulator, context.me))),
      h("div", {}, clockPanel, resetPanel(), healthPanel)));
  const clock = clockView(clockPanel);
  const stopClock = poll(clock.refresh, 1000);
  const stopHealth = poll(healthView(healthPanel), 2000);
  return () => { stopClock(); stopHealth(); };
}

function emulatorPanel(emulator, me) {
  const self = emulator.vendor === me.vendor;
  const id = `emulator-${emulator.vendor}`;
  const rows = [["URL", emulator.url]];
  for (const [name, value] of Object.entries(emulator.credentials)) rows.push([name, value]);
  return h("section", { class: "panel", "aria-labelledby": id },
    h("h2", { id }, emulator.title, " ", h("span", { class: "badge" }, emulator.vendor),
      self ? h("span", { class: "badge ok" }, "this page") : null),
    h("dl", { class: "kv" }, rows.map(([name, value]) => [
      h("dt", {}, name),
      h("dd", { "data-credential": name }, String(value)),
      h("dd", {}, copyButton(value, `${emulator.vendor} ${name}`)),
    ])),
    h("div", { class: "row" },
      emulator.ca ? h("button", { type: "button", onclick: () => downloadCa(emulator.vendor) }, "Download CA certificate") : null,
      emulator.sockets.map((path) => h("span", { class: "muted" }, `WebSocket ${path}`)),
      self ? null : h("a", { href: emulator.dashboard }, `Open the ${emulator.vendor} dashboard`)));
}

async function downloadCa(vendor) {
  // Fetched (with the token header), then saved: a plain link could not send the token.
  const response = await api("GET", `emulators/${vendor}/ca`, { raw: true });
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: `trackmock-${vendor}-ca.pem` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  say(`trackmock-${vendor}-ca.pem saved`);
}

function clockView(panel) {
  const now = h("div", { class: "clock-now", id: "clock-now", "aria-live": "off" }, "…");
  const mode = h("span", { id: "clock-mode", class: "badge" }, "…");
  const freeze = h("button", { type: "button", id: "clock-freeze" }, "Freeze");
  const setInput = h("input", { type: "datetime-local", step: "1", id: "clock-set-input" });
  let frozen = false;
  const show = (clock) => {
    frozen = clock.frozen;
    now.textContent = clock.now.replace("T", " ").replace("Z", " UTC");
    mode.textContent = clock.frozen ? "frozen" : "real time";
    freeze.textContent = clock.frozen ? "Unfreeze (follow real time)" : "Freeze";
  };
  const move = async (body, what) => {
    show(await api("POST", "clock", { body }));
    say(what);
  };
  freeze.addEventListener("click", () => move({ freeze: !frozen }, frozen ? "Clock follows real time" : "Clock frozen"));
  panel.append(
    h("h2", { id: "clock-title" }, "Clock ", mode),
    now,
    h("div", { class: "row", role: "group", "aria-label": "Advance the clock" },
      STEPS.map(([label, seconds]) => h("button", {
        type: "button", "data-advance": seconds,
        onclick: () => move({ advance: seconds }, `Clock advanced ${label.slice(1)}`),
      }, label)),
      freeze),
    h("form", {
      class: "row",
      onsubmit: (event) => {
        event.preventDefault();
        if (!setInput.value) return say("Pick a date and time to set", true);
        const seconds = setInput.value.length === 16 ? ":00" : "";
        move({ set: `${setInput.value}${seconds}Z` }, "Clock set");
      },
    }, h("label", { for: "clock-set-input" }, "Set to (UTC)"), setInput, h("button", { type: "submit" }, "Set")),
    h("p", { class: "muted" }, "Every time rule (rate limits, the polling rule, session expiry, socket PINGs, link expiry) reads this clock."));
  return { refresh: async () => show(await api("GET", "clock")) };
}

function resetPanel() {
  const confirm = h("div", { class: "row", hidden: true },
    h("span", {}, "Back to the fixtures: state, clock, journal, faults?"),
    h("button", { type: "button", class: "danger", id: "reset-confirm", onclick: async () => {
      await api("POST", "reset");
      confirm.hidden = true;
      say("Emulator reset");
    } }, "Reset now"),
    h("button", { type: "button", onclick: () => { confirm.hidden = true; } }, "Cancel"));
  return h("section", { class: "panel", "aria-labelledby": "reset-title" },
    h("h2", { id: "reset-title" }, "Reset"),
    h("div", { class: "row" }, h("button", { type: "button", id: "reset", onclick: () => {
      confirm.hidden = false;
      document.getElementById("reset-confirm").focus();
    } }, "Reset the emulator…")),
    confirm);
}

function healthView(panel) {
  const journaled = h("dd", { id: "glance-journal" });
  const faults = h("dd", { id: "glance-faults" });
  const violations = h("dd", { id: "glance-violations" });
  panel.append(
    h("h2", { id: "health-title" }, "At a glance"),
    h("dl", { class: "kv" },
      h("dt", {}, "requests and frames journaled"), journaled, h("dd"),
      h("dt", {}, "active faults"), faults, h("dd", {}, h("a", { href: "#act" }, "faults")),
      h("dt", {}, "contract violations"), violations, h("dd", {}, h("a", { href: "#requests" }, "requests"))));
  return async () => {
    const [active, found, journal] = await Promise.all([
      api("GET", "faults"), api("GET", "violations"), api("GET", "journal", { query: { limit: 0 } }),
    ]);
    journaled.textContent = `${journal.recorded} (the last ${journal.size} kept)`;
    faults.textContent = String(active.faults.length);
    violations.textContent = String(found.violations.length + found.errors.length);
  };
}
