// Overview for a leader: the five classes of their subtree as of today or a chosen day, the
// completion and on-time rates with their bases, and the attention desk.

import * as api from "../api.js";
import { CLASSES, classChart } from "../chart.js";
import { badge, date, errorText, field, flash, h, percent, replace } from "../dom.js";

const DESK = [
  ["awaiting_approval", "Chờ duyệt", "Báo cáo hoàn thành đang chờ lãnh đạo duyệt"],
  ["extension_requests", "Xin gia hạn", "Đề nghị gia hạn chờ quyết định"],
  ["returned", "Bị trả lại", "Nhiệm vụ bị trả lại, cần bổ sung"],
  ["overdue", "Quá hạn", "Chưa hoàn thành, đã quá hạn"],
  ["due_soon", "Sắp đến hạn", "Đến hạn trong những ngày tới"],
];
const SHOWN = 5;

export async function renderOverview(main, ctx) {
  const asOf = ctx.params.get("as_of") || "";
  const [summary, attention] = await Promise.all([
    api.get("/reports/summary", { by: "organization", level: "children", as_of: asOf }),
    api.get("/reports/attention", { as_of: asOf }),
  ]);
  const totals = summary.data.totals;
  const units = summary.data.rows.map((row) => row.label).join(", ");

  const picker = h("input", { type: "date", id: "as-of", name: "as_of", value: summary.data.as_of });
  const form = h("form", { class: "inline-form", onsubmit: (event) => {
    event.preventDefault();
    location.hash = picker.value ? `#/overview?as_of=${picker.value}` : "#/overview";
  } }, field("Số liệu tính đến ngày", picker), h("button", { type: "submit" }, "Xem"),
  asOf ? h("a", { href: "#/overview", class: "button secondary" }, "Hôm nay") : null);

  replace(main,
    h("h1", {}, "Tổng quan"),
    h("p", { class: "lead" }, `Phạm vi: ${units || "—"} · tính đến ngày `, h("strong", { id: "as-of-shown" }, date(summary.data.as_of))),
    form,
    h("section", { class: "panel", "aria-labelledby": "classes-title" },
      h("h2", { id: "classes-title" }, `Phân loại ${totals.total} nhiệm vụ`),
      h("div", { class: "overview-grid" },
        h("ul", { class: "class-cards" }, CLASSES.map((name) => h("li", { class: `class-card class-${name}`, dataset: { class: name } },
          h("span", { class: "count" }, String(totals.counts[name] || 0)),
          h("span", { class: "label" }, ctx.labels.classifications[name]?.vi || name)))),
        classChart(totals.counts, ctx.labels, `Biểu đồ phân loại nhiệm vụ tính đến ${date(summary.data.as_of)}`))),
    h("section", { class: "panel", "aria-labelledby": "rates-title" },
      h("h2", { id: "rates-title" }, "Tỷ lệ"),
      h("dl", { class: "rates" },
        rate("Tỷ lệ hoàn thành", totals.completion_rate, `${totals.completed} hoàn thành / ${totals.total} nhiệm vụ (trừ nhiệm vụ đã hủy)`, "completion-rate"),
        rate("Tỷ lệ đúng hạn", totals.on_time_rate,
          `${totals.counts.completed_on_time} hoàn thành đúng hạn / ${totals.due} nhiệm vụ đã đến hạn (hoàn thành + quá hạn)`, "on-time-rate"),
        rate("Tỷ lệ quá hạn trên số đã đến hạn", totals.overdue_rate_of_due,
          `${totals.counts.overdue} quá hạn / ${totals.due} nhiệm vụ đã đến hạn`, "overdue-rate"))),
    desk(attention.data, ctx),
    documents(summary.data),
  );
}

// The periodic reports of the leader's units, drafted for signature (Word, in the official layout).
function documents(data) {
  const year = Number(data.as_of.slice(0, 4));
  const periods = [[`${year}-H1`, `6 tháng đầu năm ${year}`], [`${year}`, `Năm ${year}`]];
  const units = data.rows.filter((row) => row.organization);
  if (!units.length) return null;
  return h("section", { class: "panel", "aria-labelledby": "documents-title" },
    h("h2", { id: "documents-title" }, "Báo cáo định kỳ (Word, để trình ký)"),
    h("ul", { class: "documents" }, units.flatMap((row) => periods.map(([period, label]) => h("li", {},
      h("button", { type: "button", class: "secondary", dataset: { period, organization: row.organization.id }, onclick: async () => {
        try {
          const name = await api.download("/reports/periodic", { organization_id: row.organization.id, period, format: "docx" },
            `bao-cao-${period}.docx`);
          flash(`Đã tải về ${name}.`);
        } catch (error) {
          flash(errorText(error), "error");
        }
      } }, `${label} – ${row.organization.name}`))))));
}

function rate(label, value, basis, id) {
  return h("div", { class: "rate", id },
    h("dt", {}, label), h("dd", {}, h("span", { class: "rate-value" }, percent(value)), h("small", { class: "basis" }, `Cơ sở: ${basis}`)));
}

function desk(attention, ctx) {
  return h("section", { class: "panel", id: "attention", "aria-labelledby": "attention-title" },
    h("h2", { id: "attention-title" }, "Việc cần xử lý"),
    h("div", { class: "desk" }, DESK.map(([key, title, hint]) => {
      const section = attention[key];
      const items = section.items.slice(0, SHOWN);
      return h("section", { class: "desk-section", id: `desk-${key}`, "aria-labelledby": `desk-${key}-title` },
        h("h3", { id: `desk-${key}-title` }, title, " ", badge(section.count, title, key)),
        h("p", { class: "hint" }, hint),
        items.length
          ? h("ul", { class: "desk-list" }, items.map((item) => deskItem(key, item)))
          : h("p", { class: "empty" }, "Không có."),
        section.count > items.length && key === "overdue" ? h("a", { href: "#/overdue" }, `Xem tất cả ${section.count} nhiệm vụ quá hạn`) : null,
        section.count > items.length && key !== "overdue" ? h("p", { class: "hint" }, `Và ${section.count - items.length} nhiệm vụ khác.`) : null);
    })));
}

function deskItem(key, item) {
  if (key === "extension_requests") {
    return h("li", { dataset: { assignment: item.assignment_id } },
      h("a", { href: `#/assignments/${item.assignment_id}` }, `${item.action_ref} · ${item.organization_name}`),
      h("small", {}, `Xin gia hạn đến ${date(item.new_due_date)} (hạn hiện tại ${date(item.previous_due_date)})`));
  }
  const extra = key === "overdue" ? `Quá hạn ${item.days_overdue} ngày` : `Hạn ${date(item.due_date)}`;
  return h("li", { dataset: { assignment: item.id } },
    h("a", { href: `#/assignments/${item.id}` }, `${item.action.ref} ${item.action.title}`),
    h("small", {}, `${item.organization.name} · ${extra}`));
}
