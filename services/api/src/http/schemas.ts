import { z, type ZodTypeAny } from "zod";
import { API_ERROR_CODES, codesFor } from "../errors.js";

/** The one error body: `code` is the closed set of `STATUS_BY_CODE`, `message` is masked, `fields` name bad inputs. */
const ErrorResponse = z.object({
  error: z.object({
    code: z.enum(API_ERROR_CODES),
    message: z.string(),
    fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    requestId: z.string(),
  }),
});

/**
 * What each failure status means on any route; the document lists, per route, the statuses it can answer
 * and which codes each may carry.
 */
const MEANING: Readonly<Record<number, string>> = {
  400: "The request does not match this document (fields say which input), or its JSON is malformed",
  401: "No valid session: sign in with POST /api/auth/login",
  403: "The signed-in role may not do this",
  404: "No such resource",
  409: "Conflicts with the resource's state (claims, decisions, existing names)",
  413: "The body is larger than the server accepts (256 KiB)",
  415: "The body's content type is not application/json",
  429: "Too many requests: wait (Retry-After says how long where known)",
  503: "A dependency is not ready",
};

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 503;

/** Response schemas for the failure statuses a route can answer, each with its meaning and codes. */
export function errorResponses(...statuses: ErrorStatus[]): Record<number, ZodTypeAny> {
  const out: Record<number, ZodTypeAny> = {};
  for (const status of new Set(statuses)) {
    out[status] = ErrorResponse.describe(`${MEANING[status] ?? "Error"}. Codes: ${codesFor(status).join(", ")}.`);
  }
  return out;
}

/** Any signed-in route: 401 without a session. */
export const SIGNED_IN: ErrorStatus[] = [401];
/** A route limited to some roles. */
export const ROLE_LIMITED: ErrorStatus[] = [401, 403];
/** Anything that takes query, path or body input: 400 when it does not match the schema. */
export const WITH_INPUT: ErrorStatus[] = [400];
/**
 * A method that may carry a body (POST, PATCH, DELETE): fastify parses one when sent, so malformed JSON (400),
 * an oversized body (413) or another content type (415) are possible even where the route takes none.
 */
export const WITH_BODY: ErrorStatus[] = [400, 413, 415];

/** Timestamps in queries: RFC 3339 date-time (`2025-01-31T16:00:00Z`, `2025-02-01T00:00:00+08:00`). */
export const DateTimeParam = z
  .string()
  .datetime({ offset: true })
  .refine((s) => !Number.isNaN(Date.parse(s)), "not a calendar date");

/**
 * A case id as the intake makes them (`c_…`, `msg:<message id>`, `cmp:<campaign id>`): printable ASCII
 * without spaces, at most 128 characters.
 */
export const CaseIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces"),
});

/** Session ids are UUIDs (PostgreSQL gen_random_uuid). */
export const SessionId = z.string().uuid();
