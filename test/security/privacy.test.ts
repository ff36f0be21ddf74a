/**
 * Findings 6 and 7 of issue 17, as the probe: an analyst calls every route an analyst can call against the
 * real API (its own process wiring, PostgreSQL, ClickHouse) after cases, reports, campaign samples, rule
 * details, decision comments and ClickHouse reports were seeded with numbers written the ways a spammer
 * writes them (full-width, Chinese numerals, circled, separators, zero-width characters, +86…), and no
 * response may carry a full number. The scan below is written independently of @spam/privacy.
 */
import fc from "fast-check";
import { Writable } from "node:stream";
import pino from "pino";
import { LOG_REDACTION } from "@spam/privacy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CaseStore,
  createApiService,
  createPool,
  ingestReports,
  ingestVerdicts,
  parseEnv,
  UserStore,
  type ApiService,
} from "@spam/api-service";
import { deciderCase, flaggedVerdict, parsedReport, seedClickHouse } from "@spam/api-service/testing";
import { ident, sql, type ClickHouse } from "@spam/clickhouse";
import { testPgDatabase, type TestPgDatabase } from "../support/index.js";

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
/** The API's own log, redacted as every service logger is (service-runtime's createServiceLogger). */
const apiLog: string[] = [];
const apiLogger = pino({ level: "debug", redact: LOG_REDACTION }, new Writable({ write: (chunk, _e, cb) => void (apiLog.push(String(chunk)), cb()) }));
const PW = "correct-horse-battery-staple";
const CH_URL = process.env.CLICKHOUSE_URL ?? "";

// ---- numbers and how spammers write them ------------------------------------------------------

const FORMS: readonly (readonly string[])[] = [
  ["0", "０", "〇", "零", "⓪", "⁰", "𝟎", "O", "o"],
  ["1", "１", "一", "壹", "①", "¹", "𝟏", "幺"],
  ["2", "２", "二", "贰", "②", "²", "𝟐", "两"],
  ["3", "３", "三", "叁", "③", "³", "𝟑"],
  ["4", "４", "四", "肆", "④", "⁴", "𝟒"],
  ["5", "５", "五", "伍", "⑤", "⁵", "𝟓"],
  ["6", "６", "六", "陆", "⑥", "⁶", "𝟔"],
  ["7", "７", "七", "柒", "⑦", "⁷", "𝟕"],
  ["8", "８", "八", "捌", "⑧", "⁸", "𝟖"],
  ["9", "９", "九", "玖", "⑨", "⁹", "𝟗"],
];
const SEPARATORS = [" ", "-", ".", "/", "\u3000", "·", "\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "(", ")", "_"];

const mobile = fc
  .tuple(fc.constantFrom("13", "15", "17", "18", "19"), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 9, maxLength: 9 }))
  .map(([p, rest]) => p + rest.join(""));
const written = (n: string) =>
  fc
    .tuple(
      fc.constantFrom("", "+86", "0086", "+86 "),
      fc.array(fc.nat(), { minLength: 11, maxLength: 11 }),
      fc.array(fc.array(fc.constantFrom(...SEPARATORS), { maxLength: 2 }), { minLength: 11, maxLength: 11 }),
    )
    .map(([prefix, picks, seps]) => prefix + Array.from(n, (d, i) => (i > 0 ? seps[i]!.join("") : "") + FORMS[Number(d)]![picks[i]! % FORMS[Number(d)]!.length]!).join(""));
const sample = fc.tuple(mobile, mobile).chain(([n, m]) => fc.tuple(fc.constant(n), written(n), fc.constant(m), written(m)));
/** Fixed seed, bounded: the same seeded numbers on every run. */
const SAMPLES = fc.sample(sample, { seed: 1717, numRuns: 12 });

// ---- an independent reading of what a person sees as digits -----------------------------------

const CN = "〇零一壹幺二贰两三叁四肆五伍六陆七柒八捌九玖";
const CN_VALUE = "00111222334455667788 99".replace(" ", "");
function digitsOf(s: string): string {
  let out = "";
  for (const ch of s) {
    const k = CN.indexOf(ch);
    if (k >= 0) {
      out += CN_VALUE[k];
      continue;
    }
    if (ch === "O" || ch === "o") {
      out += "0";
      continue;
    }
    const n = ch.normalize("NFKC");
    if (/^[0-9]+$/.test(n)) out += n;
  }
  return out;
}

/** Every string a response carries: JSON leaves one by one, CSV fields one by one. */
function leaves(body: string, contentType: string): string[] {
  if (contentType.includes("text/csv")) return body.split(/[,\r\n]/);
  try {
    const out: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === "string") out.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === "object") Object.values(v).forEach(walk);
    };
    walk(JSON.parse(body));
    return out;
  } catch {
    return [body];
  }
}

const seededNumbers: string[] = [];
const leaks: string[] = [];

function scan(route: string, body: string, contentType: string): void {
  for (const leaf of leaves(body, contentType)) {
    const d = digitsOf(leaf);
    for (const n of seededNumbers) if (d.includes(n)) leaks.push(`${route}: ${n} in ${JSON.stringify(leaf.slice(0, 200))}`);
  }
}

