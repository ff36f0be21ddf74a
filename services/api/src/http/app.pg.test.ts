import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { emptyTrafficAnalytics } from "../analytics/clickhouse.js";
import { PgReviewAnalytics } from "../analytics/pg.js";
import { UserStore } from "../auth/users.js";
import { migratePg } from "../db/migrate.js";
import { createPool } from "../db/pool.js";
import { OutboxRelay, type PublishMessage } from "../outbox.js";
import { CaseStore } from "../review/cases.js";
import { ingestReports, ingestVerdicts } from "../review/intake.js";
import { flaggedVerdict, parsedReport } from "../testing/fixtures.js";
import { createTestDatabase } from "../testing/postgres.js";
import { buildApp } from "./app.js";

const logger = pino({ level: "silent" });
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: ReturnType<typeof createPool>;
let app: FastifyInstance;
let cases: CaseStore;
const published: PublishMessage[] = [];
let relay: OutboxRelay;
const tokens: Record<string, string> = {};

const PW = "correct-horse-battery";

let clients = 0;
// Each sign-in from its own address, so the per-address limit is only hit where a test means to.
async function login(username: string, password = PW) {
  clients++;
  return app.inject({ method: "POST", url: "/api/auth/login", payload: { username, password }, remoteAddress: `10.0.${clients >> 8}.${clients & 255}` });
}
const as = (who: string) => ({ authorization: `Bearer ${tokens[who]}` });

beforeAll(async () => {
  db = await createTestDatabase("http");
  pool = createPool(db.url, 20);
  await migratePg(pool, logger);
  const users = new UserStore(pool, 3_600_000);
  await users.createUser({ username: "admin", role: "admin", password: PW });
  await users.createUser({ username: "rev1", role: "reviewer", password: PW });
  await users.createUser({ username: "rev2", role: "reviewer", password: PW });
  await users.createUser({ username: "ana", role: "analyst", password: PW });
  cases = new CaseStore(pool, { slaHours: 48, claimTtlMinutes: 15, effects: { blockTtlMs: 86_400_000, shortCode: "10086999" } });
  relay = new OutboxRelay(pool, { publish: async (m) => void published.push(...m) }, logger);
  app = await buildApp({
    logger,
    pool,
    users,
    cases,
    traffic: emptyTrafficAnalytics,
    review: new PgReviewAnalytics(pool),
    config: { slaHours: 48, cookieSecure: false, loginPerMinute: 5 },
  });
  for (const u of ["admin", "rev1", "rev2", "ana"]) {
    const res = await login(u);
    expect(res.statusCode).toBe(200);
    tokens[u] = res.json().token;
  }
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await db?.drop();
});

