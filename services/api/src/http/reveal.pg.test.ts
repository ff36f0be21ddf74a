import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { emptyTrafficAnalytics } from "../analytics/clickhouse.js";
import { PgReviewAnalytics } from "../analytics/pg.js";
import { UserStore } from "../auth/users.js";
import { migratePg } from "../db/migrate.js";
import { createPool } from "../db/pool.js";
import { CaseStore } from "../review/cases.js";
import { ingestReports, ingestVerdicts } from "../review/intake.js";
import { flaggedVerdict, parsedReport } from "../testing/fixtures.js";
import { createTestDatabase } from "../testing/postgres.js";
import { buildApp } from "./app.js";

/** Reveal rules (issue 17, finding 9) and campaign samples of legitimate members (finding 13), over HTTP. */
const logger = pino({ level: "silent" });
const PW = "correct-horse-battery";
const REVEALS_PER_HOUR = 3;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: ReturnType<typeof createPool>;
let app: FastifyInstance;
let cases: CaseStore;
const tokens: Record<string, string> = {};
const as = (who: string) => ({ authorization: `Bearer ${tokens[who]}` });

const post = (who: string, url: string, payload?: unknown) => app.inject({ method: "POST", url, headers: as(who), ...(payload === undefined ? {} : { payload: payload as object }) });
const reveal = (who: string, id: string, field: string, reason: string) => post(who, `/api/cases/${id}/reveal`, { field, reason });

beforeAll(async () => {
  db = await createTestDatabase("reveal");
  pool = createPool(db.url, 10);
  await migratePg(pool, logger);
  const users = new UserStore(pool, 3_600_000);
  for (const [u, role] of [["adm", "admin"], ["rev1", "reviewer"], ["rev2", "reviewer"], ["ana", "analyst"], ["busy", "reviewer"], ["burst", "reviewer"]] as const) {
    await users.createUser({ username: u, role, password: PW });
  }
  cases = new CaseStore(pool, { slaHours: 48, claimTtlMinutes: 15, effects: { blockTtlMs: 86_400_000, shortCode: "10086999" }, revealsPerHour: REVEALS_PER_HOUR });
  app = await buildApp({
    logger,
    pool,
    users,
    cases,
    traffic: emptyTrafficAnalytics,
    review: new PgReviewAnalytics(pool),
    config: { slaHours: 48, cookieSecure: false, loginPerMinute: 50 },
  });
  for (const [i, u] of ["adm", "rev1", "rev2", "ana", "busy", "burst"].entries()) {
    const res = await app.inject({ method: "POST", url: "/api/auth/login", payload: { username: u, password: PW }, remoteAddress: `10.1.0.${i + 1}` });
    tokens[u] = res.json().token;
  }
  await ingestVerdicts(cases, [flaggedVerdict({ messageId: "rv-1", source: "13611112222" })], { textOf: () => "退款请致电 13987654321" });
  await ingestVerdicts(cases, [flaggedVerdict({ messageId: "rv-2", source: "13633334444" })], { textOf: () => "另一条" });
  await ingestReports(cases, [parsedReport({ id: "rv-report", reportedNumber: "13655556666", reporterMsisdn: "13700001111" })]);
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await db?.drop();
});

const auditOf = async (action: string) => (await app.inject({ url: `/api/admin/audit?action=${action}&limit=50`, headers: as("adm") })).json().items as { username: string; target: string; reason: string; detail: Record<string, unknown> }[];

describe("reveal: happy path", () => {
  it("the reviewer holding the claim gets the full value with a reason, and the audit log has who, what and why", async () => {
    expect((await post("rev1", "/api/cases/msg:rv-1/claim")).statusCode).toBe(200);
    const sender = await reveal("rev1", "msg:rv-1", "sender", "公安协查 2024-18");
    expect(sender.statusCode).toBe(200);
    expect(sender.json()).toEqual({ sender: "13611112222" });
    expect((await reveal("rev1", "msg:rv-1", "text", "用户申诉核实")).json()).toEqual({ text: "退款请致电 13987654321" });
    const numbers = await auditOf("reveal_number");
    expect(numbers.map((a) => [a.username, a.target, a.reason])).toEqual(expect.arrayContaining([["rev1", "msg:rv-1", "公安协查 2024-18"]]));
    expect((await auditOf("reveal_text")).map((a) => a.target)).toContain("msg:rv-1");
  });
});

