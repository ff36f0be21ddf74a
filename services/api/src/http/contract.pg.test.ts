import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { UserStore } from "../auth/users.js";
import { migratePg } from "../db/migrate.js";
import { createPool } from "../db/pool.js";
import { STATUS_BY_CODE } from "../errors.js";
import { createTestDatabase } from "../testing/postgres.js";
import { testAppDeps } from "../testing/app.js";
import { buildApp } from "./app.js";

// The API answers as its OpenAPI document says (issue 19, "The API's contract"); schemathesis checks the same
// from outside in test/contract/schemathesis.test.ts.
const logger = pino({ level: "silent" });
const PW = "correct-horse-battery";
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: ReturnType<typeof createPool>;
let app: FastifyInstance;
const tokens: Record<string, string> = {};
const as = (who: string) => ({ authorization: `Bearer ${tokens[who]}` });

type Doc = {
  paths: Record<string, Record<string, { security?: unknown[]; parameters?: { name: string; in: string; schema: Record<string, unknown> }[]; requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }; responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> }>>;
};
let doc: Doc;

beforeAll(async () => {
  db = await createTestDatabase("contract");
  pool = createPool(db.url, 5);
  await migratePg(pool, logger);
  const users = new UserStore(pool, 3_600_000);
  await users.createUser({ username: "admin", role: "admin", password: PW });
  await users.createUser({ username: "ana", role: "analyst", password: PW });
  app = await buildApp(testAppDeps(pool, users, { loginPerMinute: 100 }));
  for (const u of ["admin", "ana"]) {
    const res = await app.inject({ method: "POST", url: "/api/auth/login", payload: { username: u, password: PW } });
    tokens[u] = res.json().token;
  }
  doc = (await app.inject({ url: "/openapi.json", headers: as("admin") })).json();
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await db?.drop();
});

const op = (path: string, method: string) => {
  const o = doc.paths[path]?.[method];
  if (!o) throw new Error(`no ${method} ${path} in the document`);
  return o;
};
const param = (path: string, method: string, name: string) => op(path, method).parameters?.find((p) => p.name === name)?.schema ?? {};

describe("the OpenAPI document: happy", () => {
  it("gives formats and bounds: date-time windows, case id pattern and length, session ids, enums", () => {
    for (const path of ["/api/analytics/spam-volume", "/api/analytics/reports", "/api/export/fraud-cases.csv"]) {
      expect(param(path, "get", "from")).toMatchObject({ type: "string", format: "date-time" });
      expect(param(path, "get", "to")).toMatchObject({ type: "string", format: "date-time" });
    }
    expect(param("/api/cases/{id}", "get", "id")).toMatchObject({ maxLength: 128, minLength: 1, pattern: expect.any(String) });
    expect(param("/api/sessions/{id}", "delete", "id")).toMatchObject({ format: "uuid" });
    expect(param("/api/analytics/top-reported", "get", "kind")).toMatchObject({ enum: ["sender", "domain", "campaign"] });
    expect(param("/api/queue", "get", "maxAgeHours")).toHaveProperty("maximum");
  });

  it("lists every failure status with the closed error body, and extras are refused where bodies are strict", () => {
    const codes = Object.keys(STATUS_BY_CODE);
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, o] of Object.entries(methods)) {
        const anonymous = Array.isArray(o.security) && o.security.length === 0;
        if (!anonymous) expect(Object.keys(o.responses), `${method} ${path}`).toContain("401");
        if (o.parameters?.length || o.requestBody) expect(Object.keys(o.responses), `${method} ${path}`).toContain("400");
        if (o.requestBody || ["post", "patch", "delete"].includes(method)) expect(Object.keys(o.responses), `${method} ${path}`).toEqual(expect.arrayContaining(["413", "415"]));
        for (const [status, r] of Object.entries(o.responses)) {
          if (Number(status) < 400 || path === "/readyz") continue;
          const err = r.content?.["application/json"]?.schema as { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } } | undefined;
          expect(err?.properties?.error?.properties?.code?.enum, `${method} ${path} ${status}`).toEqual(codes);
        }
        const body = o.requestBody?.content["application/json"]?.schema as { additionalProperties?: unknown; anyOf?: { additionalProperties?: unknown }[] } | undefined;
        if (body) for (const b of body.anyOf ?? [body]) expect(b.additionalProperties, `${method} ${path}`).toBe(false);
      }
    }
    expect(Object.keys(op("/api/auth/login", "post").responses)).toEqual(expect.arrayContaining(["200", "400", "401", "429"]));
    expect(op("/api/auth/login", "post").security).toEqual([]);
    expect(op("/healthz", "get").security).toEqual([]);
    expect(Object.keys(op("/api/export/fraud-cases.csv", "get").responses["200"]?.content ?? {})).toEqual(["text/csv"]);
    expect((doc as unknown as { components: { securitySchemes: { cookie: { name: string } } } }).components.securitySchemes.cookie.name).toBe("spam_session");
  });

  it("answers every window its document allows: any two date-times, an empty or reversed one included", async () => {
    for (const q of ["from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00%2B08:00", "from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z", "from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z", "to=1970-01-01T00:00:00Z"]) {
      const res = await app.inject({ url: `/api/analytics/reports?${q}`, headers: as("ana") });
      expect(res.statusCode, q).toBe(200);
    }
    const reversed = await app.inject({ url: "/api/analytics/reports?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z", headers: as("ana") });
    expect(reversed.json()).toEqual({ points: [] });
    const csv = await app.inject({ url: "/api/export/fraud-cases.csv?from=2025-01-01T00:00:00Z", headers: as("admin") });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers["content-type"]).toContain("text/csv");
  });
});

