// One assignment: details, history, evidence (previews through signed links), and the actions the
// user may take. Which moves are offered comes from the API (`allowed_transitions`,
// `editable_fields`, `pending_extension`), never from rules written here; the API has the last word.

import * as api from "../api.js";
import { bytes, classPill, date, dateTime, errorText, field, flash, h, replace, statusLabel } from "../dom.js";

// How each move reads on its button; whether it is offered is the API's answer.
const MOVES = {
  in_progress: "Bắt đầu / tiếp tục thực hiện",
  submitted: "Báo cáo hoàn thành",
  completed: "Duyệt hoàn thành",
  returned: "Trả lại",
  blocked: "Báo vướng mắc",
  cancelled: "Hủy nhiệm vụ",
  not_started: "Đưa về chưa triển khai",
};
// The API requires a reason for these (documented in the Transition schema).
const NEEDS_NOTE = new Set(["returned", "blocked", "cancelled"]);

export async function renderAssignment(main, ctx) {
  const id = ctx.id;
  const [answer, history, evidence, extensions] = await Promise.all([
    api.get(`/assignments/${id}`),
    api.get(`/assignments/${id}/history`, { page_size: 100 }),
    api.get(`/assignments/${id}/evidence`, { page_size: 100 }),
    api.get(`/assignments/${id}/extensions`, { page_size: 50 }),
  ]);
  const a = answer.data;
  const etag = answer.etag;
  const reload = () => renderAssignment(main, ctx);

  replace(main,
    h("p", { class: "crumbs" }, h("a", { href: `#/units/${a.organization.id}` }, a.organization.name), " › ", a.action.ref),
    h("h1", {}, `${a.action.ref} ${a.action.title}`),
    details(a, ctx),
    actions(a, etag, ctx, reload),
    evidenceSection(a, evidence.data, reload),
    extensionSection(extensions.data),
    historySection(history.data, ctx));
  await previews(main);
}

function details(a, ctx) {
  const rows = [
    ["Đơn vị", a.organization.name],
    ["Vai trò", ctx.labels.roles[a.role]?.vi || a.role],
    ["Người phụ trách", a.owner ? `${a.owner.full_name}${a.owner.phone ? ` · ${a.owner.phone}` : ""}` : "Chưa giao"],
    ["Trạng thái", h("span", { id: "status" }, statusLabel(a.status, ctx.labels))],
    ["Phân loại", classPill(a.classification, ctx.labels)],
    ["Thời hạn", a.due_date ? `${date(a.due_date)}${a.extended ? ` (hạn ban đầu ${date(a.original_due_date)})` : ""}` : (a.due_text || "Không thời hạn")],
    a.days_overdue ? ["Số ngày quá hạn", String(a.days_overdue)] : null,
    ["Tiến độ", h("span", { id: "progress" }, `${a.progress}%`)],
    ["Giao ngày", date(a.assigned_on)],
    a.submitted_on ? ["Báo cáo hoàn thành ngày", date(a.submitted_on)] : null,
    a.completed_on ? ["Hoàn thành ngày", date(a.completed_on)] : null,
    a.note ? ["Ghi chú", a.note] : null,
    a.last_return_reason ? ["Lý do trả lại gần nhất", a.last_return_reason] : null,
    a.pending_extension ? ["Đang xin gia hạn", `đến ${date(a.pending_extension.new_due_date)}: ${a.pending_extension.reason}`] : null,
    ["Số lần đôn đốc", String(a.urge_count)],
  ].filter(Boolean);
  return h("section", { class: "panel", "aria-labelledby": "details-title" },
    h("h2", { id: "details-title" }, "Thông tin nhiệm vụ"),
    h("dl", { class: "details" }, rows.map(([label, value]) => h("div", {}, h("dt", {}, label), h("dd", {}, value)))));
}

async function guarded(button, work, done) {
  button.disabled = true;
  try {
    const message = await work();
    flash(message);
    await done();
  } catch (error) {
    flash(errorText(error), "error");
    button.disabled = false;
  }
}