describe("HTTP API", () => {
  it("only health and readiness are anonymous", async () => {
    expect((await app.inject("/healthz")).statusCode).toBe(200);
    expect((await app.inject("/readyz")).json()).toEqual({ ok: true, checks: { postgres: true } });
    for (const url of ["/api/queue", "/api/cases/x", "/api/analytics/reports", "/api/admin/audit", "/api/export/fraud-cases.csv"]) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(401);
      expect(res.json().error.code).toBe("unauthenticated");
    }
  });

  it("the queue filter offers commercial messages the policy flags; an allowed one opens no case (issue 18)", async () => {
    const promo = { label: "commercial" as const, category: "commercial", score: 0.97, contributions: [{ source: "rule" as const, id: "builtin.commercial", score: 0, category: "commercial", detail: null }] };
    await ingestVerdicts(cases, [
      flaggedVerdict({ messageId: "com-1", source: "1069012345", action: "flag", ...promo }),
      flaggedVerdict({ messageId: "com-2", source: "1069012345", action: "allow", ...promo }),
    ]);
    const res = await app.inject({ url: "/api/queue?category=commercial&limit=200", headers: as("rev1") });
    expect(res.statusCode).toBe(200);
    const ids = res.json().items.map((c: { id: string }) => c.id);
    expect(ids).toContain("msg:com-1");
    expect(ids).not.toContain("msg:com-2");
    expect((await app.inject({ url: "/api/cases/msg:com-1", headers: as("rev1") })).json()).toMatchObject({ category: "commercial", modelLabel: "commercial" });
  });

  it("sets an httpOnly session cookie that authenticates like the bearer token", async () => {
    const res = await login("rev1");
    const cookie = res.cookies.find((c) => c.name === "spam_session");
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe("Strict");
    const me = await app.inject({ url: "/api/auth/me", cookies: { spam_session: cookie?.value ?? "" } });
    expect(me.json()).toMatchObject({ username: "rev1", role: "reviewer" });
  });

  it("sessions expire and end at logout", async () => {
    const a = (await login("rev2")).json().token as string;
    const b = (await login("rev2")).json().token as string;
    expect((await app.inject({ url: "/api/auth/me", headers: { authorization: `Bearer ${a}` } })).statusCode).toBe(200);
    await pool.query("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = encode(sha256($1::bytea), 'hex')", [a]);
    expect((await app.inject({ url: "/api/auth/me", headers: { authorization: `Bearer ${a}` } })).statusCode).toBe(401);
    expect((await app.inject({ method: "POST", url: "/api/auth/logout", headers: { authorization: `Bearer ${b}` } })).statusCode).toBe(200);
    expect((await app.inject({ url: "/api/auth/me", headers: { authorization: `Bearer ${b}` } })).statusCode).toBe(401);
  });

  it("rate-limits login attempts", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "rev1-guess", password: "wrong" }, remoteAddress: "10.9.9.9" });
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429]);
  });

  it("answers bad input with 400 and the failing fields, never a stack", async () => {
    await ingestVerdicts(cases, [flaggedVerdict({ messageId: "bad-1", source: "13600000101" })]);
    await app.inject({ method: "POST", url: "/api/cases/msg:bad-1/claim", headers: as("rev1") });
    const res = await app.inject({ method: "POST", url: "/api/cases/msg:bad-1/decide", headers: as("rev1"), payload: { label: "spam", comment: 5 } });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe("bad_request");
    expect(body.error.fields.map((f: { path: string }) => f.path)).toEqual(expect.arrayContaining(["body.comment"]));
    const q = await app.inject({ url: "/api/queue?limit=0&source=nope", headers: as("rev1") });
    expect(q.statusCode).toBe(400);
    expect(q.json().error.fields.map((f: { path: string }) => f.path).sort()).toEqual(["querystring.limit", "querystring.source"]);
    const noCat = await app.inject({ method: "POST", url: "/api/cases/msg:bad-1/decide", headers: as("rev1"), payload: { label: "spam" } });
    expect(noCat.json().error.fields).toEqual([{ path: "body.category", message: "a spam decision needs a category" }]);
    const badJson = await app.inject({ method: "POST", url: "/api/auth/login", headers: { "content-type": "application/json" }, payload: "{nope" });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.body).not.toMatch(/at .*\.js:\d+/);
  });

  it("enforces roles: analysts read, never decide or reveal; only admins see the audit log", async () => {
    await ingestVerdicts(cases, [flaggedVerdict({ messageId: "role-1", source: "13600000102" })]);
    expect((await app.inject({ url: "/api/queue", headers: as("ana") })).statusCode).toBe(200);
    expect((await app.inject({ method: "POST", url: "/api/cases/msg:role-1/claim", headers: as("ana") })).statusCode).toBe(403);
    const reveal = await app.inject({ method: "POST", url: "/api/cases/msg:role-1/reveal", headers: as("ana"), payload: { field: "sender", reason: "need it for a report" } });
    expect(reveal.statusCode).toBe(403);
    expect((await app.inject({ url: "/api/admin/audit", headers: as("rev1") })).statusCode).toBe(403);
    expect((await app.inject({ url: "/api/admin/audit", headers: as("admin") })).statusCode).toBe(200);
  });

  it("masks numbers by default; a reveal needs a reason and is audited with who and when", async () => {
    await ingestVerdicts(cases, [flaggedVerdict({ messageId: "mask-1", source: "13612345678" })], { textOf: () => "退款请致电 13987654321" });
    const c = (await app.inject({ url: "/api/cases/msg:mask-1", headers: as("rev1") })).json();
    expect(c.sender).toBe("136******78");
    expect(c.text).toBe("退款请致电 139******21");
    expect((await app.inject({ method: "POST", url: "/api/cases/msg:mask-1/claim", headers: as("rev1") })).statusCode).toBe(200);
    const noReason = await app.inject({ method: "POST", url: "/api/cases/msg:mask-1/reveal", headers: as("rev1"), payload: { field: "sender", reason: "" } });
    expect(noReason.statusCode).toBe(400);
    const ok = await app.inject({ method: "POST", url: "/api/cases/msg:mask-1/reveal", headers: as("rev1"), payload: { field: "sender", reason: "公安协查 2024-18" } });
    expect(ok.json()).toEqual({ sender: "13612345678" });
    const audit = (await app.inject({ url: "/api/admin/audit?action=reveal_number", headers: as("admin") })).json();
    expect(audit.items[0]).toMatchObject({ username: "rev1", action: "reveal_number", target: "msg:mask-1", reason: "公安协查 2024-18" });
    expect(Date.now() - Date.parse(audit.items[0].at)).toBeLessThan(60_000);
  });

  it("withholds ham text from everyone by default and from analysts always", async () => {
    await ingestVerdicts(cases, [flaggedVerdict({ messageId: "ham-1", source: "13600000103", label: "ham", action: "flag", score: 0.45 })], { textOf: () => "妈，我明天回家吃饭" });
    for (const who of ["rev1", "ana"]) {
      const c = (await app.inject({ url: "/api/cases/msg:ham-1", headers: as(who) })).json();
      expect(c.text).toBeNull();
      expect(c.textWithheld).toBe(true);
    }
    const q = (await app.inject({ url: "/api/queue?limit=200", headers: as("ana") })).json();
    expect(JSON.stringify(q)).not.toContain("回家吃饭");
    expect((await app.inject({ method: "POST", url: "/api/cases/msg:ham-1/reveal", headers: as("ana"), payload: { field: "text", reason: "just curious" } })).statusCode).toBe(403);
    expect((await app.inject({ method: "POST", url: "/api/cases/msg:ham-1/claim", headers: as("rev1") })).statusCode).toBe(200);
    const r = await app.inject({ method: "POST", url: "/api/cases/msg:ham-1/reveal", headers: as("rev1"), payload: { field: "text", reason: "用户申诉核实" } });
    expect(r.json().text).toBe("妈，我明天回家吃饭");
  });

  it("two reviewers claiming over HTTP at once never get the same case", async () => {
    const before = await app.inject({ url: "/api/queue?limit=200", headers: as("rev1") });
    const free = before.json().items.filter((c: { claimedBy: string | null }) => !c.claimedBy).length;
    const n = Math.min(free, 10);
    const responses = await Promise.all(
      Array.from({ length: n }, (_, i) => app.inject({ method: "POST", url: "/api/queue/claim-next", headers: as(i % 2 ? "rev1" : "rev2"), payload: {} })),
    );
    const ids = responses.map((r) => r.json().case?.id).filter(Boolean);
    expect(ids).toHaveLength(n);
    expect(new Set(ids).size).toBe(n);
    // And the same case, twice at once:
    await ingestVerdicts(cases, [flaggedVerdict({ messageId: "dup-1", source: "13600000104" })]);
    const both = await Promise.all(["rev1", "rev2"].map((u) => app.inject({ method: "POST", url: "/api/cases/msg:dup-1/claim", headers: as(u) })));
    expect(both.map((r) => r.statusCode).sort()).toEqual([200, 409]);
  });

  it("claim → decide publishes the label and the block-list change, never the reporter's number, and purges the outbox", async () => {
    const report = parsedReport({ reportedNumber: "13500135000", reporterMsisdn: "13700000077" });
    await ingestReports(cases, [report]);
    // Case ids are opaque: find the case through its report.
    const caseId = (await pool.query<{ case_id: string }>("SELECT case_id FROM case_reports WHERE report_id = $1", [report.id])).rows[0]!.case_id;
    expect((await app.inject({ method: "POST", url: `/api/cases/${caseId}/decide`, headers: as("rev1"), payload: { label: "spam", category: "FR_Other" } })).json().error.code).toBe("claim_required");
    expect((await app.inject({ method: "POST", url: `/api/cases/${caseId}/claim`, headers: as("rev1") })).statusCode).toBe(200);
    const other = await app.inject({ method: "POST", url: `/api/cases/${caseId}/decide`, headers: as("rev2"), payload: { label: "ham" } });
    expect(other.statusCode).toBe(409);
    const res = await app.inject({ method: "POST", url: `/api/cases/${caseId}/decide`, headers: as("rev1"), payload: { label: "spam", category: "FR_Financial", comment: "冒充快递理赔" } });
    expect(res.statusCode).toBe(200);
    await relay.drain();
    const mine = published.filter((m) => JSON.stringify(m.value).includes(caseId) || JSON.stringify(m.value).includes(report.id));
    expect(mine.map((m) => m.topicKey).sort()).toEqual(["blocklist", "reviewLabels"]);
    expect(JSON.stringify(published)).not.toContain("13700000077");
    expect((await pool.query("SELECT count(*)::int AS n FROM outbox")).rows[0].n).toBe(0);
    expect(published.find((m) => m.topicKey === "blocklist" && m.key === "sender:13500135000")).toBeTruthy();
    const again = await relay.drain();
    expect(again).toBe(0); // sent rows are not sent twice
  });

  it("analytics: throughput, rule precision and outcome times reflect decisions; CSV masks for analysts", async () => {
    const thr = (await app.inject({ url: "/api/analytics/throughput", headers: as("ana") })).json();
    expect(thr.points.some((p: { reviewer: string; decisions: number }) => p.reviewer === "rev1" && p.decisions >= 1)).toBe(true);
    const rules = (await app.inject({ url: "/api/analytics/rules", headers: as("ana") })).json();
    expect(rules.items).toBeInstanceOf(Array);
    const outcome = (await app.inject({ url: "/api/analytics/report-outcome", headers: as("ana") })).json();
    expect(outcome.decided).toBeGreaterThanOrEqual(1);
    expect(outcome.p50Hours).not.toBeNull();
    const csvA = await app.inject({ url: "/api/export/fraud-cases.csv", headers: as("ana") });
    expect(csvA.headers["content-type"]).toContain("text/csv");
    expect(csvA.body).toContain("135******00");
    expect(csvA.body).not.toContain("13500135000");
    const csvAdmin = await app.inject({ url: "/api/export/fraud-cases.csv", headers: as("admin") });
    expect(csvAdmin.body).toContain("13500135000");
    expect((await app.inject({ url: "/api/export/fraud-cases.csv", headers: as("rev1") })).statusCode).toBe(403);
    // A reversed window is valid by the document and empty; a date without a time is not a date-time.
    const reversed = await app.inject({ url: "/api/analytics/reports?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z", headers: as("ana") });
    expect(reversed.json()).toEqual({ points: [] });
    const bad = await app.inject({ url: "/api/analytics/reports?from=2025-02-01&to=2025-01-01", headers: as("ana") });
    expect(bad.statusCode).toBe(400);
  });

  it("serves an OpenAPI document generated from the zod schemas, and the console", async () => {
    expect((await app.inject("/openapi.json")).statusCode).toBe(401);
    const doc = (await app.inject({ url: "/openapi.json", headers: as("ana") })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/queue", "/api/cases/{id}/decide", "/api/analytics/spam-volume"]));
    // One body shape per label (what each needs is in the document): the labels are the branches'.
    const branches = doc.paths["/api/cases/{id}/decide"].post.requestBody.content["application/json"].schema.anyOf as { properties: { label: { const?: string; enum?: string[] } } }[];
    expect(branches.map((b) => b.properties.label.const ?? b.properties.label.enum?.[0])).toEqual(["spam", "ham", "escalate"]);
    expect((await app.inject("/docs/")).statusCode).toBe(401);
    expect((await app.inject({ url: "/docs/", headers: as("ana") })).statusCode).toBe(200);
    const page = await app.inject("/queue");
    expect(page.body).toContain("/vendor/echarts/echarts.min.js");
    expect((await app.inject("/vendor/echarts/echarts.min.js")).statusCode).toBe(200);
    expect((await app.inject("/assets/app.js")).statusCode).toBe(200);
  });
});

