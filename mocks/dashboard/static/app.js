// The dashboard: header, views, and the admin token prompt. Each view is a module with
// mount(container, context) returning a function that stops it (its timers).
import { api, onTokenNeeded, setToken, token } from "./api.js";
import { clear, h, say } from "./dom.js";
import * as overview from "./overview.js";
import * as requests from "./requests.js";
import * as sockets from "./sockets.js";
import * as state from "./state.js";
import * as act from "./act.js";
import * as drift from "./drift.js";

const VIEWS = [
  { id: "overview", title: "Overview", view: overview },
  { id: "requests", title: "Requests", view: requests },
  { id: "sockets", title: "Socket frames", view: sockets, needs: (me) => me.sockets.length > 0 },
  { id: "state", title: "State", view: state },
  { id: "act", title: "Act as the vendor", view: act },
  { id: "drift", title: "Drift", view: drift },
];

let stopView = () => {};

function askToken(refused) {
  const dialog = document.getElementById("token-dialog");
  const form = document.getElementById("token-form");
  const input = document.getElementById("token-input");
  const error = document.getElementById("token-error");
  error.hidden = !refused;
  error.textContent = refused ? "The emulator refused that token: try again." : "";
  input.value = "";
  return new Promise((resolve) => {
    const submit = (event) => {
      event.preventDefault();
      if (!input.value) return;
      setToken(input.value);
      form.removeEventListener("submit", submit);
      dialog.close();
      showTokenState();
      resolve();
    };
    form.addEventListener("submit", submit);
    dialog.addEventListener("cancel", (event) => event.preventDefault(), { once: true });
    dialog.showModal();
    input.focus();
  });
}

function showTokenState() {
  const place = document.getElementById("token-state");
  if (document.body.dataset.adminToken !== "required") {
    clear(place, "control API open (no admin token)");
    return;
  }
  clear(place, token() ? "admin token set for this tab" : "admin token needed",
    token() ? h("button", { type: "button", onclick: () => { setToken(null); window.location.reload(); } }, "Forget token") : null);
}

function route(context) {
  const wanted = window.location.hash.slice(1) || "overview";
  const entry = context.views.find((v) => v.id === wanted) || context.views[0];
  for (const link of document.querySelectorAll("#views a")) {
    if (link.dataset.view === entry.id) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  stopView();
  clear(document.getElementById("status"));
  const main = clear(document.getElementById("main"));
  document.title = `${entry.title} · ${context.me.title} · trackmock`;
  stopView = entry.view.mount(main, context) || (() => {});
}

async function boot() {
  onTokenNeeded(askToken);
  if (document.body.dataset.adminToken === "required" && !token()) await askToken(false);
  showTokenState();
  const listing = await api("GET", "emulators");
  const me = listing.emulators.find((e) => e.vendor === listing.self);
  const context = { me, emulators: listing.emulators, views: VIEWS.filter((v) => !v.needs || v.needs(me)) };
  document.getElementById("title").textContent = `${me.title} (${me.vendor})`;
  clear(document.getElementById("emulators"), listing.emulators.map((emulator) =>
    h("a", {
      href: emulator.dashboard,
      "aria-current": emulator.vendor === me.vendor ? "page" : null,
      title: `${emulator.title} at ${emulator.url}`,
    }, emulator.vendor)));
  clear(document.getElementById("views"), context.views.map((entry) =>
    h("a", { href: `#${entry.id}`, "data-view": entry.id }, entry.title)));
  window.addEventListener("hashchange", () => route(context));
  route(context);
}

boot().catch((error) => say(`The dashboard could not start: ${error.message || error}`, true));
