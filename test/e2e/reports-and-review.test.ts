import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { REPO_ROOT } from "@spam/repo-paths";
import { sql, v } from "@spam/clickhouse";
import { hashReporter } from "@spam/report-parser";
import { EsmeClient, SMPP_STATUS, SmppClientError } from "@spam/smpp-client";
import {
  createApiUser,
  createTestStack,
  eventually,
  freePort,
  startServiceProcess,
  testPgDatabase,
  type ServiceProcess,
  type TestPgDatabase,
  type TestStack,
} from "../support/index.js";

/**
 * The whole pipeline as subscribers and review staff meet it (issues 4, 5, 6):
 * real broker, real ClickHouse, real PostgreSQL, and the gateway, scorer, sink,
 * decider and api as real processes. Reporters talk SMPP to the gateway; the
 * reviewer talks HTTP to the api.
 */
const SHORT_CODE = "10086999";
const NET = { systemId: "net", password: "secret-n" };
const REP = { systemId: "rep", password: "secret-r" };
const REVIEWER = { username: "e2e-reviewer", password: "e2e-reviewer-pass-1" };
const REPORT_ID = /编号(R[0-9A-Z]+)/;

// The auto-block bar of the policy the decider runs (rules/policy.yaml), so the test follows the file.
const policyText = readFileSync(resolve(REPO_ROOT, "rules/policy.yaml"), "utf8");
const policyNumber = (name: string): number => {
  const m = new RegExp(`^\\s*${name}:\\s*([0-9.]+)`, "m").exec(policyText);
  if (!m?.[1]) throw new Error(`rules/policy.yaml has no ${name}`);
  return Number(m[1]);
};
const MIN_REPORTERS = policyNumber("minDistinctVerifiedReporters");
// Fresh reporters alone never auto-block: the first reporter of the blocking scenario has a report upheld by review before.
const ESTABLISHED_REPORTER = "13901011000";
const REPORTER_HASH_KEY = "e2e-flows-reporter-hash-key-0123456789";

const ReportRow = z.object({ id: z.string(), status: z.string(), reported_number: z.string().nullable(), parse_error: z.string().nullable(), content: z.string().nullable() });
const BlockRow = z.object({ state: z.string(), created_by: z.string(), version: z.coerce.number(), evidence_report_ids: z.array(z.string()) });
const CountRow = z.object({ n: z.coerce.number() });

