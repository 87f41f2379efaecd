// The dashboard's entry: sign-in, the header (who is signed in), and hash routing to the views.

import * as api from "./api.js";
import { errorText, field, flash, h, replace } from "./dom.js";
import { renderOverview } from "./views/overview.js";
import { renderOverdue } from "./views/overdue.js";
import { renderUnits, renderUnit } from "./views/units.js";
import { renderAssignment } from "./views/assignment.js";
import { renderWork } from "./views/work.js";
import { renderNotifications } from "./views/notifications.js";

const main = document.getElementById("main");
const context = { me: null, labels: null };
let visits = 0; // navigations started, so that a slow page never covers a later one

const ROLE_NAMES = { leader: "Lãnh đạo", officer: "Cán bộ", viewer: "Giám sát" };

function rolesOf(me) {
  const roles = new Set(me.user.memberships.map((m) => m.role));
  return {
    admin: me.scope.all,
    leader: me.scope.all || roles.has("leader"),
    officer: roles.has("officer"),
  };
}

const ROUTES = [
  [/^#\/overview$/, () => renderOverview],
  [/^#\/overdue$/, () => renderOverdue],
  [/^#\/units$/, () => renderUnits],
  [/^#\/units\/(\d+)$/, () => renderUnit],
  [/^#\/assignments\/(\d+)$/, () => renderAssignment],
  [/^#\/work$/, () => renderWork],
  [/^#\/notifications$/, () => renderNotifications],
];

function homeRoute() {
  return context.roles.officer && !context.roles.leader ? "#/work" : "#/overview";
}

function navItems() {
  const items = [];
  if (context.roles.officer) items.push(["#/work", "Việc của đơn vị"]);
  items.push(["#/overview", "Tổng quan"], ["#/overdue", "Quá hạn"], ["#/units", "Đơn vị"], ["#/notifications", "Thông báo"]);
  return items;
}

function renderNav() {
  const nav = document.getElementById("nav");
  const current = location.hash.split("?")[0];
  replace(nav, h("ul", {}, navItems().map(([href, text]) => h("li", {},
    h("a", { href, "aria-current": current === href || current.startsWith(`${href}/`) ? "page" : undefined }, text)))));
  nav.hidden = false;
}

function renderWho() {
  const { user } = context.me;
  const memberships = user.memberships.map((m) => `${ROLE_NAMES[m.role] || m.role} · ${m.organization_name}`);
  const unit = context.roles.admin && !memberships.length ? "Quản trị hệ thống" : memberships.join("; ");
  replace(document.getElementById("who-text"), h("strong", {}, user.full_name), h("span", { class: "unit" }, unit));
  document.getElementById("who").hidden = false;
}

async function route() {
  if (!context.me) return;
  if (!location.hash || location.hash === "#" || location.hash === "#/") {
    location.replace(homeRoute());
    return;
  }
  renderNav();
  const path = location.hash.split("?")[0];
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const visit = ++visits;
  for (const [pattern, view] of ROUTES) {
    const match = pattern.exec(path);
    if (match) {
      replace(main, h("p", { class: "loading" }, "Đang tải…"));
      // Each view draws into its own box, shown only if no later navigation has started meanwhile.
      const box = h("div", { class: "view" });
      try {
        await view()(box, { ...context, id: match[1] ? Number(match[1]) : null, params, reload: route });
      } catch (error) {
        if (error.status === 401) return;
        replace(box, h("div", { class: "panel error", role: "alert" },
          h("h1", {}, error.status === 404 ? "Không tìm thấy" : "Không tải được trang"), h("p", {}, errorText(error))));
      }
      if (visit === visits) replace(main, box);
      return;
    }
  }
  replace(main, h("h1", {}, "Không tìm thấy trang"), h("p", {}, h("a", { href: homeRoute() }, "Về trang chính")));
}

function showLogin(message) {
  context.me = null;
  document.getElementById("nav").hidden = true;
  document.getElementById("who").hidden = true;
  const username = h("input", { id: "username", name: "username", autocomplete: "username", required: true });
  const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "form-error", role: "alert" }, message || "");
  const form = h("form", { class: "panel login", novalidate: true }, h("h1", {}, "Đăng nhập"),
    h("p", {}, "Bảng điều hành theo dõi thực hiện Kế hoạch triển khai Nghị quyết 57-NQ/TW."),
    field("Tên đăng nhập", username), field("Mật khẩu", password), error,
    h("button", { type: "submit" }, "Đăng nhập"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!username.value.trim() || !password.value) {
      error.textContent = "Nhập tên đăng nhập và mật khẩu.";
      return;
    }
    form.querySelector("button").disabled = true;
    try {
      await api.login(username.value.trim(), password.value);
      await start();
    } catch (failure) {
      error.textContent = errorText(failure);
      form.querySelector("button").disabled = false;
      password.focus();
    }
  });
  replace(main, form);
  username.focus();
}

async function start() {
  const [me, labels] = await Promise.all([api.get("/auth/me"), context.labels ? { data: context.labels } : api.get("/meta/labels")]);
  context.me = me.data;
  context.labels = labels.data;
  context.roles = rolesOf(context.me);
  renderWho();
  if (!location.hash || location.hash === "#" || location.hash === "#/") {
    location.replace(homeRoute()); // the hashchange that follows routes
    return;
  }
  await route();
}

api.whenSignedOut(() => showLogin("Phiên làm việc đã kết thúc, vui lòng đăng nhập lại."));

document.getElementById("logout").addEventListener("click", async () => {
  await api.logout();
  flash("Đã đăng xuất.");
  history.replaceState(null, "", location.pathname);
  showLogin();
});

window.addEventListener("hashchange", () => {
  route().then(() => main.focus({ preventScroll: true }));
});

(async () => {
  if (await api.resume()) {
    try {
      await start();
      return;
    } catch (error) {
      if (error.status === 401) return; // whenSignedOut has shown the sign-in form
      flash(errorText(error), "error");
    }
  }
  showLogin();
})();
