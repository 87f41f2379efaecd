// The overdue list: filters (unit, task group, days overdue, owner), sorting, paging; each row
// with unit, task, owner and phone, days overdue, last update; exports of the same selection.

import * as api from "../api.js";
import { date, dateTime, errorText, field, flash, h, pager, replace, table } from "../dom.js";
import { exportFormats } from "../openapi.js";

const PAGE_SIZE = 20;
const SORTS = [
  ["due_date", "Quá hạn lâu nhất trước"],
  ["-due_date", "Quá hạn gần nhất trước"],
  ["-updated_at", "Cập nhật gần nhất trước"],
  ["updated_at", "Lâu chưa cập nhật trước"],
  ["organization", "Theo đơn vị"],
];
const FORMAT_NAMES = { csv: "CSV", xlsx: "Excel (XLSX)", docx: "Word (DOCX)" };

/** YYYY-MM-DD, `days` before the given day (a calendar computation, in UTC to avoid DST). */
function daysBefore(iso, days) {
  const moment = new Date(`${iso}T00:00:00Z`);
  moment.setUTCDate(moment.getUTCDate() - days);
  return moment.toISOString().slice(0, 10);
}

export async function renderOverdue(main, ctx) {
  const p = ctx.params;
  const state = {
    organization_id: p.get("organization_id") || "",
    group: p.get("group") || "",
    days: p.get("days") || "",
    owner_id: p.get("owner_id") || "",
    sort: p.get("sort") || "due_date",
    page: Number(p.get("page") || 1),
  };
  const [units, groups, attention] = await Promise.all([
    api.get("/reports/summary", { by: "organization" }),
    api.get("/reports/summary", { by: "group" }),
    api.get("/reports/attention"), // its as_of is the server's today, from which "days overdue" counts
  ]);
  const today = attention.data.as_of;
  const members = state.organization_id
    ? (await api.request(`/organizations/${state.organization_id}/members`, { query: { page_size: 200 } })).data : [];

  const filters = {
    organization_id: state.organization_id || undefined,
    include_descendants: state.organization_id ? "true" : undefined,
    owner_id: state.owner_id || undefined,
    due_to: state.days ? daysBefore(today, Number(state.days)) : undefined,
    as_of: today,
  };
  if (state.group) {
    const [planId, group] = state.group.split(":");
    filters.plan_id = planId;
    filters.group = group;
  }
  // The list reads /assignments (it sorts); the exports /reports/overdue: the same selection.
  const list = await api.get("/assignments", { ...filters, classification: "overdue", sort: state.sort, page: state.page, page_size: PAGE_SIZE });

  const unitSelect = h("select", { id: "f-unit", name: "organization_id" }, h("option", { value: "" }, "Tất cả đơn vị"),
    units.data.rows.map((row) => h("option", { value: row.key.organization_id, selected: String(row.key.organization_id) === state.organization_id || undefined }, row.label)));
  const groupSelect = h("select", { id: "f-group", name: "group" }, h("option", { value: "" }, "Tất cả nhóm nhiệm vụ"),
    groups.data.rows.filter((row) => row.key.group).map((row) => {
      const value = `${row.key.plan_id}:${row.key.group}`;
      return h("option", { value, selected: value === state.group || undefined }, row.label);
    }));
  const daysInput = h("input", { id: "f-days", name: "days", type: "number", min: 1, max: 3650, inputmode: "numeric", value: state.days });
  const ownerSelect = h("select", { id: "f-owner", name: "owner_id", disabled: state.organization_id ? undefined : true },
    h("option", { value: "" }, state.organization_id ? "Tất cả" : "Chọn đơn vị trước"),
    members.map((m) => h("option", { value: m.user_id, selected: String(m.user_id) === state.owner_id || undefined }, m.full_name)));
  const sortSelect = h("select", { id: "f-sort", name: "sort" },
    SORTS.map(([value, text]) => h("option", { value, selected: value === state.sort || undefined }, text)));

  const go = (changes) => {
    const next = { ...state, ...changes };
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(next)) if (value && !(name === "page" && Number(value) === 1)) query.set(name, value);
    location.hash = `#/overdue${query.toString() ? `?${query}` : ""}`;
  };
  const form = h("form", { class: "filters", "aria-label": "Lọc danh sách quá hạn", onsubmit: (event) => {
    event.preventDefault();
    go({ organization_id: unitSelect.value, group: groupSelect.value, days: daysInput.value, owner_id: unitSelect.value === state.organization_id ? ownerSelect.value : "", sort: sortSelect.value, page: 1 });
  } },
  field("Đơn vị", unitSelect), field("Nhóm nhiệm vụ", groupSelect), field("Quá hạn từ (ngày)", daysInput),
  field("Người phụ trách", ownerSelect), field("Sắp xếp", sortSelect),
  h("div", { class: "filter-actions" }, h("button", { type: "submit" }, "Lọc"), h("a", { class: "button secondary", href: "#/overdue" }, "Bỏ lọc")));

  const formats = await exportFormats("/reports/overdue");
  const exports = h("div", { class: "exports", role: "group", "aria-label": "Xuất danh sách" }, h("span", {}, "Xuất: "),
    formats.map((format) => h("button", { type: "button", class: "secondary", dataset: { format }, onclick: async () => {
      try {
        const name = await api.download("/reports/overdue", { ...filters, format }, `qua-han-${today}.${format}`);
        flash(`Đã tải về ${name}.`);
      } catch (error) {
        flash(errorText(error), "error");
      }
    } }, FORMAT_NAMES[format] || format.toUpperCase())));

  // Leaders may urge several rows at once; the API says, per row, whether it was sent.
  const canUrge = ctx.roles.leader;
  const rows = list.data.map((a) => h("tr", { dataset: { assignment: a.id } },
    canUrge ? h("td", { "data-label": "Chọn" }, h("input", {
      type: "checkbox", class: "pick", value: a.id, "aria-label": `Chọn ${a.action.ref} · ${a.organization.name}`,
    })) : null,
    h("td", { "data-label": "Đơn vị" }, a.organization.name),
    h("td", { "data-label": "Nhiệm vụ" }, h("a", { href: `#/assignments/${a.id}` }, `${a.action.ref} ${a.action.title}`)),
    h("td", { "data-label": "Người phụ trách" }, a.owner ? [a.owner.full_name, a.owner.phone ? h("br") : null,
      a.owner.phone ? h("a", { href: `tel:${a.owner.phone.replace(/\s/g, "")}` }, a.owner.phone) : null] : h("span", { class: "muted" }, "Chưa giao")),
    h("td", { "data-label": "Hạn", class: "nowrap" }, date(a.due_date)),
    h("td", { "data-label": "Số ngày quá hạn", class: "num" }, h("strong", {}, String(a.days_overdue))),
    h("td", { "data-label": "Cập nhật lần cuối", class: "nowrap" }, dateTime(a.updated_at))));

  replace(main,
    h("h1", {}, "Nhiệm vụ quá hạn ", h("span", { class: "badge overdue", id: "overdue-total" }, String(list.pagination.total))),
    h("p", { class: "lead" }, `Chưa hoàn thành và đã quá hạn, tính đến ngày ${date(today)}.`),
    form, exports,
    canUrge && rows.length ? urgeForm(main) : null,
    rows.length ? table({ text: "Danh sách nhiệm vụ quá hạn" }, [canUrge ? "Chọn" : null, "Đơn vị", "Nhiệm vụ", "Người phụ trách", "Hạn", "Số ngày quá hạn", "Cập nhật lần cuối"], rows, { class: "list", id: "overdue-table" })
      : h("p", { class: "empty" }, "Không có nhiệm vụ quá hạn nào theo bộ lọc này."),
    pager(list.pagination, (page) => go({ page })));
}