function actions(a, etag, ctx, reload) {
  const parts = [];
  const noteBox = h("div", { class: "note-box", hidden: true });

  const move = (to, note) => api.request(`/assignments/${a.id}/transitions`, {
    method: "POST", json: note ? { to, note } : { to }, headers: { "If-Match": etag },
  });

  if (a.allowed_transitions.length) {
    parts.push(h("div", { class: "moves", role: "group", "aria-label": "Chuyển trạng thái" },
      a.allowed_transitions.map((to) => h("button", {
        type: "button", class: to === "returned" || to === "cancelled" ? "danger" : "", dataset: { to },
        onclick: (event) => {
          if (!NEEDS_NOTE.has(to)) {
            guarded(event.currentTarget, async () => { await move(to); return `Đã chuyển sang "${statusLabel(to, ctx.labels)}".`; }, reload);
            return;
          }
          const reason = h("textarea", { id: "move-note", rows: 3, required: true, maxlength: 4000 });
          const confirm = h("button", { type: "submit" }, `Xác nhận: ${MOVES[to]}`);
          const form = h("form", { novalidate: true, onsubmit: (submit) => {
            submit.preventDefault();
            if (!reason.value.trim()) {
              flash("Cần nêu lý do.", "error");
              reason.focus();
              return;
            }
            guarded(confirm, async () => { await move(to, reason.value.trim()); return `Đã chuyển sang "${statusLabel(to, ctx.labels)}".`; }, reload);
          } }, field(`Lý do (${MOVES[to].toLowerCase()})`, reason), confirm,
          h("button", { type: "button", class: "secondary", onclick: () => { noteBox.hidden = true; } }, "Thôi"));
          replace(noteBox, form);
          noteBox.hidden = false;
          reason.focus();
        },
      }, MOVES[to] || statusLabel(to, ctx.labels)))), noteBox);
  }

  if (a.pending_extension && a.editable_fields.includes("due_date")) {
    const ext = a.pending_extension;
    const reason = h("textarea", { id: "refuse-note", rows: 2, maxlength: 4000 });
    const decide = (decision, note) => api.post(`/assignments/${a.id}/extensions/${ext.id}/decision`, note ? { decision, note } : { decision });
    parts.push(h("div", { class: "decision", id: "extension-decision" },
      h("h3", {}, `Đề nghị gia hạn đến ${date(ext.new_due_date)}`), h("p", {}, `Lý do: ${ext.reason}`),
      h("button", { type: "button", onclick: (event) => guarded(event.currentTarget, async () => { await decide("grant"); return "Đã đồng ý gia hạn."; }, reload) }, "Đồng ý gia hạn"),
      field("Lý do không đồng ý", reason),
      h("button", { type: "button", class: "danger", onclick: (event) => {
        if (!reason.value.trim()) { flash("Cần nêu lý do không đồng ý.", "error"); reason.focus(); return; }
        guarded(event.currentTarget, async () => { await decide("refuse", reason.value.trim()); return "Đã không đồng ý gia hạn."; }, reload);
      } }, "Không đồng ý")));
  }

  if (a.classification === "overdue" && a.editable_fields.includes("owner_id")) {
    const message = h("textarea", { id: "urge-message", rows: 2, maxlength: 2000, placeholder: "Để trống: lời nhắc thông thường" });
    parts.push(h("form", { class: "urge", onsubmit: (event) => {
      event.preventDefault();
      guarded(event.submitter || event.target.querySelector("button"), async () => {
        const result = await api.post("/assignments/urge", { assignment_ids: [a.id], message: message.value.trim() || undefined });
        const item = result.data.results?.[0];
        if (item && item.status && item.status >= 400) throw new api.ApiError(item.status, item);
        return "Đã gửi đôn đốc.";
      }, reload);
    } }, h("h3", {}, "Đôn đốc"), field("Lời nhắn tới đơn vị", message), h("button", { type: "submit" }, "Gửi đôn đốc")));
  }

  if (a.editable_fields.includes("progress")) {
    const progress = h("input", { id: "progress-input", type: "number", min: 0, max: 100, step: 1, value: a.progress, inputmode: "numeric" });
    const comment = h("input", { id: "progress-comment", maxlength: 2000 });
    parts.push(h("form", { class: "progress-form", onsubmit: (event) => {
      event.preventDefault();
      guarded(event.target.querySelector("button"), async () => {
        const json = { progress: Number(progress.value) };
        if (comment.value.trim()) json.comment = comment.value.trim();
        await api.request(`/assignments/${a.id}`, { method: "PATCH", json, headers: { "If-Match": etag } });
        return `Đã cập nhật tiến độ ${progress.value}%.`;
      }, reload);
    } }, h("h3", {}, "Cập nhật tiến độ"), field("Tiến độ (%)", progress), field("Ghi chú kèm theo", comment),
    h("button", { type: "submit" }, "Lưu tiến độ")));

    // Who may change the due date needs no extension; who reports progress asks for one.
    if (!a.pending_extension && a.allowed_transitions.length && !a.editable_fields.includes("due_date")) {
      const newDue = h("input", { id: "extension-date", type: "date", required: true });
      const why = h("textarea", { id: "extension-reason", rows: 2, required: true, minlength: 5, maxlength: 4000 });
      parts.push(h("form", { class: "extension-form", onsubmit: (event) => {
        event.preventDefault();
        guarded(event.target.querySelector("button"), async () => {
          await api.post(`/assignments/${a.id}/extensions`, { new_due_date: newDue.value, reason: why.value.trim() });
          return "Đã gửi đề nghị gia hạn.";
        }, reload);
      } }, h("h3", {}, "Xin gia hạn"), field("Đề nghị hạn mới", newDue), field("Lý do", why, "Ít nhất 5 ký tự."),
      h("button", { type: "submit" }, "Gửi đề nghị gia hạn")));
    }
  }

  return h("section", { class: "panel", id: "actions", "aria-labelledby": "actions-title" },
    h("h2", { id: "actions-title" }, "Xử lý"),
    parts.length ? parts : h("p", { class: "empty" }, "Bạn không có thao tác nào với nhiệm vụ này."));
}

