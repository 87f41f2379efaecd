// The five classes as an SVG bar chart, drawn here (no chart library): one bar per class, its
// length proportional to the count, with the count and the label written beside it.

import { h } from "./dom.js";

export const CLASSES = ["completed_on_time", "completed_late", "in_progress_on_time", "overdue", "no_deadline"];

export function classChart(counts, labels, title) {
  const max = Math.max(1, ...CLASSES.map((name) => counts[name] || 0));
  const rowHeight = 34;
  const labelWidth = 0; // labels sit above the bars so that a phone screen has room
  const width = 320;
  const height = CLASSES.length * (rowHeight + 14) + 4;
  const svg = h("svg", {
    viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-labelledby": "chart-title",
    preserveAspectRatio: "xMinYMin meet",
  }, h("title", { id: "chart-title" }, title));
  CLASSES.forEach((name, index) => {
    const count = counts[name] || 0;
    const y = index * (rowHeight + 14);
    const barWidth = Math.max(count ? 2 : 0, Math.round(((width - 50 - labelWidth) * count) / max));
    svg.append(
      h("text", { x: 0, y: y + 13, class: "chart-label" }, labels.classifications[name]?.vi || name),
      h("rect", { x: 0, y: y + 18, width: barWidth, height: rowHeight - 16, rx: 3, class: `bar class-${name}` }),
      h("text", { x: barWidth + 6, y: y + 31, class: "chart-count" }, String(count)),
    );
  });
  return svg;
}