describe("reports, automatic blocks and review, end to end", () => {
  let stack: TestStack;
  let pgdb: TestPgDatabase;
  let services: ServiceProcess[] = [];
  const clients: EsmeClient[] = [];
  let smppPort: number;
  let apiUrl: string;
  let net: EsmeClient;

  /** A transceiver session, closed in afterAll. */
  const bind = async (account: { systemId: string; password: string }, bindAs: "transceiver" | "transmitter" = "transceiver") => {
    const c = await EsmeClient.connect({ host: "127.0.0.1", port: smppPort, ...account, bindAs });
    clients.push(c);
    return c;
  };

  /**
   * What the gateway delivered to a subscriber. The gateway is the SMSC side:
   * it sends a reply as deliver_sm addressed to the reporter's number through
   * any bound receiver, so every session is searched. A long reply arrives as
   * UDH parts, one after the other on one session; they are joined per session.
   */
  const deliveredTo = (msisdn: string): string[] =>
    clients.map((c) => c.inbox.filter((m) => m.destination === msisdn).map((m) => m.text).join("")).filter((t) => t.length > 0);
  const waitForReply = (msisdn: string, match: RegExp, timeoutMs = 30_000) =>
    eventually(async () => deliveredTo(msisdn).map((t) => match.exec(t)).find((m) => m !== null) ?? undefined, timeoutMs, 100);

  const chQuery = <T extends z.ZodTypeAny>(query: ReturnType<typeof sql>, schema: T) => stack.ch.query(query, schema);

  /** Waits until a message from `source` to `destination` is in ClickHouse with its verdict (what the decider verifies against). */
  const waitForVerdict = (source: string, destination: string) =>
    eventually(async () => {
      const rows = await chQuery(
        sql`SELECT label FROM verdicts FINAL WHERE source = ${v.string(source)} AND destination = ${v.string(destination)}
            AND message_id IN (SELECT id FROM traffic_raw WHERE source = ${v.string(source)})`,
        z.object({ label: z.string() }),
      );
      return rows[0]?.label;
    }, 30_000, 200);

  /** Submits from a blocked sender until the gateway stops it (the block list is followed, not polled). */
  const waitUntilStopped = (sender: string, text: string) =>
    eventually(async () => {
      try {
        await net.submit(text, { source: sender, destination: "13911110000" });
        return undefined; // still passes: the block has not reached the gateway yet
      } catch (e) {
        if (e instanceof SmppClientError) return e.commandStatus;
        throw e;
      }
    }, 30_000, 250);

  const api = async <T>(method: "GET" | "POST", path: string, token: string | null, body?: unknown): Promise<{ status: number; body: T }> => {
    const headers: Record<string, string> = {};
    if (token) headers["authorization"] = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${apiUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json()) as T };
  };

  beforeAll(async () => {
    stack = await createTestStack("e2e_flows");
    pgdb = testPgDatabase("e2e_flows");
    await createApiUser(pgdb.url, REVIEWER.username, "reviewer", REVIEWER.password);
    const at = Math.floor(Date.now() / 1000) - 86_400;
    await stack.ch.insert("report_outcomes", [
      { report_id: "seed-upheld", case_id: "c_seed", outcome: "blocked", decided_by: "reviewer:seed", reporter_hash: hashReporter(ESTABLISHED_REPORTER, REPORTER_HASH_KEY), report_received_at: at, decided_at: at, report_to_outcome_s: 0 },
    ]);
    smppPort = await freePort();
    const env = stack.serviceEnv;
    services = [
      startServiceProcess("gateway", {
        ...env,
        GATEWAY_ID: "gw-e2e-flows",
        SMPP_PORT: String(smppPort),
        SMPP_ACCOUNTS: `${NET.systemId}:${NET.password}:traffic:*,${REP.systemId}:${REP.password}:report+reply:*`,
        REPORTER_HASH_KEY,
        BLOCK_POLICY: "reject",
        METRICS_PORT: "0",
      }),
      // A wide "suspect" band, so the review flow's borderline message is flagged for a person rather than blocked outright.
      startServiceProcess("scorer", { ...env, CONSUMER_GROUP: `${stack.prefix}scorer`, SUSPECT_THRESHOLD: "0.5", SPAM_THRESHOLD: "0.95", METRICS_PORT: "0" }),
      startServiceProcess("sink", { ...env, CONSUMER_GROUP: `${stack.prefix}sink`, SINK_FETCH_MAX_WAIT_MS: "100", METRICS_PORT: "0" }),
      startServiceProcess("decider", { ...env, CONSUMER_GROUP: `${stack.prefix}decider`, METRICS_PORT: "0" }),
      startServiceProcess("api", {
        ...env,
        API_PORT: "0",
        DATABASE_URL: pgdb.url,
        CONSUMER_GROUP: "api-case-intake",
        API_DEMO_PASSWORD: "",
      }),
    ];
    const [apiService] = services.slice(-1);
    await Promise.all(services.slice(0, -1).map((s) => s.waitForLog((e) => e.msg === "started", 90_000)));
    const listening = await apiService!.waitForLog((e) => e.msg === "api listening" && typeof e.url === "string", 90_000);
    apiUrl = String(listening.url);
    net = await bind(NET, "transmitter");
  });

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    const codes = await Promise.all(services.map((s) => s.stop().catch(() => null)));
    await stack?.dispose();
    await pgdb?.drop().catch(() => undefined);
    // Every service drains and exits 0 on SIGTERM.
    expect(codes).toEqual(services.map(() => 0));
  });

  it(`verified reports from ${MIN_REPORTERS} reporters in several encodings block the sender at the gateway and every reporter hears back`, async () => {
    const sender = "17012340001";
    // Long enough that a report quoting it needs several SMS in UCS-2.
    const spam = "代开各类发票，增值税专用发票保真，可先验票后付款，全国包邮，量大从优，长期合作另有优惠，联系V信 fp2026 或致电客服";
    const reporters = Array.from({ length: MIN_REPORTERS }, (_, i) => `1390101${String(1000 + i)}`);
    expect(reporters[0]).toBe(ESTABLISHED_REPORTER);
    // How each reporter types and encodes the report: UCS-2 multipart (8-bit UDH reference), GB18030 (data_coding 15), full-width digits and star with a 16-bit reference, a space for the star.
    const styles: Array<{ text: (n: string) => string; dataCoding: number; concat?: "udh8" | "udh16" | "sar"; multipart: boolean }> = [
      { text: (n) => `${n}*${spam}`, dataCoding: 8, concat: "udh8", multipart: true },
      { text: (n) => `举报 +86 ${n.slice(0, 3)}-${n.slice(3, 7)}-${n.slice(7)} ＊ ${spam.slice(0, 40)}`, dataCoding: 15, multipart: false },
      { text: (n) => `００８６${n}＊${spam}`, dataCoding: 8, concat: "udh16", multipart: true },
      { text: (n) => `${n} ${spam}`, dataCoding: 8, concat: "udh8", multipart: true },
    ];

    // Each reporter first receives the spam (traffic through the gateway, so the decider can verify the report).
    // One more subscriber got it too and reports only after the block: answered with the outcome at once.
    const late = "13901019999";
    for (const r of [...reporters, late]) await net.submit(spam, { source: sender, destination: r });
    for (const r of [...reporters, late]) expect(await waitForVerdict(sender, r)).toBe("spam");

    const sessions = await Promise.all(reporters.map(() => bind(REP)));
    const reportIds: string[] = [];
    for (const [i, r] of reporters.entries()) {
      const style = styles[i % styles.length]!;
      const text = style.text(sender);
      const sent = await sessions[i]!.submit(text, { source: r, destination: SHORT_CODE, dataCoding: style.dataCoding, concat: style.concat ?? "udh8", reference: 40 + i });
      if (style.multipart) expect(sent.messageIds.length).toBeGreaterThan(1);
      // The acknowledgement, at once, with the report id.
      const ack = await waitForReply(r, /您的举报已受理，编号(R[0-9A-Z]+)/);
      reportIds.push(ack[1]!);
    }
    expect(new Set(reportIds).size).toBe(reporters.length);

    // The reports are in ClickHouse with their status and the normalised reported number.
    const rows = await eventually(async () => {
      const found = await chQuery(
        sql`SELECT id, status, reported_number, parse_error, content FROM reports FINAL WHERE has(${v.array(v.string, "String")(reportIds)}, id)`,
        ReportRow,
      );
      return found.length === reportIds.length ? found : undefined;
    }, 20_000);
    for (const row of rows) {
      expect(row).toMatchObject({ status: "parsed", reported_number: sender, parse_error: null });
      expect(spam.startsWith(row.content ?? "")).toBe(true);
    }
    // Reporters' numbers stay out of the analytics tables.
    const leaked = await chQuery(sql`SELECT count() AS n FROM reports WHERE has(${v.array(v.string, "String")(reporters)}, reporter_hash)`, CountRow);
    expect(leaked[0]?.n).toBe(0);

    // The decider blocks the sender by its policy, with the reports as evidence.
    const block = await eventually(async () => {
      const found = await chQuery(sql`SELECT state, created_by, version, evidence_report_ids FROM blocklist_versions FINAL WHERE key = ${v.string(`sender:${sender}`)} ORDER BY version DESC LIMIT 1`, BlockRow);
      return found[0];
    }, 30_000, 200);
    expect(block.state).toBe("active");
    expect(block.created_by).toBe("policy:verified_reporters");
    expect([...block.evidence_report_ids].sort()).toEqual([...reportIds].sort());

    // Every reporter gets the outcome.
    for (const [i, r] of reporters.entries()) {
      const outcome = await waitForReply(r, /经核实为垃圾短信/);
      expect(deliveredTo(r).join("")).toContain(`编号${reportIds[i]}）经核实为垃圾短信`);
      expect(outcome).not.toBeNull();
    }

    // The running gateway follows the block list: the sender's next submit_sm is refused, and that is recorded.
    const status = await waitUntilStopped(sender, spam);
    expect(status).toBe(SMPP_STATUS["ESME_RX_R_APPN"]);
    const enforced = await eventually(async () => {
      const found = await chQuery(
        sql`SELECT count() AS n FROM enforcement_events WHERE source = ${v.string(sender)} AND kind = 'sender' AND value = ${v.string(sender)} AND policy = 'reject'`,
        CountRow,
      );
      return (found[0]?.n ?? 0) > 0 ? found[0]!.n : undefined;
    }, 20_000);
    expect(enforced).toBeGreaterThanOrEqual(1);
    // A report on a sender already blocked (multipart with SAR TLVs) gets its acknowledgement and the outcome without a new case.
    const lateSession = await bind(REP);
    const lateSent = await lateSession.submit(`举报${sender}*${spam}`, { source: late, destination: SHORT_CODE, dataCoding: 8, concat: "sar", reference: 777 });
    expect(lateSent.messageIds.length).toBeGreaterThan(1);
    const lateId = (await waitForReply(late, REPORT_ID))[1]!;
    await waitForReply(late, new RegExp(`编号${lateId}）经核实为垃圾短信`));
    const lateRow = await eventually(async () => {
      const found = await chQuery(sql`SELECT id, status, reported_number, parse_error, content FROM reports FINAL WHERE id = ${v.string(lateId)}`, ReportRow);
      return found[0];
    }, 20_000);
    expect(lateRow).toMatchObject({ status: "parsed", reported_number: sender, content: spam });

    // Other senders still pass.
    await expect(net.submit("明天下午三点开会，别迟到", { source: "13800001234", destination: reporters[0]! })).resolves.toBeDefined();
  });

  it("a reviewer claims the top report case over HTTP, sees why it was flagged, decides it, and the block and the outcome reply follow", async () => {
    const sender = "13812340002";
    const reporter = "13901012000";
    // Suspect, not spam: the classifier flags it and a single report stays below the auto-block bar.
    const text = "恭喜您获得积分兑换资格，详情 http://t.cn/abc";
    await net.submit(text, { source: sender, destination: reporter });
    expect(await waitForVerdict(sender, reporter)).toBe("suspect");

    const session = await bind(REP);
    await session.submit(`${sender}*${text}`, { source: reporter, destination: SHORT_CODE, dataCoding: 8 });
    const reportId = (await waitForReply(reporter, REPORT_ID))[1]!;

    const login = await api<{ token: string; user: { role: string } }>("POST", "/api/auth/login", null, REVIEWER);
    expect(login.status).toBe(200);
    expect(login.body.user.role).toBe("reviewer");
    const token = login.body.token;
    expect((await api("GET", "/api/queue", null)).status).toBe(401);

    // The decider's case reaches the queue once it has assessed the report.
    type Summary = { id: string; source: string; sender: string; reports: number; status: string };
    // Case ids are opaque (nothing in them derives from a number); the only open report case is this sender's.
    const top = await eventually(async () => {
      const q = await api<{ items: Summary[] }>("GET", "/api/queue?source=report", token);
      const first = q.body.items[0];
      return first && first.sender.startsWith(sender.slice(0, 3)) && first.reports > 0 ? first : undefined;
    }, 30_000, 250);
    expect(top.id).toMatch(/^c_[a-z2-7]{20}$/);
    expect(top.id).not.toContain(sender);
    expect(top.sender).not.toContain(sender); // masked
    expect(top.sender.slice(0, 3)).toBe(sender.slice(0, 3));

    type Detail = Summary & {
      claimedByMe: boolean;
      text: string | null;
      contributions: Array<{ source: string; id: string; score: number }>;
      reportList: Array<{ reportId: string; verification: string }>;
    };
    const claimed = await api<{ case: Detail | null }>("POST", "/api/queue/claim-next", token, { source: "report" });
    expect(claimed.status).toBe(200);
    const c = claimed.body.case!;
    expect(c.id).toBe(top.id);
    expect(c.claimedByMe).toBe(true);
    // Why it was flagged: the scorer's rule and model contributions, the report and its verification.
    expect(c.contributions.map((x) => x.id)).toContain("domain.shorteners");
    expect(c.contributions.some((x) => x.source === "model")).toBe(true);
    expect(c.reportList).toEqual([expect.objectContaining({ reportId, verification: "verified" })]);
    expect(c.text).toContain("http://t.cn/abc");

    const decided = await api<{ decidedCases: string[] }>("POST", `/api/cases/${encodeURIComponent(c.id)}/decide`, token, {
      label: "spam",
      category: "FR_Other",
      comment: "e2e: shortened link bait",
    });
    expect(decided.status).toBe(200);
    expect(decided.body.decidedCases).toContain(c.id);

    // Label → decider → block-list change and the reporter's outcome reply, delivered over SMPP.
    const outcome = await waitForReply(reporter, /经核实为垃圾短信/);
    expect(outcome).not.toBeNull();
    expect(deliveredTo(reporter).join("")).toContain(`编号${reportId}）经核实为垃圾短信`);
    const label = await eventually(async () => {
      const found = await chQuery(sql`SELECT label, reviewer FROM review_labels FINAL WHERE case_id = ${v.string(c.id)}`, z.object({ label: z.string(), reviewer: z.string() }));
      return found[0];
    }, 20_000);
    expect(label.label).toBe("spam");
    const block = await eventually(async () => {
      const found = await chQuery(sql`SELECT state, created_by, version, evidence_report_ids FROM blocklist_versions FINAL WHERE key = ${v.string(`sender:${sender}`)} ORDER BY version DESC LIMIT 1`, BlockRow);
      return found[0];
    }, 20_000, 200);
    expect(block.state).toBe("active");
    expect(block.created_by).toMatch(/^reviewer:/);
    expect(await waitUntilStopped(sender, text)).toBe(SMPP_STATUS["ESME_RX_R_APPN"]);

    // The case left the queue.
    const after = await api<{ items: Summary[] }>("GET", "/api/queue?source=report", token);
    expect(after.body.items.map((x) => x.id)).not.toContain(c.id);
  });

  it("an unparseable report is stored with its error and gets the format help; a two-step report completes", async () => {
    const confused = "13901013000";
    const twoStep = "13901013001";
    const sessions = [await bind(REP), await bind(REP)];

    await sessions[0]!.submit("？？？", { source: confused, destination: SHORT_CODE, dataCoding: 8 });
    const help = await waitForReply(confused, /举报格式：被举报号码\*短信内容[^]*发送至10086999/);
    expect(help).not.toBeNull();

    const content = "您的账户存在风险，请点击 http://safe-bank.top 验证身份";
    await sessions[1]!.submit(content, { source: twoStep, destination: SHORT_CODE, dataCoding: 15 });
    await waitForReply(twoStep, /请在\d+分钟内回复被举报的号码/);
    await sessions[1]!.submit("1065 7512 3456", { source: twoStep, destination: SHORT_CODE });
    const reportId = (await waitForReply(twoStep, REPORT_ID))[1]!;

    const rows = await eventually(async () => {
      const found = await chQuery(
        sql`SELECT id, status, reported_number, parse_error, content FROM reports FINAL WHERE status IN ('unparseable', 'completed_two_step') AND received_at >= now() - 600`,
        ReportRow,
      );
      const done = found.find((r) => r.id === reportId && r.status === "completed_two_step");
      const bad = found.find((r) => r.status === "unparseable");
      return done && bad ? { done, bad } : undefined;
    }, 20_000);
    expect(rows.done).toMatchObject({ reported_number: "106575123456", content });
    expect(rows.bad.parse_error).toBeTruthy();
  });
});