function evidenceSection(a, items, reload) {
  const upload = a.editable_fields.length || a.allowed_transitions.length;
  const file = h("input", { id: "evidence-file", type: "file", name: "file", required: true });
  const description = h("input", { id: "evidence-description", name: "description", maxlength: 2000 });
  return h("section", { class: "panel", id: "evidence", "aria-labelledby": "evidence-title" },
    h("h2", { id: "evidence-title" }, `Minh chứng (${items.filter((e) => !e.withdrawn).length})`),
    items.length ? h("ul", { class: "evidence-list" }, items.map((e) => h("li", {
      class: e.withdrawn ? "withdrawn" : "", dataset: { evidence: e.id, media: e.media_type, preview: !e.withdrawn && e.content_available ? "yes" : "no" },
    }, h("div", { class: "evidence-meta" }, h("strong", {}, e.original_name),
      h("small", {}, `${bytes(e.size)} · ${e.uploaded_by?.full_name || ""} · ${dateTime(e.uploaded_at)}`),
      e.description ? h("p", {}, e.description) : null,
      e.withdrawn ? h("p", { class: "muted" }, `Đã rút: ${e.withdrawal_reason || ""}`) : null),
    h("div", { class: "evidence-preview" })))) : h("p", { class: "empty" }, "Chưa có minh chứng."),
    upload ? h("form", { class: "upload", onsubmit: (event) => {
      event.preventDefault();
      if (!file.files.length) { flash("Chọn tệp minh chứng.", "error"); file.focus(); return; }
      guarded(event.target.querySelector("button"), async () => {
        const body = new FormData();
        body.append("file", file.files[0]);
        if (description.value.trim()) body.append("description", description.value.trim());
        await api.request(`/assignments/${a.id}/evidence`, { method: "POST", body });
        return `Đã tải lên ${file.files[0].name}.`;
      }, reload);
    } }, h("h3", {}, "Tải lên minh chứng"), field("Tệp (PDF, Word, Excel, ảnh…)", file), field("Mô tả", description),
    h("button", { type: "submit" }, "Tải lên")) : null);
}

