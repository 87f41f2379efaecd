// Drill-down by unit: the tree of units with rolled-up counts (one level at a time, as the API
// gives it), and a unit's page with its counts, its scorecard line and its assignments.

import * as api from "../api.js";
import { CLASSES, classChart } from "../chart.js";
import { classPill, date, h, pager, percent, replace, statusLabel, table } from "../dom.js";

const PAGE_SIZE = 20;

function counts(row) {
  return h("span", { class: "tree-counts" },
    h("span", { class: "count-total" }, `${row.total} nhiệm vụ`),
    h("span", { class: "count-overdue" }, `${row.counts.overdue} quá hạn`),
    h("span", { class: "count-done" }, `${row.completed} hoàn thành`));
}

/** A stacked bar of the five classes: widths are set through the CSSOM, which the CSP allows. */
function stack(row) {
  const bar = h("span", { class: "stack", "aria-hidden": "true" });
  for (const name of CLASSES) {
    const part = h("span", { class: `class-${name}` });
    part.style.width = `${row.total ? (100 * (row.counts[name] || 0)) / row.total : 0}%`;
    bar.append(part);
  }
  return bar;
}

function node(row) {
  const id = row.key.organization_id;
  const children = h("ul", { class: "tree", role: "group", hidden: true });
  let toggle;
  const setOpen = async (open) => {
    toggle.setAttribute("aria-expanded", String(open));
    children.hidden = !open;
    if (open && !children.childElementCount) {
      const level = await api.get("/reports/summary", { by: "organization", parent_id: id });
      replace(children, level.data.rows.map(node));
    }
  };
  toggle = row.has_children ? h("button", {
    type: "button", class: "toggle", "aria-expanded": "false", "aria-label": `Mở các đơn vị trực thuộc ${row.label}`,
    onclick: () => setOpen(toggle.getAttribute("aria-expanded") !== "true"),
  }) : h("span", { class: "toggle-space", "aria-hidden": "true" });
  const li = h("li", { dataset: { org: id } },
    h("div", { class: "tree-row" }, toggle, h("a", { href: `#/units/${id}` }, row.label), counts(row), stack(row)),
    children);
  li.open = () => (row.has_children ? setOpen(true) : Promise.resolve());
  return li;
}

export async function renderUnits(main) {
  const top = await api.get("/reports/summary", { by: "organization", level: "children" });
  const nodes = top.data.rows.map(node);
  if (nodes.length === 1) await nodes[0].open(); // one unit at the top: show its units at once
  replace(main,
    h("h1", {}, "Đơn vị"),
    h("p", { class: "lead" }, `Số liệu cộng dồn cả các đơn vị trực thuộc, tính đến ngày ${date(top.data.as_of)}. Bấm ▸ để mở, bấm tên đơn vị để xem chi tiết.`),
    h("section", { class: "panel" }, h("ul", { class: "tree root", id: "unit-tree" }, nodes)));
}

export async function renderUnit(main, ctx) {
  const id = ctx.id;
  const page = Number(ctx.params.get("page") || 1);
  const level = await api.get("/reports/summary", { by: "organization", parent_id: id });
  const unit = level.data.parent;
  const year = Number(level.data.as_of.slice(0, 4));
  const [list, scoreRow] = await Promise.all([
    api.get("/assignments", { organization_id: id, page, page_size: PAGE_SIZE, sort: "due_date" }),
    scorecardLine(year, id),
  ]);

  const rows = list.data.map((a) => h("tr", { dataset: { assignment: a.id } },
    h("td", { "data-label": "Nhiệm vụ" }, h("a", { href: `#/assignments/${a.id}` }, `${a.action.ref} ${a.action.title}`)),
    h("td", { "data-label": "Hạn", class: "nowrap" }, date(a.due_date)),
    h("td", { "data-label": "Trạng thái" }, statusLabel(a.status, ctx.labels)),
    h("td", { "data-label": "Phân loại" }, classPill(a.classification, ctx.labels)),
    h("td", { "data-label": "Tiến độ", class: "num" }, `${a.progress}%`)));

  replace(main,
    h("p", { class: "crumbs" }, h("a", { href: "#/units" }, "Đơn vị"), " › ", unit.label),
    h("h1", {}, unit.label),
    h("section", { class: "panel", "aria-labelledby": "unit-classes" },
      h("h2", { id: "unit-classes" }, `Phân loại ${unit.total} nhiệm vụ (cả đơn vị trực thuộc), tính đến ${date(level.data.as_of)}`),
      h("div", { class: "overview-grid" },
        h("ul", { class: "class-cards" }, CLASSES.map((name) => h("li", { class: `class-card class-${name}`, dataset: { class: name } },
          h("span", { class: "count" }, String(unit.counts[name] || 0)), h("span", { class: "label" }, ctx.labels.classifications[name]?.vi || name)))),
        classChart(unit.counts, ctx.labels, `Phân loại nhiệm vụ của ${unit.label}`))),
    scoreRow ? h("section", { class: "panel", id: "scorecard", "aria-labelledby": "score-title" },
      h("h2", { id: "score-title" }, `Kết quả đánh giá năm ${year}`),
      h("dl", { class: "score" },
        item("Xếp hạng", scoreRow.rank ?? "—"), item("Được giao", scoreRow.assigned),
        item("Hoàn thành đúng hạn", scoreRow.completed_on_time), item("Hoàn thành quá hạn", scoreRow.completed_late),
        item("Đang thực hiện", scoreRow.in_progress), item("Quá hạn", scoreRow.overdue),
        item("Tỷ lệ đúng hạn", percent(scoreRow.on_time_rate)), item("Tỷ lệ có minh chứng", percent(scoreRow.evidence_rate)))) : null,
    level.data.rows.length ? h("section", { class: "panel", "aria-labelledby": "children-title" },
      h("h2", { id: "children-title" }, "Đơn vị trực thuộc"),
      h("ul", { class: "tree root" }, level.data.rows.map(node))) : null,
    h("section", { class: "panel", "aria-labelledby": "own-title" },
      h("h2", { id: "own-title" }, `Nhiệm vụ giao trực tiếp cho đơn vị (${list.pagination.total})`),
      rows.length ? table({ text: `Nhiệm vụ của ${unit.label}` }, ["Nhiệm vụ", "Hạn", "Trạng thái", "Phân loại", "Tiến độ"], rows, { class: "list", id: "unit-assignments" })
        : h("p", { class: "empty" }, "Đơn vị không có nhiệm vụ được giao trực tiếp."),
      pager(list.pagination, (next) => { location.hash = `#/units/${id}?page=${next}`; })));
}

function item(label, value) {
  return h("div", {}, h("dt", {}, label), h("dd", {}, String(value)));
}

async function scorecardLine(year, id) {
  for (let page = 1; ; page += 1) {
    const answer = await api.get("/reports/scorecard", { year, page, page_size: 200 });
    const row = answer.data.rows.find((r) => r.organization.id === id);
    if (row) return row;
    if (!answer.pagination || page >= answer.pagination.total_pages) return null;
  }
}