describe("sessions and accounts (happy)", () => {
  it("lists my sessions without tokens and ends one of them", async () => {
    const a = (await login("rev2")).json().token as string;
    const b = (await login("rev2")).json().token as string;
    const list = await app.inject({ url: "/api/sessions", headers: { authorization: `Bearer ${a}` }, remoteAddress: "10.1.1.1" });
    expect(list.statusCode).toBe(200);
    const items = list.json().items as { id: string; current: boolean }[];
    expect(items.filter((s) => s.current)).toHaveLength(1);
    expect(list.body).not.toContain(a);
    expect(list.body).not.toContain(b);
    const other = items.find((s) => !s.current && s.id)!;
    expect((await app.inject({ method: "DELETE", url: `/api/sessions/${other.id}`, headers: { authorization: `Bearer ${a}` } })).statusCode).toBe(200);
    const left = [a, b].map(async (t) => (await app.inject({ url: "/api/auth/me", headers: { authorization: `Bearer ${t}` } })).statusCode);
    expect((await Promise.all(left)).sort()).toEqual([200, 401]);
  });

  it("serves the category taxonomy the decide route accepts", async () => {
    const res = await app.inject({ url: "/api/categories", headers: as("rev1") });
    expect(res.json().spam).toContain("FR_Phishing(Bank)");
    expect(res.json().groups).toEqual(["advertising", "fraud", "illegal", "other"]);
  });

  it("an admin's new password for a user ends that user's sessions, and the new password works", async () => {
    await app.inject({ method: "POST", url: "/api/admin/users", headers: as("admin"), payload: { username: "temp1", role: "reviewer", password: PW } });
    const t = (await login("temp1")).json().token as string;
    const res = await app.inject({ method: "PATCH", url: "/api/admin/users/temp1", headers: as("admin"), payload: { password: "a-brand-new-password" } });
    expect(res.statusCode).toBe(200);
    expect((await app.inject({ url: "/api/auth/me", headers: { authorization: `Bearer ${t}` } })).statusCode).toBe(401);
    expect((await login("temp1", "a-brand-new-password")).statusCode).toBe(200);
  });
});