// ---- the stack ---------------------------------------------------------------------------------

let db: TestPgDatabase;
let api: ApiService;
let base = "";
let pool: ReturnType<typeof createPool>;
let cases: CaseStore;
let ch: ClickHouse | null = null;
const chDatabase = `sec_privacy_${(process.env.TEST_RUN_ID ?? `p${process.pid}`).toLowerCase().replace(/[^a-z0-9_]/g, "_")}`;
const token: Record<string, string> = {};
const caseIds = new Set<string>();
const withheldCases: string[] = [];

async function call(who: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token[who]}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const type = res.headers.get("content-type") ?? "";
  // Analysts always; reviewers and admins too, except the audited reveal and the admin's regulator export.
  const fullByDesign = path.endsWith("/reveal") || (who === "adm" && path.startsWith("/api/export/"));
  if (!fullByDesign) scan(`${who} ${method} ${path}`, text, type);
  return { status: res.status, body: text, type };
}

beforeAll(async () => {
  db = testPgDatabase("sec_privacy");
  const env = parseEnv({
    DATABASE_URL: db.url,
    API_PORT: "0",
    CASE_INTAKE: "false",
    KAFKA_BROKERS: "",
    CLICKHOUSE_URL: CH_URL,
    CLICKHOUSE_DATABASE: chDatabase,
    LOG_LEVEL: "silent",
  });
  if (CH_URL) ch = await seedClickHouse(CH_URL, chDatabase, logger);
  api = createApiService(env, apiLogger);
  base = (await api.start()).url;
  pool = createPool(db.url, 4);
  const users = new UserStore(pool, 3_600_000);
  for (const [u, role] of [["rev", "reviewer"], ["ana", "analyst"], ["adm", "admin"]] as const) await users.createUser({ username: u, role, password: PW });
  cases = new CaseStore(pool, { slaHours: 48, claimTtlMinutes: 15, effects: { blockTtlMs: 86_400_000, shortCode: "10086999" } });
  for (const u of ["rev", "ana", "adm"]) {
    const res = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: u, password: PW }) });
    expect(res.status).toBe(200);
    token[u] = ((await res.json()) as { token: string }).token;
  }

  // The issue's own probe, written plainly.
  seededNumbers.push("13800138000");
  await ingestVerdicts(
    cases,
    [flaggedVerdict({ messageId: "probe-vx", source: "13900000001", contributions: [{ source: "rule", id: "fraud.wechat", score: 0.5, category: "fraud", detail: 'matched "加vx13800138000"' }] })],
    { textOf: () => "加vx13800138000 退款" },
  );
  seededNumbers.push("13900000001");
  caseIds.add("msg:probe-vx");

  for (const [i, [n, w, m, wm]] of SAMPLES.entries()) {
    seededNumbers.push(n, m);
    const ham = i % 3 === 0;
    const campaignId = i % 4 === 1 ? `cmp-priv-${i % 8}` : null;
    const msgId = `priv-${i}`;
    await ingestVerdicts(
      cases,
      [
        flaggedVerdict({
          messageId: msgId,
          source: i % 2 ? wm : m,
          destination: n,
          label: ham ? "ham" : "suspect",
          campaignId,
          contributions: [
            { source: "rule", id: "fraud.callback", score: 0.4, category: "fraud", detail: `matched "加vx${w}"` },
            { source: "model", id: "nb-v1", score: 0.2, category: "fraud", detail: `nearest: 请回电${w}` },
          ],
        }),
      ],
      { textOf: () => `您的快递丢失，请联系客服${w}办理退款` },
    );
    caseIds.add(`msg:${msgId}`);
    if (campaignId) caseIds.add(`cmp:${campaignId}`);
    if (ham) withheldCases.push(`msg:${msgId}`);

    const report = parsedReport({ reporterMsisdn: n, reportedNumber: m, content: `${w} 说我中奖了，回电 ${wm}`, rawText: `${m}*${w}` });
    await ingestReports(cases, [report]);
    // Case ids are opaque: the report's case is found through the report.
    caseIds.add((await pool.query<{ case_id: string }>("SELECT case_id FROM case_reports WHERE report_id = $1", [report.id])).rows[0]!.case_id);

    const dc = deciderCase({ caseId: `dc-priv-${i}`, subject: m });
    await cases.applyDeciderCase(dc);
    caseIds.add(dc.caseId);

    if (ch) {
      const at = new Date(Date.now() - 3_600_000).toISOString().slice(0, 19).replace("T", " ");
      await ch.insert("reports", [
        { id: `chr-${i}`, message_id: `chm-${i}`, received_at: at, gateway_id: "gw", short_code: "10086999", reporter_hash: `h${i}`, reported_number: i % 2 ? wm : m, content: `访问 ${m}.cn 领奖 ${w}`, raw_text: "x", status: "parsed", parse_error: null, allow_listed: 0 },
      ]);
    }
  }

  // Decisions by a reviewer: comments quote numbers; one "not spam" decision over a case whose rule detail quotes one.
  const decide = async (id: string, label: "spam" | "ham", comment: string, category = "FR_Financial") => {
    expect((await call("rev", "POST", `/api/cases/${encodeURIComponent(id)}/claim`)).status).toBe(200);
    const body = label === "spam" ? { label, category, comment } : { label, comment };
    expect((await call("rev", "POST", `/api/cases/${encodeURIComponent(id)}/decide`, body)).status).toBe(200);
  };
  const [s0, s1] = SAMPLES;
  await decide("msg:probe-vx", "ham", "用户 13800138000 申诉，核实为正常");
  withheldCases.push("msg:probe-vx");
  await decide("msg:priv-1", "spam", `冒充客服，回电 ${s1![1]}`);
  await decide("msg:priv-2", "spam", `同一号码 ${s0![3]}`);
  await decide("msg:priv-4", "spam", "贷款广告，不是诈骗", "AD_Loan");
}, 240_000);

