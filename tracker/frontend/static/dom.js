// Small helpers for building the page without inline scripts or styles (the CSP forbids them).

/** h("a", {href: "#/x", class: "y"}, "text", child…): an element; attributes starting with "on" are listeners. */
export function h(tag, attrs = {}, ...children) {
  const svg = ["svg", "g", "rect", "text", "title", "line"].includes(tag);
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** 2026-11-27 → 27/11/2026, as Vietnamese offices write dates. */
export function date(iso) {
  if (!iso) return "—";
  const [y, m, d] = iso.slice(0, 10).split("-");
  return `${d}/${m}/${y}`;
}

export function dateTime(iso) {
  if (!iso) return "—";
  const moment = new Date(iso);
  return moment.toLocaleString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", dateStyle: "short", timeStyle: "short" });
}

export function percent(rate) {
  if (rate === null || rate === undefined) return "—";
  return `${(rate * 100).toLocaleString("vi-VN", { maximumFractionDigits: 1 })}%`;
}

export function bytes(size) {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

let flashTimer = null;

/** A message in the live region under the header (errors stay until the next one). */
export function flash(message, kind = "ok") {
  const box = document.getElementById("flash");
  box.className = `flash ${kind}`;
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  box.textContent = message;
  clearTimeout(flashTimer);
  if (kind !== "error") flashTimer = setTimeout(() => { box.textContent = ""; box.className = "flash"; }, 6000);
}

export function errorText(error) {
  if (error && error.status === 0) return "Không kết nối được máy chủ.";
  return (error && error.message) || "Có lỗi xảy ra.";
}

/** A labelled form field: the label's `for` names the input's id. */
export function field(label, input, hint) {
  if (!input.id) input.id = `f-${Math.random().toString(36).slice(2, 9)}`;
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input, hint ? h("small", {}, hint) : null);
}

export function badge(count, label, kind) {
  return h("span", { class: `badge ${kind || ""}`, "aria-label": `${label}: ${count}` }, String(count));
}

/** A pill showing a class with its colour (text on the class colour meets WCAG AA). */
export function classPill(classification, labels) {
  const label = labels.classifications[classification]?.vi || classification;
  return h("span", { class: `pill class-${classification}` }, label);
}

export function statusLabel(status, labels) {
  return labels.statuses[status]?.vi || status;
}

/** Pager: ‹ Trước · Trang x / y · Sau ›, from the API's X-Pagination. */
export function pager(pagination, go) {
  if (!pagination) return null;
  const { page = 1, total_pages: pages = 1, total = 0 } = pagination;
  return h("nav", { class: "pager", "aria-label": "Phân trang" },
    h("button", { type: "button", class: "secondary", disabled: page <= 1 || undefined, onclick: () => go(page - 1) }, "‹ Trước"),
    h("span", { class: "pager-info" }, `Trang ${page} / ${Math.max(pages, 1)} · ${total} dòng`),
    h("button", { type: "button", class: "secondary", disabled: page >= pages || undefined, onclick: () => go(page + 1) }, "Sau ›"));
}

export function table(caption, headers, rows, attrs = {}) {
  return h("div", { class: "table-wrap" },
    h("table", attrs,
      h("caption", { class: caption.visible ? "" : "visually-hidden" }, caption.text),
      h("thead", {}, h("tr", {}, headers.filter(Boolean).map((head) => h("th", { scope: "col" }, head)))),
      h("tbody", {}, rows)));
}