describe("own password change", () => {
  it("needs the current password; other sessions end, this one stays", async () => {
    await app.inject({ method: "POST", url: "/api/admin/users", headers: as("admin"), payload: { username: "selfpw", role: "analyst", password: PW } });
    const keep = (await login("selfpw")).json().token as string;
    const other = (await login("selfpw")).json().token as string;
    const h = { authorization: `Bearer ${keep}` };
    const wrong = await app.inject({ method: "POST", url: "/api/auth/password", headers: h, payload: { currentPassword: "not-it-at-all", newPassword: "another-good-password" } });
    expect(wrong.statusCode).toBe(403);
    const short = await app.inject({ method: "POST", url: "/api/auth/password", headers: h, payload: { currentPassword: PW, newPassword: "short" } });
    expect(short.statusCode).toBe(400);
    const ok = await app.inject({ method: "POST", url: "/api/auth/password", headers: h, payload: { currentPassword: PW, newPassword: "another-good-password" } });
    expect(ok.statusCode).toBe(200);
    expect((await app.inject({ url: "/api/auth/me", headers: h })).statusCode).toBe(200);
    expect((await app.inject({ url: "/api/auth/me", headers: { authorization: `Bearer ${other}` } })).statusCode).toBe(401);
    expect((await login("selfpw", "another-good-password")).statusCode).toBe(200);
  });
});