describe("the contract: error", () => {
  it("refuses unknown properties where the document says additionalProperties: false", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/api/admin/users",
      headers: as("admin"),
      payload: { username: "newbie", role: "reviewer", password: "long-enough-pw", isAdmin: true },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("bad_request");
    expect((await app.inject({ url: "/api/admin/users", headers: as("admin") })).json().items.map((u: { username: string }) => u.username)).not.toContain("newbie");
    const patch = await app.inject({ method: "PATCH", url: "/api/admin/users/ana", headers: as("admin"), payload: { disabled: false, role: "admin" } });
    expect(patch.statusCode).toBe(400);
    expect((await app.inject({ method: "PATCH", url: "/api/admin/users/ana", headers: as("admin"), payload: {} })).statusCode).toBe(400);
  });

  it("rejects a malformed window with 400 before the handler", async () => {
    for (const q of ["from=", "to=yesterday", "from=2025-01-01"]) {
      const res = await app.inject({ url: `/api/analytics/reports?${q}`, headers: as("ana") });
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error.fields[0].path).toMatch(/^querystring\.(from|to)$/);
    }
  });

  it("answers a case id longer than the document allows with the closed 400, and one at the limit reaches the handler", async () => {
    const long = await app.inject({ url: `/api/cases/${"0".repeat(129)}`, headers: as("admin") });
    expect(long.statusCode).toBe(400);
    expect(long.json().error.code).toBe("bad_request");
    const atLimit = await app.inject({ url: `/api/cases/${"0".repeat(128)}`, headers: as("admin") });
    expect(atLimit.statusCode).toBe(404);
    const huge = await app.inject({ url: `/api/cases/${"0".repeat(5000)}`, headers: as("admin") });
    expect(huge.statusCode).toBe(400);
    expect(huge.json().error.code).toBe("bad_request");
  });

  it("answers a method a path does not offer with 405 and Allow; an unknown path stays 404", async () => {
    const res = await app.inject({ method: "TRACE" as "GET", url: "/api/queue", headers: as("admin") });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe("GET, HEAD");
    expect(res.json().error.code).toBe("method_not_allowed");
    const put = await app.inject({ method: "PUT", url: "/api/cases/c_abc/claim", headers: as("admin") });
    expect(put.statusCode).toBe(405);
    expect(put.headers.allow).toBe("POST");
    expect((await app.inject({ method: "TRACE" as "GET", url: "/api/nowhere", headers: as("admin") })).statusCode).toBe(404);
    // QUERY carries a body: fastify asks for its content type before any route is looked for (found by schemathesis).
    const query = await app.inject({ method: "QUERY" as "GET", url: "/api/admin/users", headers: as("admin") });
    expect(query.statusCode).toBe(405);
    expect(query.headers.allow).toBe("GET, HEAD, POST");
  });

  it("names too large and wrong-type bodies with codes of the closed set", async () => {
    const big = await app.inject({ method: "POST", url: "/api/auth/login", headers: { "content-type": "application/json" }, payload: JSON.stringify({ username: "x".repeat(300_000), password: "y" }) });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe("payload_too_large");
    const xml = await app.inject({ method: "POST", url: "/api/auth/login", headers: { "content-type": "application/xml" }, payload: "<a/>" });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().error.code).toBe("unsupported_media_type");
    const none = await app.inject({ method: "POST", url: "/api/auth/login" });
    expect(none.statusCode).toBe(400);
  });
});

describe("the contract: security", () => {
  it("masks numbers quoted back from a refused path, and never echoes fastify's internal error body", async () => {
    const res = await app.inject({ url: `/api/cases/13800138000${"x".repeat(2000)}`, headers: as("admin") });
    expect(res.statusCode).toBe(400);
    expect(res.body).not.toContain("13800138000");
    expect(res.body).not.toContain("FST_ERR");
    expect(res.headers["content-security-policy"]).toBeDefined();
  });

  it("checks the session before the method or the body: anonymous requests learn nothing but 401", async () => {
    const res = await app.inject({ method: "POST", url: "/api/admin/users", payload: { username: "x", extra: 1 } });
    expect(res.statusCode).toBe(401);
    expect((await app.inject({ method: "POST", url: "/api/admin/users", headers: as("ana"), payload: { username: "x", extra: 1 } })).statusCode).toBe(403);
  });

  it("keeps the document itself for signed-in staff", async () => {
    expect((await app.inject("/openapi.json")).statusCode).toBe(401);
  });
});
