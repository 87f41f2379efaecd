/**
 * A small typed client of the tracker API. Every path, parameter, body and answer is typed from
 * schema.d.ts, which `npm run generate` makes from ../openapi.json: when the document changes in a
 * way that breaks a caller, `tsc --noEmit` fails here.
 */
import createClient, { type Client } from "openapi-fetch";

import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
export type Assignment = Schemas["Assignment"];
export type Evidence = Schemas["Evidence"];
export type Pagination = Schemas["PaginationMetadata"];
export type Problem = Schemas["Problem"];
export type ReportRow = Schemas["ReportRow"];
export type Transition = Schemas["Transition"];
export type OverdueQuery = NonNullable<paths["/api/v1/reports/overdue"]["get"]["parameters"]["query"]>;

/** JSON answers (application/json) and errors (application/problem+json); not the CSV or XLSX exports. */
type JsonMedia = `application/${string}json`;
export type TrackerClient = Client<paths, JsonMedia>;

/** A 4xx or 5xx answer, with its problem+json body when the API sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | undefined;

  constructor(response: Response, problem: Problem | undefined) {
    super(`${response.status}: ${problem?.detail ?? response.statusText}`);
    this.name = "ApiError";
    this.status = response.status;
    this.problem = problem;
  }
}

/** `baseUrl` is the server's root (e.g. http://127.0.0.1:5000): the paths start with /api/v1. */
export function createTrackerClient(baseUrl: string, accessToken?: string): TrackerClient {
  const headers: Record<string, string> = accessToken === undefined ? {} : { Authorization: `Bearer ${accessToken}` };
  return createClient<paths, JsonMedia>({ baseUrl, headers });
}

/** Sign in; the access token goes in `Authorization: Bearer ...` (see createTrackerClient). */
export async function signIn(client: TrackerClient, username: string, password: string): Promise<string> {
  const { data, error, response } = await client.POST("/api/v1/auth/login", { body: { username, password } });
  if (data === undefined) {
    throw new ApiError(response, error);
  }
  if (data.access_token === undefined) {
    throw new Error("The sign-in answer has no access_token");
  }
  return data.access_token;
}

export interface OverduePage {
  rows: ReportRow[];
  /** From the X-Pagination header: total, pages, page numbers. */
  pagination: Pagination | undefined;
  /** From the X-Next-Cursor header: pass it back as `cursor` for the next page; absent on the last one. */
  nextCursor: string | undefined;
}

/** One page of the overdue report (JSON), most overdue first, in the caller's scope. */
export async function listOverdue(client: TrackerClient, query: Omit<OverdueQuery, "format"> = {}): Promise<OverduePage> {
  const { data, error, response } = await client.GET("/api/v1/reports/overdue", {
    params: { query: { ...query, format: "json" } },
  });
  if (data === undefined) {
    throw new ApiError(response, error);
  }
  return {
    rows: data,
    pagination: parsePagination(response.headers.get("X-Pagination")),
    nextCursor: response.headers.get("X-Next-Cursor") ?? undefined,
  };
}

const PAGINATION_FIELDS = [
  "total", "total_pages", "first_page", "last_page", "page", "previous_page", "next_page",
] as const satisfies readonly (keyof Pagination)[];

/** X-Pagination is a JSON object sent as the header's text: parse it and keep the documented numbers. */
export function parsePagination(header: string | null): Pagination | undefined {
  if (header === null) {
    return undefined;
  }
  const parsed: unknown = JSON.parse(header);
  if (typeof parsed !== "object" || parsed === null) {
    throw new Error(`X-Pagination is not a JSON object: ${header}`);
  }
  const sent = new Map<string, unknown>(Object.entries(parsed));
  const total = sent.get("total");
  const totalPages = sent.get("total_pages");
  if (typeof total !== "number" || typeof totalPages !== "number") {
    throw new Error(`X-Pagination lacks total or total_pages: ${header}`);
  }
  const pagination: Pagination = { total, total_pages: totalPages };
  for (const field of PAGINATION_FIELDS) {
    const value = sent.get(field);
    if (typeof value === "number") {
      pagination[field] = value;
    }
  }
  const cursor = sent.get("next_cursor");
  if (typeof cursor === "string") {
    pagination.next_cursor = cursor;
  }
  return pagination;
}

/**
 * Upload one file as evidence of an assignment (multipart/form-data: `file`, optional `description`).
 * The API checks the content against the name's extension, so give a real name (e.g. "bao-cao.pdf").
 */
export async function uploadEvidence(
  client: TrackerClient, assignmentId: number, file: Blob, fileName: string, description?: string,
): Promise<Evidence> {
  const { data, error, response } = await client.POST("/api/v1/assignments/{assignment_id}/evidence", {
    params: { path: { assignment_id: assignmentId } },
    body: description === undefined ? { file } : { file, description },
    bodySerializer(body) {
      const form = new FormData();
      form.append("file", body.file, fileName);
      if (body.description !== undefined) {
        form.append("description", body.description);
      }
      return form;
    },
  });
  if (data === undefined) {
    throw new ApiError(response, error);
  }
  return data;
}

/** An assignment with the ETag of the version read: send it back in If-Match when changing it. */
export interface Versioned {
  assignment: Assignment;
  etag: string;
}

export async function getAssignment(client: TrackerClient, assignmentId: number): Promise<Versioned> {
  const { data, error, response } = await client.GET("/api/v1/assignments/{assignment_id}", {
    params: { path: { assignment_id: assignmentId } },
  });
  if (data === undefined) {
    throw new ApiError(response, error);
  }
  return { assignment: data, etag: requireEtag(response) };
}

/**
 * Move an assignment (start, submit, approve, return, ...) from the version last read: a 412 means
 * someone changed it meanwhile; read it again and decide again.
 */
export async function transition(client: TrackerClient, assignmentId: number, etag: string, move: Transition): Promise<Versioned> {
  const { data, error, response } = await client.POST("/api/v1/assignments/{assignment_id}/transitions", {
    params: { path: { assignment_id: assignmentId } },
    // Not `params.header`: the document does not declare If-Match on this operation (it is optional here).
    headers: { "If-Match": etag },
    body: move,
  });
  if (data === undefined) {
    throw new ApiError(response, error);
  }
  return { assignment: data, etag: requireEtag(response) };
}

/** Approve a submission: the leader's `submitted` -> `completed`, guarded by the ETag just read. */
export async function approveSubmission(client: TrackerClient, assignmentId: number, note?: string): Promise<Versioned> {
  const current = await getAssignment(client, assignmentId);
  if (current.assignment.status !== "submitted") {
    throw new Error(`Assignment ${assignmentId} is ${current.assignment.status ?? "?"}, not submitted`);
  }
  return transition(client, assignmentId, current.etag, note === undefined ? { to: "completed" } : { to: "completed", note });
}

function requireEtag(response: Response): string {
  const etag = response.headers.get("ETag");
  if (etag === null) {
    throw new Error(`${response.url} answered without an ETag`);
  }
  return etag;
}