function urgeForm(main) {
  const message = h("input", { id: "urge-many-message", maxlength: 2000, placeholder: "Để trống: lời nhắc thông thường" });
  return h("form", { class: "inline-form urge-many", onsubmit: async (event) => {
    event.preventDefault();
    const ids = [...main.querySelectorAll("input.pick:checked")].map((box) => Number(box.value));
    if (!ids.length) {
      flash("Chọn ít nhất một nhiệm vụ để đôn đốc.", "error");
      return;
    }
    const button = event.target.querySelector("button");
    button.disabled = true;
    try {
      const result = (await api.post("/assignments/urge", { assignment_ids: ids, message: message.value.trim() || undefined })).data;
      const failed = result.results.filter((item) => item.status >= 400);
      flash(failed.length ? `Đã đôn đốc ${result.succeeded} nhiệm vụ; ${failed.length} không gửi được: ${failed[0].detail}`
        : `Đã đôn đốc ${result.succeeded} nhiệm vụ.`, failed.length ? "error" : "ok");
      for (const box of main.querySelectorAll("input.pick:checked")) box.checked = false;
    } catch (error) {
      flash(errorText(error), "error");
    }
    button.disabled = false;
  } }, field("Lời nhắn đôn đốc các nhiệm vụ đã chọn", message), h("button", { type: "submit" }, "Đôn đốc các nhiệm vụ đã chọn"));
}
