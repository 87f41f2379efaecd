// The signed-in user's notifications (urgings, submissions to approve, returns, approvals,
// extensions), newest first, marked read here; and which mails they want (Cài đặt thông báo).

import * as api from "../api.js";
import { dateTime, errorText, flash, h, pager, replace } from "../dom.js";

const PAGE_SIZE = 20;

export async function renderNotifications(main, ctx) {
  const page = Number(ctx.params.get("page") || 1);
  const [list, preferences] = await Promise.all([
    api.get("/me/notifications", { page, page_size: PAGE_SIZE }),
    api.get("/me/preferences"),
  ]);
  const unread = Number(list.headers.get("X-Unread-Count") || 0);

  const markAll = h("button", { type: "button", class: "secondary", disabled: unread === 0 || undefined, onclick: async () => {
    try {
      await api.post("/me/notifications/read", { all: true });
      flash("Đã đánh dấu tất cả là đã đọc.");
      ctx.reload();
    } catch (error) {
      flash(errorText(error), "error");
    }
  } }, "Đánh dấu tất cả đã đọc");

  const items = list.data.map((n) => h("li", { class: `notice${n.read_at ? "" : " unread"}`, dataset: { notification: n.id, kind: n.kind } },
    h("div", { class: "notice-head" },
      h("strong", {}, n.title),
      h("small", { class: "muted" }, ` · ${dateTime(n.created_at)}${n.actor ? ` · ${n.actor.full_name}` : ""}`)),
    h("p", { class: "notice-body" }, n.body),
    h("div", { class: "notice-actions" },
      n.assignment_id ? h("a", { href: `#/assignments/${n.assignment_id}` }, "Xem nhiệm vụ") : null,
      n.read_at ? null : h("button", { type: "button", class: "link", onclick: async () => {
        try {
          await api.post("/me/notifications/read", { ids: [n.id] });
          ctx.reload();
        } catch (error) {
          flash(errorText(error), "error");
        }
      } }, "Đã đọc"))));

  replace(main,
    h("h1", {}, "Thông báo"),
    h("p", { class: "lead" }, h("span", { id: "unread-count" }, String(unread)), " thông báo chưa đọc. ", markAll),
    items.length ? h("ul", { class: "notices", id: "notices" }, items) : h("p", { class: "empty" }, "Chưa có thông báo nào."),
    pager(list.pagination, (next) => { location.hash = `#/notifications?page=${next}`; }),
    mailSettings(preferences.data));
}

function mailSettings(data) {
  const boxes = Object.entries(data.labels).map(([kind, label]) => {
    const box = h("input", { type: "checkbox", id: `mail-${kind}`, name: kind, checked: data.email_preferences[kind] || undefined });
    return h("div", { class: "check" }, box, h("label", { for: box.id }, label.vi));
  });
  const form = h("form", { class: "panel", id: "mail-settings", "aria-labelledby": "mail-title", onsubmit: async (event) => {
    event.preventDefault();
    const chosen = Object.fromEntries([...form.querySelectorAll("input[type=checkbox]")].map((box) => [box.name, box.checked]));
    try {
      await api.request("/me/preferences", { method: "PATCH", json: { email_preferences: chosen } });
      flash("Đã lưu cài đặt thông báo.");
    } catch (error) {
      flash(errorText(error), "error");
    }
  } },
  h("h2", { id: "mail-title" }, "Cài đặt thông báo qua thư điện tử"),
  h("p", {}, data.email ? `Thư gửi đến ${data.email}.` : "Chưa có địa chỉ thư điện tử: đề nghị quản trị cập nhật.",
    data.mail_configured ? "" : " Máy chủ hiện chưa gửi thư (chưa cấu hình SMTP)."),
  boxes,
  h("button", { type: "submit" }, "Lưu"));
  return form;
}
