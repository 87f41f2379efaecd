// For an officer: the assignments of my unit, to open one and update progress, upload evidence,
// submit it or ask for an extension there.

import * as api from "../api.js";
import { classPill, date, field, h, pager, replace, statusLabel, table } from "../dom.js";

const PAGE_SIZE = 20;

export async function renderWork(main, ctx) {
  const page = Number(ctx.params.get("page") || 1);
  const status = ctx.params.get("status") || "";
  const own = ctx.me.user.memberships.filter((m) => m.role === "officer");
  const list = await api.get("/assignments", {
    organization_id: own.map((m) => m.organization_id).join(",") || undefined,
    status: status || undefined, sort: "due_date", page, page_size: PAGE_SIZE,
  });

  const select = h("select", { id: "f-status", name: "status" }, h("option", { value: "" }, "Tất cả trạng thái"),
    Object.entries(ctx.labels.statuses).map(([value, label]) => h("option", { value, selected: value === status || undefined }, label.vi)));
  const form = h("form", { class: "inline-form", onsubmit: (event) => {
    event.preventDefault();
    location.hash = select.value ? `#/work?status=${select.value}` : "#/work";
  } }, field("Trạng thái", select), h("button", { type: "submit" }, "Lọc"));

  const rows = list.data.map((a) => h("tr", { dataset: { assignment: a.id } },
    h("td", { "data-label": "Nhiệm vụ" }, h("a", { href: `#/assignments/${a.id}` }, `${a.action.ref} ${a.action.title}`)),
    h("td", { "data-label": "Đơn vị" }, a.organization.name),
    h("td", { "data-label": "Hạn", class: "nowrap" }, date(a.due_date)),
    h("td", { "data-label": "Trạng thái" }, statusLabel(a.status, ctx.labels)),
    h("td", { "data-label": "Phân loại" }, classPill(a.classification, ctx.labels)),
    h("td", { "data-label": "Tiến độ", class: "num" }, `${a.progress}%`)));

  replace(main,
    h("h1", {}, "Việc của đơn vị"),
    h("p", { class: "lead" }, own.map((m) => m.organization_name).join("; ")),
    form,
    rows.length ? table({ text: "Nhiệm vụ của đơn vị" }, ["Nhiệm vụ", "Đơn vị", "Hạn", "Trạng thái", "Phân loại", "Tiến độ"], rows, { class: "list", id: "work-table" })
      : h("p", { class: "empty" }, "Không có nhiệm vụ nào."),
    pager(list.pagination, (next) => {
      const query = new URLSearchParams({ page: next });
      if (status) query.set("status", status);
      location.hash = `#/work?${query}`;
    }));
}