/** Previews through short-lived signed links: images inline, PDFs opened in a new tab. */
async function previews(main) {
  for (const li of main.querySelectorAll("li[data-evidence][data-preview=yes]")) {
    const box = li.querySelector(".evidence-preview");
    try {
      const link = (await api.get(`/evidence/${li.dataset.evidence}/link`)).data;
      const name = li.querySelector("strong").textContent;
      if (li.dataset.media.startsWith("image/")) {
        replace(box, h("a", { href: link.url, target: "_blank", rel: "noopener" }, h("img", { src: link.url, alt: `Ảnh minh chứng: ${name}`, loading: "lazy" })));
      } else if (link.disposition === "inline") {
        replace(box, h("a", { href: link.url, target: "_blank", rel: "noopener", class: "button secondary" }, "Xem tệp"));
      } else {
        replace(box, h("a", { href: link.url, class: "button secondary", download: name }, "Tải về"));
      }
    } catch (error) {
      replace(box, h("small", { class: "muted" }, errorText(error)));
    }
  }
}

function extensionSection(items) {
  if (!items.length) return null;
  const statusNames = { pending: "Chờ quyết định", granted: "Đồng ý", refused: "Không đồng ý", lapsed: "Hết hiệu lực" };
  return h("section", { class: "panel", "aria-labelledby": "ext-title" }, h("h2", { id: "ext-title" }, "Đề nghị gia hạn"),
    h("ul", { class: "timeline" }, items.map((x) => h("li", {},
      h("strong", {}, `${statusNames[x.status] || x.status}: từ ${date(x.previous_due_date)} đến ${date(x.new_due_date)}`),
      h("small", {}, `${x.requested_by?.full_name || ""} · ${dateTime(x.requested_at)}`), h("p", {}, x.reason),
      x.decision_note ? h("p", { class: "muted" }, `Ý kiến: ${x.decision_note}`) : null))));
}

const FACT_NAMES = { status: "trạng thái", progress: "tiến độ", due_date: "thời hạn", owner: "người phụ trách", note: "ghi chú",
  name: "tệp", organization: "đơn vị", role: "vai trò", cycle: "năm", assigned_on: "ngày giao" };
const HIDDEN_FACTS = new Set(["sha256", "evidence_id", "size", "owner_id"]);

function value(v, ctx) {
  if (v === null || v === undefined) return "";
  return Object.entries(v).filter(([k, x]) => !HIDDEN_FACTS.has(k) && !(k === "cycle" && !x)).map(([k, x]) => {
    let shown = x;
    if (k === "status") shown = statusLabel(x, ctx.labels);
    else if (k === "role") shown = ctx.labels.roles[x]?.vi || x;
    else if (k === "progress") shown = `${x}%`;
    else if (typeof x === "string" && /^\d{4}-\d{2}-\d{2}$/.test(x)) shown = date(x);
    return `${FACT_NAMES[k] || k}: ${shown ?? "—"}`;
  }).join(", ");
}

function historySection(events, ctx) {
  return h("section", { class: "panel", id: "history", "aria-labelledby": "history-title" },
    h("h2", { id: "history-title" }, "Lịch sử"),
    h("ol", { class: "timeline" }, events.map((e) => h("li", { dataset: { kind: e.kind } },
      h("strong", {}, ctx.labels.event_kinds[e.kind]?.vi || e.kind),
      h("small", {}, `${e.actor ? e.actor.full_name : "Hệ thống"} · ${dateTime(e.recorded_at)}${e.effective_on ? ` · hiệu lực ${date(e.effective_on)}` : ""}`),
      e.old_value || e.new_value ? h("p", { class: "change" }, [e.old_value ? `${value(e.old_value, ctx)} → ` : "", value(e.new_value, ctx)].join("")) : null,
      e.note ? h("p", {}, e.note) : null))));
}
