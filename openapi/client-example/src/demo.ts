/**
 * The example run through against a running server with the demo data (`npm run demo`): an officer
 * signs in, lists the overdue work, starts one, uploads evidence and submits it; a leader approves it.
 * It changes data: run it against a development database only.
 */
import {
  approveSubmission, createTrackerClient, getAssignment, listOverdue, signIn, transition, uploadEvidence,
} from "./client.js";

const baseUrl = process.env["TRACKER_URL"] ?? "http://127.0.0.1:5000";
const password = process.env["TRACKER_PASSWORD"] ?? "KimDong@2025";
const officer = process.env["TRACKER_OFFICER"] ?? "canbo.noivu";
const leader = process.env["TRACKER_LEADER"] ?? "lanhdao.huyen";

const anonymous = createTrackerClient(baseUrl);
const asOfficer = createTrackerClient(baseUrl, await signIn(anonymous, officer, password));

const page = await listOverdue(asOfficer, { page_size: 5 });
console.log(`${officer}: ${page.pagination?.total ?? "?"} overdue, first page of ${page.rows.length}` +
  (page.nextCursor === undefined ? "" : " (more after this page)"));
for (const row of page.rows) {
  console.log(`  #${row.id} ${row.action.ref} due ${row.due_date} (${row.days_overdue} days) ${row.status}`);
}

const open = page.rows.find((row) => row.status === "not_started" || row.status === "in_progress");
if (open === undefined) {
  throw new Error("No overdue assignment left to start on the first page");
}
const id = open.id;

let current = await getAssignment(asOfficer, id);
if (current.assignment.status === "not_started") {
  current = await transition(asOfficer, id, current.etag, { to: "in_progress" });
}
const report = new Blob(["Báo cáo kết quả thực hiện. Progress report.\n"], { type: "text/plain" });
const evidence = await uploadEvidence(asOfficer, id, report, "bao-cao.txt", "Báo cáo kết quả");
console.log(`evidence #${evidence.id} (${evidence.media_type}, ${evidence.size} bytes) on assignment #${id}`);
current = await transition(asOfficer, id, current.etag, { to: "submitted", progress: 100 });
console.log(`submitted: ${current.assignment.status}, ETag ${current.etag}`);

const asLeader = createTrackerClient(baseUrl, await signIn(anonymous, leader, password));
const approved = await approveSubmission(asLeader, id, "Đã duyệt. Approved.");
console.log(`${leader} approved: ${approved.assignment.status} on ${approved.assignment.completed_on}, ETag ${approved.etag}`);