afterAll(async () => {
  await api?.stop();
  await pool?.end();
  await db?.drop();
  if (ch) {
    await ch.command(sql`DROP DATABASE IF EXISTS ${ident(chDatabase)}`);
    await ch.close();
  }
});

describe("privacy: nothing an analyst can call returns a full number", () => {
  it("queue, case details, sender traffic, analytics, exports and errors", async () => {
    for (const status of ["open", "escalated"]) {
      const q = await call("ana", "GET", `/api/queue?status=${status}&limit=200`);
      expect(q.status).toBe(200);
      for (const c of (JSON.parse(q.body) as { items: { id: string }[] }).items) caseIds.add(c.id);
    }
    expect(caseIds.size).toBeGreaterThan(20);
    for (const id of caseIds) {
      const d = await call("ana", "GET", `/api/cases/${encodeURIComponent(id)}`);
      expect(d.status, id).toBe(200);
      expect((await call("ana", "GET", `/api/cases/${encodeURIComponent(id)}/sender-traffic`)).status, id).toBe(200);
    }
    for (const path of [
      "/api/analytics/spam-volume",
      "/api/analytics/reports",
      "/api/analytics/top-reported?kind=sender&limit=100",
      "/api/analytics/top-reported?kind=domain&limit=100",
      "/api/analytics/top-reported?kind=campaign&limit=100",
      "/api/analytics/report-outcome",
      "/api/analytics/rules",
      "/api/analytics/throughput",
      "/api/export/fraud-cases.csv",
      "/api/auth/me",
    ]) {
      expect((await call("ana", "GET", path)).status, path).toBe(200);
    }
    // Errors quote what was asked for: a number in the URL comes back masked.
    const n = seededNumbers[0]!;
    expect((await call("ana", "GET", `/api/cases/${n}`)).status).toBe(404);
    expect((await call("ana", "GET", `/api/cases/case-sender-${n}-1/sender-traffic`)).status).toBe(404);
    expect((await call("ana", "GET", `/api/nope/${n}`)).status).toBe(404);
    const reveal = await call("ana", "POST", `/api/cases/${n}/reveal`, { field: "sender", reason: `because ${n}` });
    expect(leaks).toEqual([]);
    expect(reveal.status).toBe(403);
  });

  it("reviewers and admins read masked numbers too: full ones only through an audited reveal", async () => {
    leaks.length = 0;
    for (const who of ["rev", "adm"]) {
      expect((await call(who, "GET", "/api/queue?limit=200")).status).toBe(200);
      for (const id of caseIds) expect((await call(who, "GET", `/api/cases/${encodeURIComponent(id)}`)).status, id).toBe(200);
      expect((await call(who, "GET", "/api/analytics/top-reported?kind=sender&limit=100")).status).toBe(200);
    }
    expect(leaks).toEqual([]);
  });

  it("the API's log lines (requests, errors) carry no full number", async () => {
    expect(apiLog.length).toBeGreaterThan(50);
    const leaked = apiLog.filter((line) => seededNumbers.some((n) => digitsOf(line).includes(n)));
    expect(leaked).toEqual([]);
  });

  it("a rule's detail is withheld wherever the text is, also after a not-spam decision", async () => {
    for (const id of withheldCases) {
      for (const who of ["ana", "rev", "adm"]) {
        const d = JSON.parse((await call(who, "GET", `/api/cases/${encodeURIComponent(id)}`)).body) as { text: string | null; contributions: { detail: string | null }[] };
        expect(d.text, `${who} ${id}`).toBeNull();
        expect(d.contributions.map((c) => c.detail), `${who} ${id}`).toEqual(d.contributions.map(() => null));
      }
    }
  });

  it("the regulator export has only confirmed fraud, masked for analysts, full for admins", async () => {
    const csv = (await call("ana", "GET", "/api/export/fraud-cases.csv")).body;
    const rows = csv.trim().split("\r\n").slice(1);
    expect(rows.length).toBe(2);
    for (const r of rows) expect(r).toContain("FR_Financial");
    const admin = (await call("adm", "GET", "/api/export/fraud-cases.csv")).body;
    expect(SAMPLES.slice(1, 3).some(([, , m]) => admin.includes(m))).toBe(true);
  });
});
