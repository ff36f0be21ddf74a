import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { sql, v } from "@spam/clickhouse";
import { DEMO_SMPP_ACCOUNTS } from "@spam/infra-local";
import { hashReporter } from "@spam/report-parser";
import { createApiUser, eventually, startPipeline, type Pipeline, type TestStack } from "../support/index.js";
import { SmppLimitError, StandardEsme } from "./journey-client.js";

/**
 * Issue 19's journey, as a subscriber base and a review floor meet it: a standard SMPP 3.4 client binds with
 * the demo accounts, a campaign runs from several senders, subscribers report it in the forms people type,
 * a reviewer decides the campaign over HTTP, and every reporter hears the truth about their own report.
 * Real broker, ClickHouse and PostgreSQL; gateway, scorer, sink, decider and api as real processes.
 */
const SHORT_CODE = "10086999";
const REVIEWER = { username: "journey-reviewer", password: "journey-reviewer-pass-1" };
const REPORTER_HASH_KEY = "e2e-journey-reporter-hash-key-0123456789";
const REPORT_ID = /您的举报已受理，编号(R[0-9A-Z]+)/;

// Campaign senders (A has several reporters, B one two-step reporter, C none) and a sender the policy blocks (D).
const A = "17012340011";
const B = "17112340022";
const C = "17212340033";
const D = "17312340044";
const CAMPAIGN = "【速递】您的包裹因地址不详被退回，请点击 http://parcel-refund.top 登记理赔";
// Long enough for message_payload; the same text the flows test shows is scored spam.
const SPAM_D = "代开各类发票，增值税专用发票保真，可先验票后付款，全国包邮，量大从优，长期合作另有优惠，联系V信 fp2026 或致电客服";
const R = {
  a1: "13901021001", a2: "13901021002", aFake: "13901021005", b: "13901021003", c: "13901021004", help: "13901021006",
  d1: "13901021007", d2: "13901021008", d3: "13901021009",
};

type Summary = { id: string; subjectKind: "sender" | "campaign"; sender: string; campaignId: string | null; reports: number; status: string };
type Detail = Summary & { closedReason: string | null; reportList: Array<{ reportId: string; verification: string }>; messageList: unknown[] };

