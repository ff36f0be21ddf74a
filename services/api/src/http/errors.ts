import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import FindMyWay, { type HTTPMethod } from "find-my-way";
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from "fastify-type-provider-zod";
import { ZodError } from "zod";
import { maskText } from "@spam/privacy";
import { ApiError, STATUS_BY_CODE, type ApiErrorCode, type FieldIssue } from "../errors.js";

export interface ErrorBody {
  error: { code: ApiErrorCode; message: string; fields?: FieldIssue[]; requestId: string };
}

/** The one place where failures become HTTP statuses; clients never see stacks or internal messages. */
export function toErrorBody(error: unknown, requestId: string): { status: number; body: ErrorBody } {
  // Messages quote what was asked for (ids, query values): numbers in them are masked like everywhere else.
  const make = (code: ApiErrorCode, message: string, fields?: FieldIssue[]) => ({
    status: STATUS_BY_CODE[code],
    body: {
      error: {
        code,
        message: maskText(message),
        ...(fields && fields.length > 0 ? { fields: fields.map((f) => ({ path: maskText(f.path), message: maskText(f.message) })) } : {}),
        requestId,
      },
    },
  });
  if (error instanceof ApiError) return make(error.code, error.message, [...error.fields]);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const fields = error.validation.map((v) => ({
      path: [error.validationContext, ...v.params.issue.path].filter((p) => p !== undefined).join("."),
      message: v.params.issue.message,
    }));
    return make("bad_request", "invalid input", fields);
  }
  if (error instanceof ZodError) {
    return make(
      "bad_request",
      "invalid input",
      error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
    );
  }
  if (isResponseSerializationError(error)) return make("internal", "internal error");
  // Input zod lets through but PostgreSQL refuses: text with NUL (22021), integers beyond bigint such as
  // ?offset=9223372036854776000 (22003). Bad input, not a server fault (found by fuzz-http).
  const pgCode = (error as { code?: unknown } | null)?.code;
  if (pgCode === "22021") return make("bad_request", "text contains a character that cannot be stored (NUL)");
  if (pgCode === "22003") return make("bad_request", "a number is out of range");
  const fe = error as Partial<FastifyError>;
  if (fe.statusCode === 429) return make("rate_limited", "too many requests, try again later");
  // Fastify's own client errors (bad JSON, wrong content type, body too large, bad URL): their messages are
  // safe; each becomes a code of the closed set.
  if (fe.code === "FST_ERR_CTP_BODY_TOO_LARGE" || fe.statusCode === 413) return make("payload_too_large", fe.message ?? "body too large");
  if (fe.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE" || fe.statusCode === 415) return make("unsupported_media_type", fe.message ?? "unsupported media type");
  if (fe.code === "FST_ERR_MAX_PARAM_LENGTH") return make("bad_request", "a path segment is longer than any valid value");
  if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) return make("bad_request", fe.message ?? "bad request");
  return make("internal", "internal error");
}

/**
 * Which methods each path offers, for 405 answers: a second router over the same route table (find-my-way is
 * fastify's own router, so both match a URL the same way).
 */
function methodTable(app: FastifyInstance): (url: string) => string[] {
  const router = FindMyWay({ maxParamLength: MAX_PARAM_LENGTH });
  const methods = new Set<string>();
  app.addHook("onRoute", (route) => {
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) {
      methods.add(m);
      try {
        router.on(m as HTTPMethod, route.url, () => undefined);
      } catch {
        // Registered twice (HEAD beside GET): once is enough for the table.
      }
    }
  });
  return (url) => [...methods].filter((m) => router.find(m as HTTPMethod, url) !== null).sort();
}

/** Path parameters up to this many URL characters reach validation (64 four-byte characters, percent-encoded). */
export const MAX_PARAM_LENGTH = 1024;

/** Errors fastify raises before routing (bad URL encoding, a path parameter too long): the same closed body. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toErrorBody(error, request.id);
  // Raised before the hooks run, so helmet has not set headers: the ones a JSON error needs.
  void reply
    .status(status)
    .headers({ "content-security-policy": "default-src 'none'; frame-ancestors 'none'", "x-content-type-options": "nosniff", "cache-control": "no-store" })
    .send(body);
}

export function installErrorHandling(app: FastifyInstance): void {
  const allowed = methodTable(app);
  /** No route for this method and path: 405 with Allow when the path offers other methods, else 404. */
  const unrouted = (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split("?")[0] ?? "/";
    const methods = allowed(path);
    const error =
      methods.length > 0
        ? new ApiError("method_not_allowed", `${request.method} is not offered here; allowed: ${methods.join(", ")}`)
        : new ApiError("not_found", `no route ${request.method} ${path}`);
    const { status, body } = toErrorBody(error, request.id);
    if (methods.length > 0) void reply.header("allow", methods.join(", "));
    void reply.status(status).send(body);
  };
  app.setErrorHandler((error, request, reply) => {
    // A method fastify reads a body for (QUERY, …) fails on that body before the not-found handler runs.
    if (request.is404) return unrouted(request, reply);
    const { status, body } = toErrorBody(error, request.id);
    if (status >= 500) request.log.error({ err: error }, "request failed");
    else request.log.info({ code: body.error.code, status }, "request rejected");
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler(unrouted);
}
