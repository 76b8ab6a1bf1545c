// Small DOM helpers: elements are built with text nodes, never from HTML strings.

/**
 * h("button", {class: "primary", onclick: fn, "aria-label": "..."}, "text", child, ...)
 * Attributes starting with "on" become listeners; `null`/`false` children are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "value") element.value = value;
    else if (name === "checked" || name === "selected" || name === "open") element[name] = Boolean(value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** Show a short message in the status area (errors stay longer). */
export function say(message, isError = false) {
  const area = document.getElementById("status");
  const line = h("p", { class: isError ? "error" : null }, message);
  area.append(line);
  setTimeout(() => line.remove(), isError ? 8000 : 3000);
}

/** A button copying `value` to the clipboard. */
export function copyButton(value, what) {
  return h("button", {
    type: "button",
    "aria-label": `Copy ${what}`,
    onclick: async (event) => {
      const button = event.currentTarget;
      await copyText(String(value));
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
      say(`${what} copied`);
    },
  }, "Copy");
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Served on a plain-HTTP address other than localhost: the older way.
  const area = h("textarea", { readonly: true, "aria-hidden": "true" });
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

/** Pretty JSON (or the text as it is) in a <pre>. */
export function jsonBlock(value, label) {
  let text = value;
  if (typeof value !== "string") text = JSON.stringify(value, null, 2);
  else {
    try {
      text = JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      text = value;
    }
  }
  return h("pre", { class: "json", tabindex: "0", "aria-label": label || "JSON" }, text);
}

/** "2025-02-21T10:00:05.123Z" as "10:00:05.123". */
export function clockTime(iso) {
  return iso ? iso.slice(11, 23) : "";
}

export function statusClass(status) {
  return status ? `status-${String(status)[0]}` : "";
}

/** Run `task` now and again `every` ms after each run ends, until the returned stop(). */
export function poll(task, every) {
  let timer = null;
  let stopped = false;
  const run = async () => {
    try {
      await task();
    } catch (error) {
      say(String(error.message || error), true);
    }
    if (!stopped) timer = setTimeout(run, every);
  };
  run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** A labelled form control on a grid row, with optional help text. */
export function field(id, labelText, control, help) {
  control.id = id;
  if (help) control.setAttribute("aria-describedby", `${id}-help`);
  return h("div", { class: "field" },
    h("label", { for: id }, labelText), control,
    help ? h("div", { class: "help", id: `${id}-help` }, help) : null);
}