describe("the journey of issue 19: a campaign reported in every common form and decided once", () => {
  let pipeline: Pipeline;
  let stack: TestStack;
  let db: pg.Pool;
  const clients: StandardEsme[] = [];
  let port: number;
  let apiUrl: string;
  let mo: StandardEsme;
  let replies: StandardEsme;

  const api = async <T>(method: "GET" | "POST", path: string, token: string | null, body?: unknown): Promise<{ status: number; body: T }> => {
    const headers: Record<string, string> = {};
    if (token) headers["authorization"] = `Bearer ${token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${apiUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json()) as T };
  };
  /** A whole reply delivered to a subscriber on the reply account that matches. */
  const reply = (msisdn: string, match: RegExp, timeoutMs = 45_000) =>
    eventually(async () => replies.deliveredTo(msisdn).map((t) => match.exec(t)).find((m) => m !== null) ?? undefined, timeoutMs, 100);
  const verdictOf = (source: string, destination: string) =>
    eventually(async () => {
      const rows = await stack.ch.query(
        sql`SELECT label, campaign_id FROM verdicts FINAL WHERE source = ${v.string(source)} AND destination = ${v.string(destination)}`,
        z.object({ label: z.string(), campaign_id: z.string().nullable() }),
      );
      return rows[0];
    }, 45_000, 200);
  const report = async (from: string, text: string): Promise<string> => {
    await mo.submit(text, { source: from, destination: SHORT_CODE });
    return (await reply(from, REPORT_ID))[1]!;
  };
  const casesOf = async (subject: string) =>
    (await db.query<{ id: string; status: string; closed_reason: string | null }>("SELECT id, status, closed_reason FROM review_cases WHERE subject = $1 ORDER BY opened_at", [subject])).rows;

  beforeAll(async () => {
    pipeline = await startPipeline("e2e_journey", {
      reporterHashKey: REPORTER_HASH_KEY,
      // A wide suspect band, so single messages are flagged for a person (sender cases with message evidence).
      scorerEnv: { SUSPECT_THRESHOLD: "0.5", SPAM_THRESHOLD: "0.95" },
      before: async (s, p) => {
        await createApiUser(p.url, REVIEWER.username, "reviewer", REVIEWER.password);
        // Fresh reporters alone never auto-block: one of D's reporters had a report upheld by review before.
        const at = Math.floor(Date.now() / 1000) - 86_400;
        await s.ch.insert("report_outcomes", [
          { report_id: "journey-upheld", case_id: "c_seed", outcome: "blocked", decided_by: "reviewer:seed", reporter_hash: hashReporter(R.d1, REPORTER_HASH_KEY), report_received_at: at, decided_at: at, report_to_outcome_s: 0 },
        ]);
      },
    });
    ({ stack, smppPort: port, apiUrl } = pipeline);
    db = new pg.Pool({ connectionString: pipeline.pgdb.url, max: 2 });
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await db?.end();
    const codes = await pipeline?.stop();
    // Every service drains and exits 0 on SIGTERM.
    expect(codes).toEqual([0, 0, 0, 0, 0]);
  });

  it("a standard SMPP 3.4 client binds with every demo account and refuses credentials longer than the specification allows", async () => {
    const host = "127.0.0.1";
    await expect(StandardEsme.bind({ host, port, systemId: DEMO_SMPP_ACCOUNTS.mo.systemId, password: "demo-pass" })).rejects.toThrow(SmppLimitError);
    await expect(StandardEsme.bind({ host, port, systemId: "a-system-id-of-16", password: "x" })).rejects.toThrow(/system_id has 17 characters/);
    for (const a of Object.values(DEMO_SMPP_ACCOUNTS)) {
      expect(a.password.length).toBeLessThanOrEqual(8);
      expect(a.systemId.length).toBeLessThanOrEqual(15);
    }
    mo = await StandardEsme.bind({ host, port, systemId: DEMO_SMPP_ACCOUNTS.mo.systemId, password: DEMO_SMPP_ACCOUNTS.mo.password });
    replies = await StandardEsme.bind({ host, port, systemId: DEMO_SMPP_ACCOUNTS.replies.systemId, password: DEMO_SMPP_ACCOUNTS.replies.password, mode: "receiver" });
    const a2p = await StandardEsme.bind({ host, port, systemId: DEMO_SMPP_ACCOUNTS.a2p.systemId, password: DEMO_SMPP_ACCOUNTS.a2p.password, mode: "transmitter" });
    clients.push(mo, replies, a2p);
  });

  it("one case per subject; deciding the campaign settles its senders' cases and every reporter hears the truth about their report; an automatic block closes the cases it makes moot", async () => {
    // Traffic: one campaign from three senders, and D's spam to three subscribers.
    const deliveries: Array<[string, string, string]> = [
      [A, R.a1, CAMPAIGN], [A, R.a2, CAMPAIGN], [B, R.b, CAMPAIGN], [C, R.c, CAMPAIGN],
      [D, R.d1, SPAM_D], [D, R.d2, SPAM_D], [D, R.d3, SPAM_D],
    ];
    for (const [from, to, text] of deliveries) await mo.submit(text, { source: from, destination: to });
    const verdicts = await Promise.all(deliveries.map(([from, to]) => verdictOf(from, to)));
    const campaignId = verdicts[0]!.campaign_id!;
    expect(campaignId).toBeTruthy();
    expect(verdicts.slice(0, 4).map((x) => x.campaign_id)).toEqual([campaignId, campaignId, campaignId, campaignId]);

    // Reports in the forms people type: ASCII star, full-width star, a spaced number, content first then the number.
    const ids = {
      a1: await report(R.a1, `${A}*${CAMPAIGN}`),
      a2: await report(R.a2, `${A}＊${CAMPAIGN}`),
      // Never received anything from A: the report is fabricated.
      aFake: await report(R.aFake, `举报 ${A.slice(0, 3)} ${A.slice(3, 7)} ${A.slice(7)} ＊ ${CAMPAIGN}`),
    };
    await mo.submit(CAMPAIGN, { source: R.b, destination: SHORT_CODE });
    await reply(R.b, /请在\d+分钟内回复被举报的号码/);
    const bId = await report(R.b, B);
    // A help keyword gets the format help, not the two-step prompt.
    await mo.submit("帮助", { source: R.help, destination: SHORT_CODE });
    await reply(R.help, new RegExp(`举报格式：被举报号码\\*短信内容[^]*发送至${SHORT_CODE}`));
    expect(replies.deliveredTo(R.help).join("")).not.toMatch(/回复被举报的号码/);
    const dIds = [await report(R.d1, `${D}*${SPAM_D}`), await report(R.d2, `${D}*${SPAM_D}`), await report(R.d3, `${D}*${SPAM_D}`)];

    // D: verified reporters, one established, and the classifier agrees: blocked by the policy, each reporter told.
    for (const [i, r] of [R.d1, R.d2, R.d3].entries()) await reply(r, new RegExp(`编号${dIds[i]}）经核实为垃圾短信`));

    const token = (await api<{ token: string }>("POST", "/api/auth/login", null, REVIEWER)).body.token;
    const queue = async () => (await api<{ items: Summary[] }>("GET", "/api/queue?limit=200", token)).body.items;
    const masked = (n: string) => (s: Summary) => s.subjectKind === "sender" && s.sender.startsWith(n.slice(0, 3)) && s.sender.endsWith(n.slice(-2));
    // The queue: one case for A with its three reports, one for B, one for the campaign.
    const ready = await eventually(async () => {
      const items = await queue();
      const a = items.filter(masked(A));
      const b = items.filter(masked(B));
      const cmp = items.filter((s) => s.subjectKind === "campaign" && s.campaignId === campaignId);
      return a[0]?.reports === 3 && b[0]?.reports === 1 && cmp.length > 0 ? { items, a, b, cmp } : undefined;
    }, 60_000, 300);
    expect(ready.a).toHaveLength(1);
    expect(ready.b).toHaveLength(1);
    expect(ready.cmp).toHaveLength(1);
    expect(ready.items.filter(masked(C)).length).toBeLessThanOrEqual(1);
    expect(ready.items.filter(masked(D))).toHaveLength(0);
    for (const s of ready.items) expect(s.id).not.toContain(A);
    const aCase = ready.a[0]!.id;
    const aDetail = (await api<Detail>("GET", `/api/cases/${encodeURIComponent(aCase)}`, token)).body;
    expect(Object.fromEntries(aDetail.reportList.map((r) => [r.reportId, r.verification]))).toEqual({ [ids.a1]: "verified", [ids.a2]: "verified", [ids.aFake]: "fabricated" });

    // D's automatic block closed its case and D's one-sender campaign with reasons the console translates.
    const dCases = await eventually(async () => {
      const rows = await casesOf(D);
      return rows.length > 0 && rows.every((r) => r.status === "decided") ? rows : undefined;
    }, 30_000, 200);
    expect(dCases.map((r) => r.closed_reason)).toEqual(["policy.verified_reporters"]);
    const dCampaign = verdicts[4]!.campaign_id!;
    expect(dCampaign).toBeTruthy();
    const moot = await eventually(async () => (await casesOf(dCampaign)).find((r) => r.status === "decided"), 20_000, 200);
    expect(moot.closed_reason).toBe("senders_blocked");
    const dDetail = (await api<Detail>("GET", `/api/cases/${encodeURIComponent(dCases[0]!.id)}`, token)).body;
    expect(dDetail).toMatchObject({ status: "decided", closedReason: "policy.verified_reporters" });

    // The reviewer decides the campaign, once.
    const cmpId = ready.cmp[0]!.id;
    expect((await api("POST", `/api/cases/${encodeURIComponent(cmpId)}/claim`, token)).status).toBe(200);
    const decided = await api<{ decidedCases: string[] }>("POST", `/api/cases/${encodeURIComponent(cmpId)}/decide`, token, {
      label: "spam",
      category: "FR_Other",
      comment: "journey: parcel refund campaign",
    });
    expect(decided.status).toBe(200);
    expect(decided.body.decidedCases).toEqual(expect.arrayContaining([cmpId, aCase, ready.b[0]!.id]));

    // Every reporter of a settled case hears the outcome, with the text that follows what was verified about their report.
    await reply(R.a1, new RegExp(`编号${ids.a1}）经核实为垃圾短信`));
    await reply(R.a2, new RegExp(`编号${ids.a2}）经核实为垃圾短信`));
    await reply(R.b, new RegExp(`编号${bId}）经核实为垃圾短信`));
    const fake = await reply(R.aFake, new RegExp(`编号${ids.aFake}）[^]*未能`));
    expect(fake.input).not.toContain("经核实为垃圾短信");
    expect(replies.deliveredTo(R.aFake).join("")).not.toContain("经核实为垃圾短信");

    // Nothing of the subjects is left in the queue; the settled sender case says why it closed.
    const after = await queue();
    expect(after.filter((s) => masked(A)(s) || masked(B)(s) || masked(C)(s) || s.campaignId === campaignId)).toEqual([]);
    expect((await api<Detail>("GET", `/api/cases/${encodeURIComponent(aCase)}`, token)).body).toMatchObject({ status: "decided", closedReason: "campaign_decided" });
    // Every sender of the campaign is blocked, the one without a case too.
    const stateOf = async (sender: string) =>
      (await stack.ch.query(
        sql`SELECT state FROM blocklist_versions FINAL WHERE key = ${v.string(`sender:${sender}`)} ORDER BY version DESC LIMIT 1`,
        z.object({ state: z.string() }),
      ))[0]?.state;
    const blocked = await eventually(async () => {
      const states = await Promise.all([A, B, C].map(stateOf));
      return states.every((s) => s === "active") ? [A, B, C] : undefined;
    }, 30_000, 300);
    expect(blocked).toEqual([A, B, C]);
  });
});