describe("sessions and accounts (errors)", () => {
  it("answers unknown sessions and users with 404, an empty change with 400", async () => {
    // Session ids are UUIDs in the document: anything else is refused by validation.
    expect((await app.inject({ method: "DELETE", url: "/api/sessions/not-a-uuid", headers: as("rev1") })).statusCode).toBe(400);
    expect((await app.inject({ method: "DELETE", url: `/api/sessions/${crypto.randomUUID()}`, headers: as("rev1") })).statusCode).toBe(404);
    expect((await app.inject({ url: "/api/admin/users/nobody-here/sessions", headers: as("admin") })).statusCode).toBe(404);
    expect((await app.inject({ method: "PATCH", url: "/api/admin/users/rev1", headers: as("admin"), payload: {} })).statusCode).toBe(400);
    // A well-formed request refused: 403, so a valid request by the document is never a 400.
    expect((await app.inject({ method: "PATCH", url: "/api/admin/users/admin", headers: as("admin"), payload: { disabled: true } })).statusCode).toBe(403);
  });

  it("refuses a category outside the taxonomy in the queue filter", async () => {
    const res = await app.inject({ url: "/api/queue?category=%3Cscript%3E", headers: as("rev1") });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.fields[0].path).toBe("querystring.category");
  });
});

describe("sessions and accounts (security)", () => {
  it("cannot end someone else's session through its own session route", async () => {
    const victim = (await login("rev2")).json().token as string;
    const ids = ((await app.inject({ url: "/api/sessions", headers: { authorization: `Bearer ${victim}` } })).json().items as { id: string }[]).map((s) => s.id);
    for (const id of ids) expect((await app.inject({ method: "DELETE", url: `/api/sessions/${id}`, headers: as("rev1") })).statusCode).toBe(404);
    expect((await app.inject({ url: "/api/auth/me", headers: { authorization: `Bearer ${victim}` } })).statusCode).toBe(200);
    expect((await app.inject({ method: "DELETE", url: "/api/admin/users/rev2/sessions", headers: as("rev1") })).statusCode).toBe(403);
  });

  it("over HTTPS the session cookie is __Host- prefixed and Secure, and HSTS is sent", async () => {
    const secure = await buildApp({
      logger,
      pool,
      users: new UserStore(pool, 3_600_000),
      cases,
      traffic: emptyTrafficAnalytics,
      review: new PgReviewAnalytics(pool),
      config: { slaHours: 48, cookieSecure: true, loginPerMinute: 5 },
    });
    try {
      const res = await secure.inject({ method: "POST", url: "/api/auth/login", payload: { username: "ana", password: PW }, remoteAddress: "10.2.2.2" });
      const cookie = res.cookies.find((c) => c.name === "__Host-spam_session");
      expect(cookie).toMatchObject({ secure: true, path: "/", httpOnly: true, sameSite: "Strict" });
      expect(cookie?.domain).toBeUndefined();
      expect(res.cookies.find((c) => c.name === "spam_session")).toBeUndefined();
      expect(res.headers["strict-transport-security"]).toMatch(/max-age=31536000/);
      const me = await secure.inject({ url: "/api/auth/me", cookies: { "__Host-spam_session": cookie?.value ?? "" } });
      expect(me.statusCode).toBe(200);
      // The unprefixed name is not read: a cookie planted by a sibling subdomain does not sign anyone in.
      expect((await secure.inject({ url: "/api/auth/me", cookies: { spam_session: cookie?.value ?? "" } })).statusCode).toBe(401);
      // The document names the cookie that is read.
      const doc = (await secure.inject({ url: "/openapi.json", cookies: { "__Host-spam_session": cookie?.value ?? "" } })).json();
      expect(doc.components.securitySchemes.cookie.name).toBe("__Host-spam_session");
    } finally {
      await secure.close();
    }
  });

  it("upgrades an old, weaker password hash at the next good login", async () => {
    const { hashPassword } = await import("../auth/password.js");
    await app.inject({ method: "POST", url: "/api/admin/users", headers: as("admin"), payload: { username: "oldhash", role: "analyst", password: PW } });
    await pool.query("UPDATE users SET password_hash = $1 WHERE username = 'oldhash'", [await hashPassword(PW, { N: 1 << 14, r: 8, p: 1 })]);
    expect((await login("oldhash")).statusCode).toBe(200);
    const { rows } = await pool.query("SELECT password_hash FROM users WHERE username = 'oldhash'");
    expect(rows[0].password_hash).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect((await login("oldhash")).statusCode).toBe(200);
  });
  it("accepts browsers' CSP violation reports anonymously, bounded, and answers 204 even to garbage", async () => {
    const report = { "csp-report": { "document-uri": "http://x/case/1?y", "effective-directive": "script-src-elem", "blocked-uri": "inline" } };
    const ok = await app.inject({ method: "POST", url: "/api/csp-report", headers: { "content-type": "application/csp-report" }, payload: JSON.stringify(report) });
    expect(ok.statusCode).toBe(204);
    const junk = await app.inject({ method: "POST", url: "/api/csp-report", headers: { "content-type": "application/csp-report" }, payload: "{not json" });
    expect(junk.statusCode).toBe(204);
    const big = await app.inject({ method: "POST", url: "/api/csp-report", headers: { "content-type": "application/csp-report" }, payload: "x".repeat(20_000) });
    expect(big.statusCode).toBe(413);
  });
});