describe("reveal: errors", () => {
  it("without a claim of the case: 409 claim_required, and the attempt is audited", async () => {
    const res = await reveal("rev2", "msg:rv-2", "sender", "need the number");
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe("claim_required");
    expect((await auditOf("reveal_refused")).some((a) => a.username === "rev2" && a.target === "msg:rv-2")).toBe(true);
  });
  it("without a reason: 400 naming the field", async () => {
    expect((await post("rev2", "/api/cases/msg:rv-2/claim")).statusCode).toBe(200);
    for (const reason of ["", "   "]) {
      const res = await reveal("rev2", "msg:rv-2", "sender", reason);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.fields.map((f: { path: string }) => f.path)).toContain("body.reason");
    }
  });
  it("over the per-user hourly limit: 429 rate_limited; other users are not affected", async () => {
    await ingestVerdicts(cases, [flaggedVerdict({ messageId: "rv-busy", source: "13600000201" })], { textOf: () => "x" });
    expect((await post("busy", "/api/cases/msg:rv-busy/claim")).statusCode).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < REVEALS_PER_HOUR + 2; i++) statuses.push((await reveal("busy", "msg:rv-busy", "sender", `lookup number ${i}`)).statusCode);
    expect(statuses).toEqual([...Array<number>(REVEALS_PER_HOUR).fill(200), 429, 429]);
    const over = await reveal("busy", "msg:rv-busy", "sender", "once more");
    expect(over.json().error.code).toBe("rate_limited");
    expect((await reveal("rev2", "msg:rv-2", "sender", "my own case")).statusCode).toBe(200);
  });
  it("the limit holds for concurrent requests: of a burst, exactly the limit succeed", async () => {
    await ingestVerdicts(cases, [flaggedVerdict({ messageId: "rv-burst", source: "13600000202" })], { textOf: () => "x" });
    expect((await post("burst", "/api/cases/msg:rv-burst/claim")).statusCode).toBe(200);
    const statuses = await Promise.all(Array.from({ length: REVEALS_PER_HOUR * 3 }, (_, i) => reveal("burst", "msg:rv-burst", "sender", `burst ${i}`).then((r) => r.statusCode)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(REVEALS_PER_HOUR);
    expect(statuses.filter((s) => s === 429)).toHaveLength(REVEALS_PER_HOUR * 2);
  });
  it("a case that does not exist: 404", async () => {
    expect((await reveal("rev1", "msg:nope", "sender", "no such case")).statusCode).toBe(404);
  });
});

describe("reveal: security", () => {
  it("reporters' numbers are out of the API's reach: 403 even with a claim and a reason", async () => {
    // Case ids are opaque: find the report's case through its report.
    const caseId = (await pool.query<{ case_id: string }>("SELECT case_id FROM case_reports WHERE report_id = 'rv-report'")).rows[0]!.case_id;
    expect((await post("rev1", `/api/cases/${caseId}/claim`)).statusCode).toBe(200);
    const res = await reveal("rev1", caseId, "reporters", "回访举报人核实");
    expect(res.statusCode).toBe(403);
    expect(JSON.stringify(res.json())).not.toContain("13700001111");
  });
  it("analysts never: 403 for every field, claimed or not, existing or not", async () => {
    for (const field of ["sender", "text", "reporters"]) {
      for (const id of ["msg:rv-1", "msg:rv-2", "msg:nope"]) {
        const res = await reveal("ana", id, field, "just curious about it");
        expect(res.statusCode, `${field} ${id}`).toBe(403);
        expect(res.json().error.code).toBe("forbidden");
      }
    }
  });
  it("a case claimed by another reviewer, or by nobody, reveals nothing (admins included)", async () => {
    expect((await reveal("rev2", "msg:rv-1", "sender", "not my claim")).statusCode).toBe(409);
    expect((await reveal("adm", "msg:rv-1", "text", "admin without a claim")).statusCode).toBe(409);
  });
  it("a decided case cannot be claimed, so it reveals nothing", async () => {
    await ingestVerdicts(cases, [flaggedVerdict({ messageId: "rv-done", source: "13600000203" })], { textOf: () => "x" });
    expect((await post("rev1", "/api/cases/msg:rv-done/claim")).statusCode).toBe(200);
    expect((await post("rev1", "/api/cases/msg:rv-done/decide", { label: "ham" })).statusCode).toBe(200);
    expect((await reveal("rev1", "msg:rv-done", "text", "after the decision")).statusCode).toBe(409);
  });
});

describe("campaign samples never keep texts of members judged legitimate", () => {
  it("a member decided not-spam leaves the campaign's samples, for every role", async () => {
    const campaignId = "cmp-legit";
    await ingestVerdicts(
      cases,
      [
        flaggedVerdict({ messageId: "cl-legit", source: "13600000204", campaignId, label: "suspect" }),
        flaggedVerdict({ messageId: "cl-spam", source: "13600000205", campaignId, label: "suspect" }),
      ],
      { textOf: (id) => (id === "cl-spam" ? "点击领取积分 http://jf-bonus.example" : "妈，周末回家吃饭，爸做了红烧肉") },
    );
    const before = (await app.inject({ url: `/api/cases/cmp:${campaignId}`, headers: as("rev1") })).json();
    expect(JSON.stringify(before.samples)).toContain("红烧肉");
    expect((await post("rev2", "/api/cases/msg:cl-legit/claim")).statusCode).toBe(200);
    expect((await post("rev2", "/api/cases/msg:cl-legit/decide", { label: "ham", comment: "家人消息" })).statusCode).toBe(200);
    for (const who of ["rev1", "ana", "adm"]) {
      for (const id of [`cmp:${campaignId}`, "msg:cl-spam"]) {
        const body = (await app.inject({ url: `/api/cases/${id}`, headers: as(who) })).body;
        expect(body, `${who} ${id}`).not.toContain("红烧肉");
      }
    }
    const stored = await pool.query<{ samples: string[] }>("SELECT samples FROM review_cases WHERE id = $1", [`cmp:${campaignId}`]);
    expect(stored.rows[0]?.samples).toEqual(["点击领取积分 http://jf-bonus.example"]);
  });
});
