import type { FastifyError, FastifyInstance } from "fastify";
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
  if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Fastify's own client errors (bad JSON, wrong content type, body too large): their messages are safe.
    return { status: fe.statusCode, body: { error: { code: "bad_request", message: maskText(fe.message ?? "bad request"), requestId } } };
  }
  return make("internal", "internal error");
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toErrorBody(error, request.id);
    if (status >= 500) request.log.error({ err: error }, "request failed");
    else request.log.info({ code: body.error.code, status }, "request rejected");
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: "not_found", message: maskText(`no route ${request.method} ${request.url.split("?")[0]}`), requestId: request.id } });
  });
}
