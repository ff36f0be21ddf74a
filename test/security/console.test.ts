import pino from "pino";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CaseStore, createApiService, createPool, ingestVerdicts, parseEnv, UserStore, type ApiService } from "@spam/api-service";
import { createTestDatabase, flaggedVerdict } from "@spam/api-service/testing";

/**
 * Finding 2, 12 and 13 of issue #17 as probes against a real API process (HTTP on loopback, PostgreSQL):
 * a category outside the taxonomy, missing security headers, public API docs, login guessing spread over
 * client addresses behind a proxy, sessions that never idle out or cannot be revoked.
 */
const PW = "console-security-pass";
const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let service: ApiService;
let base: string;
let pool: pg.Pool;
let caseId: string;

async function login(username: string, password = PW, forwardedFor?: string): Promise<Response> {
  return fetch(`${base}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(forwardedFor ? { "x-forwarded-for": forwardedFor } : {}) },
    body: JSON.stringify({ username, password }),
  });
}
async function tokenOf(username: string, forwardedFor = "198.51.100.1"): Promise<string> {
  const res = await login(username, PW, forwardedFor);
  expect(res.status, `login ${username}`).toBe(200);
  return ((await res.json()) as { token: string }).token;
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });

beforeAll(async () => {
  db = await createTestDatabase("sec_console");
  const env = parseEnv({
    DATABASE_URL: db.url,
    API_PORT: "0",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "silent",
    KAFKA_BROKERS: "",
    CLICKHOUSE_URL: "",
    // Behind the operator's reverse proxy: limits must apply per client, not per proxy.
    TRUST_PROXY: "127.0.0.1",
    LOGIN_RATE_LIMIT_PER_MINUTE: "10",
    LOGIN_LOCKOUT_THRESHOLD: "5",
    SESSION_IDLE_MINUTES: "30",
  });
  service = createApiService(env, logger);
  base = (await service.start()).url;
  pool = createPool(db.url, 4);
  const users = new UserStore(pool, 3_600_000);
  for (const [username, role] of [["sec-admin", "admin"], ["sec-rev", "reviewer"], ["sec-victim", "reviewer"], ["sec-idle", "reviewer"], ["sec-multi", "reviewer"]] as const) {
    await users.createUser({ username, role, password: PW });
  }
  const cases = new CaseStore(pool, { slaHours: 48, claimTtlMinutes: 15, effects: { blockTtlMs: 86_400_000, shortCode: "10086999" } });
  const v = flaggedVerdict({ source: "17012345678" });
  await ingestVerdicts(cases, [v], { textOf: () => "中奖啦，点击领取" });
  caseId = `msg:${v.messageId}`;
}, 300_000);

afterAll(async () => {
  await service?.stop();
  await pool?.end();
  await db?.drop();
});

describe("finding 2: the decide route takes only the closed category taxonomy", () => {
  it("refuses a script payload as category with 400 and stores nothing", async () => {
    const token = await tokenOf("sec-rev");
    expect((await fetch(`${base}/api/cases/${encodeURIComponent(caseId)}/claim`, { method: "POST", headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const res = await fetch(`${base}/api/cases/${encodeURIComponent(caseId)}/decide`, {
      method: "POST",
      headers: bearer(token),
      body: JSON.stringify({ label: "spam", category: "<img src=x onerror=alert(1)>", comment: "" }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; fields: { path: string }[] } };
    expect(body.error.code).toBe("bad_request");
    expect(body.error.fields.map((f) => f.path)).toContain("body.category");
    const { rows } = await pool.query("SELECT status, decision_category FROM review_cases WHERE id = $1", [caseId]);
    expect(rows[0]).toEqual({ status: "open", decision_category: null });
  });
});

describe("finding 13: security headers everywhere, API docs only for signed-in users", () => {
  const CSP_PARTS = ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"];
  const expectHardened = (res: Response, what: string) => {
    const csp = res.headers.get("content-security-policy") ?? "";
    for (const part of CSP_PARTS) expect(csp, `${what}: ${part}`).toContain(part);
    expect(csp, what).not.toContain("unsafe-inline");
    expect(res.headers.get("x-content-type-options"), what).toBe("nosniff");
    expect(res.headers.get("x-frame-options"), what).toBe("DENY");
    expect(res.headers.get("referrer-policy"), what).toBe("no-referrer");
    expect(res.headers.get("cross-origin-opener-policy"), what).toBe("same-origin");
  };

  it("sets CSP and the usual headers on the console, API answers, errors and static files", async () => {
    const token = await tokenOf("sec-rev");
    const probes: [string, RequestInit, number][] = [
      ["/", {}, 200],
      ["/queue", {}, 200],
      ["/assets/app.js", {}, 200],
      ["/api/queue", { headers: { authorization: `Bearer ${token}` } }, 200],
      ["/api/queue", {}, 401],
      ["/api/no-such-route", {}, 404],
      ["/api/auth/login", { method: "POST", headers: { "content-type": "application/json" }, body: "{" }, 400],
    ];
    for (const [path, init, status] of probes) {
      const res = await fetch(`${base}${path}`, init);
      expect(res.status, path).toBe(status);
      expectHardened(res, `${init.method ?? "GET"} ${path} ${status}`);
    }
    // Case data is never kept in a browser or proxy cache.
    expect((await fetch(`${base}/api/queue`, { headers: { authorization: `Bearer ${token}` } })).headers.get("cache-control")).toBe("no-store");
  });

  it("answers /docs and /openapi.json with 401 when signed out, and serves them to a signed-in user", async () => {
    for (const path of ["/openapi.json", "/docs", "/docs/json", "/docs/static/index.html"]) {
      const res = await fetch(`${base}${path}`, { redirect: "manual" });
      expect(res.status, path).toBe(401);
    }
    const token = await tokenOf("sec-rev");
    const spec = await fetch(`${base}/openapi.json`, { headers: { authorization: `Bearer ${token}` } });
    expect(spec.status).toBe(200);
    expect(((await spec.json()) as { openapi: string }).openapi).toMatch(/^3\./);
  });
});

describe("finding 12: sessions to ASVS L2", () => {
  it("locks an account after 5 failed sign-ins even when each guess comes from another client address", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await login("sec-victim", `wrong-password-${i}`, `203.0.113.${i + 1}`);
      expect(res.status, `guess ${i}`).toBe(401);
    }
    // The right password from yet another address: refused while locked, with a hint when to retry.
    const locked = await login("sec-victim", PW, "203.0.113.99");
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    // An unknown account answers the same way, so the lockout does not reveal which accounts exist.
    for (let i = 0; i < 5; i++) await login("no-such-user", `wrong-password-${i}`, `203.0.113.${i + 20}`);
    expect((await login("no-such-user", PW, "203.0.113.98")).status).toBe(429);
  });

  it("keeps the per-IP limit per client behind a trusted proxy (X-Forwarded-For)", async () => {
    // Twelve clients behind the same proxy each sign in once: none is limited by the others.
    for (let i = 0; i < 12; i++) expect((await login("sec-rev", PW, `192.0.2.${i + 1}`)).status, `client ${i}`).toBe(200);
    // One client guessing fast is limited on its own.
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await login(`sec-guess-${i}`, `bad-${i}-xxxxxxx`, "192.0.2.200")).status);
    expect(statuses).toContain(429);
  });

  it("ends a session that has been idle longer than SESSION_IDLE_MINUTES", async () => {
    const token = await tokenOf("sec-idle");
    expect((await fetch(`${base}/api/auth/me`, { headers: bearer(token) })).status).toBe(200);
    await pool.query("UPDATE sessions SET last_seen_at = now() - interval '31 minutes' WHERE user_id = (SELECT id FROM users WHERE username = 'sec-idle')");
    expect((await fetch(`${base}/api/auth/me`, { headers: bearer(token) })).status).toBe(401);
  });

  it("lists a user's sessions and refuses a revoked one; an admin can revoke anyone's", async () => {
    const first = await tokenOf("sec-multi", "192.0.2.101");
    const second = await tokenOf("sec-multi", "192.0.2.102");
    const list = await fetch(`${base}/api/sessions`, { headers: bearer(first) });
    expect(list.status).toBe(200);
    const items = ((await list.json()) as { items: { id: string; current: boolean }[] }).items;
    expect(items).toHaveLength(2);
    const other = items.find((s) => !s.current);
    expect(other).toBeDefined();
    expect((await fetch(`${base}/api/sessions/${other!.id}`, { method: "DELETE", headers: { authorization: `Bearer ${first}` } })).status).toBe(200);
    expect((await fetch(`${base}/api/auth/me`, { headers: bearer(second) })).status).toBe(401);
    expect((await fetch(`${base}/api/auth/me`, { headers: bearer(first) })).status).toBe(200);

    // A reviewer cannot touch someone else's sessions; an admin can end them all.
    const reviewer = await tokenOf("sec-rev", "192.0.2.103");
    expect((await fetch(`${base}/api/admin/users/sec-multi/sessions`, { headers: bearer(reviewer) })).status).toBe(403);
    const admin = await tokenOf("sec-admin", "192.0.2.104");
    expect((await fetch(`${base}/api/admin/users/sec-multi/sessions`, { method: "DELETE", headers: { authorization: `Bearer ${admin}` } })).status).toBe(200);
    expect((await fetch(`${base}/api/auth/me`, { headers: bearer(first) })).status).toBe(401);
  });

  it("ends every session of a user an admin disables", async () => {
    const token = await tokenOf("sec-multi", "192.0.2.105");
    const admin = await tokenOf("sec-admin", "192.0.2.106");
    const res = await fetch(`${base}/api/admin/users/sec-multi`, { method: "PATCH", headers: bearer(admin), body: JSON.stringify({ disabled: true }) });
    expect(res.status).toBe(200);
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = 'sec-multi')");
    expect(rows[0].n).toBe(0);
    expect((await fetch(`${base}/api/auth/me`, { headers: bearer(token) })).status).toBe(401);
  });
});
