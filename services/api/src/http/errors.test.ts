import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ApiError } from "../errors.js";
import { toErrorBody } from "./errors.js";

describe("error mapping", () => {
  it("maps codes to statuses in one place", () => {
    expect(toErrorBody(new ApiError("already_claimed", "taken"), "r1")).toEqual({
      status: 409,
      body: { error: { code: "already_claimed", message: "taken", requestId: "r1" } },
    });
    expect(toErrorBody(new ApiError("forbidden", "no"), "r").status).toBe(403);
  });

  it("turns zod errors thrown in handlers into 400 with fields", () => {
    const err = z.object({ a: z.number() }).safeParse({ a: "x" }).error;
    const { status, body } = toErrorBody(err, "r");
    expect(status).toBe(400);
    expect(body.error.fields).toEqual([{ path: "a", message: "Expected number, received string" }]);
  });

  it("never exposes internal messages or stacks", () => {
    const secret = new Error("connect ECONNREFUSED 127.0.0.1:15432 password=spam");
    const { status, body } = toErrorBody(secret, "r9");
    expect(status).toBe(500);
    expect(JSON.stringify(body)).toBe('{"error":{"code":"internal","message":"internal error","requestId":"r9"}}');
  });

  it("answers text PostgreSQL cannot store (NUL) with 400, not 500", () => {
    const pgError = Object.assign(new Error("invalid byte sequence for encoding \"UTF8\": 0x00"), { code: "22021", severity: "ERROR" });
    const { status, body } = toErrorBody(pgError, "r");
    expect(status).toBe(400);
    expect(body.error.code).toBe("bad_request");
    expect(toErrorBody(Object.assign(new Error("bigint out of range"), { code: "22003" }), "r").status).toBe(400);
    expect(toErrorBody(Object.assign(new Error("deadlock"), { code: "40P01" }), "r").status).toBe(500);
  });

  it("keeps fastify's own client errors (bad JSON, body too large) as 4xx", () => {
    const e = Object.assign(new Error("Request body is too large"), { statusCode: 413 });
    expect(toErrorBody(e, "r").status).toBe(413);
    expect(toErrorBody(Object.assign(new Error("x"), { statusCode: 429 }), "r").body.error.code).toBe("rate_limited");
  });
});
