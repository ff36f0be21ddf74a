import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserStore, type User } from "../auth/users.js";
import { migratePg } from "../db/migrate.js";
import { createPool } from "../db/pool.js";
import { ApiError } from "../errors.js";
import { createTestDatabase } from "../testing/postgres.js";
import { deciderCase, flaggedVerdict, parsedReport, reportAssessed } from "../testing/fixtures.js";
import { CaseStore } from "./cases.js";
import { ingestDecisionEvents, ingestReports, ingestVerdicts } from "./intake.js";

const logger = pino({ level: "silent" });
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: ReturnType<typeof createPool>;
let store: CaseStore;
const reviewers: User[] = [];

beforeAll(async () => {
  db = await createTestDatabase("cases");
  pool = createPool(db.url, 40);
  await migratePg(pool, logger);
  const users = new UserStore(pool, 3_600_000);
  for (const name of ["ana", "bob", "cai", "dong"]) reviewers.push(await users.createUser({ username: name, role: "reviewer", password: "long-enough-pw" }));
  store = new CaseStore(pool, { slaHours: 48, claimTtlMinutes: 15, effects: { blockTtlMs: 86_400_000, shortCode: "10086999" } });
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

let senderSeq = 0;
/** A sender of its own: one case per subject, so tests that want separate cases use separate senders. */
const own = () => `1350000${String(senderSeq++).padStart(4, "0")}`;

const code = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => (e instanceof ApiError ? e.code : String(e)));

describe("case store on PostgreSQL", () => {
  it("migrations are idempotent and refuse a changed file", async () => {
    expect(await migratePg(pool, logger)).toEqual([]);
  });

  it("intake is idempotent and one case per subject: a flagged message and a report of one sender are one case (issue 19)", async () => {
    const v = flaggedVerdict({ source: "13000000001" });
    await ingestVerdicts(store, [v, v]);
    const r = parsedReport({ reportedNumber: "13000000001" });
    await ingestReports(store, [r, r]);
    const { items } = await store.queue({ limit: 200, offset: 0 });
    const mine = items.filter((c) => c.sender === "13000000001");
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ kind: "report", subject_kind: "sender", subject: "13000000001", report_count: 1 });
    expect((await store.messages(mine[0]!.id)).map((m) => m.message_id)).toEqual([v.messageId]);
    expect((await store.reports(mine[0]!.id)).map((x) => x.report_id)).toEqual([r.id]);
  });

  it("a case records the model version of the verdict that flagged its latest message (issue 22)", async () => {
    await ingestVerdicts(store, [flaggedVerdict({ source: "13000000031", modelVersion: "live-a" })]);
    await ingestVerdicts(store, [flaggedVerdict({ source: "13000000031", modelVersion: "live-b" })]);
    const { items } = await store.queue({ limit: 200, offset: 0 });
    const mine = items.filter((c) => c.sender === "13000000031");
    expect(mine).toHaveLength(1);
    expect(mine[0]!.model_version).toBe("live-b");
  });

  it("a text the raw reader takes in while a case is being opened still reaches the case", async () => {
    // The raw reader caches the text and fills cases that exist; here that happens after the intake
    // looked the text up and before its write commits, so that fill finds nothing to fill.
    const cache = new Map<string, string>();
    const arrivesDuring = (id: string, text: string) => async () => {
      cache.set(id, text);
      await store.fillTexts([[id, text]]);
    };
    const racing = (id: string, text: string): CaseStore => {
      const arrive = arrivesDuring(id, text);
      return new Proxy(store, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver) as unknown;
          if (prop !== "upsertCase" && prop !== "applyReportAssessed") return typeof value === "function" ? value.bind(target) : value;
          return async (...args: unknown[]) => {
            await arrive();
            return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          };
        },
      });
    };
    const v = flaggedVerdict({ messageId: "late-text-1", source: "13000000077" });
    await ingestVerdicts(racing(v.messageId, "包裹被扣留，请缴纳关税"), [v], { textOf: (id) => cache.get(id) });
    expect((await store.get(`msg:${v.messageId}`)).text).toBe("包裹被扣留，请缴纳关税");

    const dCase = deciderCase({ subject: "13000000078" });
    await ingestDecisionEvents(store, [dCase]);
    const assessed = reportAssessed({ caseId: dCase.caseId, reportedNumber: "13000000078", matchedMessageId: "late-text-2" });
    await ingestDecisionEvents(racing("late-text-2", "您的积分即将清零"), [assessed], {
      reportContent: () => undefined,
      messageText: (id) => cache.get(id),
    });
    expect((await store.get(dCase.caseId)).text).toBe("您的积分即将清零");
  });

  it("counts each campaign member once and keeps a few samples", async () => {
    const a = flaggedVerdict({ campaignId: "camp-1", label: "spam", action: "block", score: 0.97 });
    const b = flaggedVerdict({ campaignId: "camp-1", label: "spam", action: "block", score: 0.93 });
    await ingestVerdicts(store, [a, b, a], { textOf: (id) => `text of ${id}` });
    const c = await store.get("cmp:camp-1");
    expect(c.recipients).toBe(2);
    expect(c.samples).toHaveLength(2);
  });

  it("two reviewers racing for the same case: exactly one wins", async () => {
    await ingestVerdicts(store, [flaggedVerdict({ messageId: "race-1", source: own() })]);
    const results = await Promise.all(reviewers.map((u) => code(store.claim("msg:race-1", u))));
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(results.filter((r) => r === "already_claimed")).toHaveLength(reviewers.length - 1);
  });

  it("concurrent claim-next never hands the same case to two reviewers", async () => {
    await ingestVerdicts(store, Array.from({ length: 30 }, (_, i) => flaggedVerdict({ source: own(), score: 0.5 + i / 100 })));
    const claimed = await Promise.all(
      Array.from({ length: 24 }, (_, i) => store.claimNext(reviewers[i % reviewers.length] as User, {})),
    );
    const ids = claimed.flatMap((c) => (c ? [c.id] : []));
    expect(ids.length).toBe(24);
    expect(new Set(ids).size).toBe(ids.length);
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM review_cases WHERE claimed_by IS NOT NULL");
    expect(rows[0].n).toBe(25); // 24 + the raced case above
  });

  it("an expired claim is free again; release gives it back; only the holder may decide", async () => {
    const [u1, u2] = reviewers as [User, User];
    await ingestVerdicts(store, [flaggedVerdict({ messageId: "exp-1", source: own() })]);
    await store.claim("msg:exp-1", u1);
    expect(await code(store.decide("msg:exp-1", u2, { label: "ham", category: null, comment: "", wholeCampaign: false }))).toBe("claim_required");
    await pool.query("UPDATE review_cases SET claim_expires = now() - interval '1 second' WHERE id = 'msg:exp-1'");
    expect(await code(store.decide("msg:exp-1", u1, { label: "ham", category: null, comment: "", wholeCampaign: false }))).toBe("claim_required");
    expect(await code(store.claim("msg:exp-1", u2))).toBe("ok");
    await store.release("msg:exp-1", u2);
    expect(await code(store.release("msg:exp-1", u2))).toBe("claim_required");
    expect(await code(store.claim("msg:exp-1", u1))).toBe("ok");
  });

  it("a decision closes the case, records the reporters' outcome and writes labels/blocks to the outbox in one transaction", async () => {
    const [u1] = reviewers as [User];
    const r = parsedReport({ reportedNumber: "13111111111", content: "中奖了！点击 http://win-prize.cc 领取" });
    await ingestReports(store, [r]);
    // Case ids are opaque: find the case through its report.
    const caseId = (await pool.query<{ case_id: string }>("SELECT case_id FROM case_reports WHERE report_id = $1", [r.id])).rows[0]!.case_id;
    await store.claim(caseId, u1);
    const before = await pool.query("SELECT count(*)::int AS n FROM outbox");
    const result = await store.decide(caseId, u1, { label: "spam", category: "fraud", comment: "中奖诈骗", wholeCampaign: false });
    expect(result.decidedCases).toEqual([caseId]);
    const { rows } = await pool.query("SELECT topic_key, payload FROM outbox WHERE id > 0 ORDER BY id OFFSET $1", [before.rows[0].n]);
    // Reporters' numbers are only in the restricted contact store: the API has none to answer with.
    expect(rows.map((x: { topic_key: string }) => x.topic_key).sort()).toEqual(["blocklist", "blocklist", "reviewLabels"]);
    expect(JSON.stringify(rows)).not.toContain(r.reporterMsisdn);
    expect((await store.reports(caseId))[0]).toMatchObject({ outcome: "spam", reporter_hash: r.reporterHash });
    expect(await code(store.claim(caseId, u1))).toBe("already_decided");
    expect(await code(store.decide(caseId, u1, { label: "ham", category: null, comment: "", wholeCampaign: false }))).toBe("already_decided");
    // A new report on the same number after the decision opens a new case.
    await ingestReports(store, [parsedReport({ reportedNumber: "13111111111" })]);
    const open = await store.queue({ limit: 200, offset: 0 });
    expect(open.items.some((c) => c.sender === "13111111111" && c.id !== caseId)).toBe(true);
  });

  it("deciding a campaign spam blocks its senders and settles their open cases, even one another reviewer holds; their reporters are answered through the decider (issue 19)", async () => {
    const [u1, u2] = reviewers as [User, User];
    const senders = [own(), own(), own()];
    const members = senders.map((source) => flaggedVerdict({ source, campaignId: "camp-2" }));
    // A fourth sender of the campaign whose message was blocked outright: no case, still a sender of the campaign.
    const blockedOnly = flaggedVerdict({ source: own(), campaignId: "camp-2", label: "spam", action: "block", score: 0.99 });
    await ingestVerdicts(store, [...members, blockedOnly], { textOf: () => "您的包裹滞留，请点击 http://parcel-fee.top 缴费" });
    // The first sender has reports: the decider owns that side of the case.
    const dCase = deciderCase({ subject: senders[0]! });
    await ingestDecisionEvents(store, [reportAssessed({ caseId: dCase.caseId, reportedNumber: senders[0]!, verification: "fabricated" }), dCase]);
    const held = `msg:${members[1]!.messageId}`;
    await store.claim(held, u2);
    await store.claim("cmp:camp-2", u1);
    const before = (await pool.query("SELECT coalesce(max(id), 0)::int AS n FROM outbox")).rows[0].n;
    const result = await store.decide("cmp:camp-2", u1, { label: "spam", category: "fraud", comment: "包裹诈骗群发", wholeCampaign: false });
    const senderCases = await Promise.all(senders.map(async (s) => (await pool.query("SELECT id FROM review_cases WHERE subject = $1", [s])).rows.map((r: { id: string }) => r.id)));
    expect(senderCases.every((ids) => ids.length === 1)).toBe(true);
    expect(result.decidedCases.sort()).toEqual(["cmp:camp-2", ...senderCases.flat()].sort());
    for (const id of senderCases.flat()) {
      expect(await store.get(id)).toMatchObject({ status: "decided", decision: "spam", closed_reason: "campaign_decided", claimed_by: null });
    }
    const { rows } = await pool.query<{ topic_key: string; payload: { caseId?: string; deciderCaseId?: string; kind?: string; value?: string } }>("SELECT topic_key, payload FROM outbox WHERE id > $1", [before]);
    // The decider reads the label under its own case id and answers that case's reporters with what was verified about each.
    const labels = rows.filter((r) => r.topic_key === "reviewLabels").map((r) => r.payload);
    expect(labels).toContainEqual(expect.objectContaining({ caseId: senderCases[0]![0], deciderCaseId: dCase.caseId }));
    // Every sender of the campaign is blocked, the one whose case the decider owns too (it renews the block when it reads the label).
    const blocked = rows.filter((r) => r.topic_key === "blocklist" && r.payload.kind === "sender").map((r) => r.payload.value).sort();
    expect(blocked).toEqual([...senders, blockedOnly.source].sort());
    expect(rows.some((r) => r.topic_key === "blocklist" && r.payload.kind === "fingerprint" && r.payload.value === "camp-2")).toBe(true);
    expect(rows.some((r) => r.topic_key === "blocklist" && r.payload.kind === "domain" && r.payload.value === "parcel-fee.top")).toBe(true);
  });

  it("whole campaign from a sender case decides the campaign's case too, unless another reviewer holds it", async () => {
    const [u1, u2] = reviewers as [User, User];
    const a = flaggedVerdict({ source: own(), campaignId: "camp-3" });
    const b = flaggedVerdict({ source: own(), campaignId: "camp-4" });
    await ingestVerdicts(store, [a, b]);
    await store.claim(`msg:${a.messageId}`, u1);
    const one = await store.decide(`msg:${a.messageId}`, u1, { label: "ham", category: null, comment: "", wholeCampaign: true });
    expect(one.decidedCases.sort()).toEqual(["cmp:camp-3", `msg:${a.messageId}`]);
    await store.claim("cmp:camp-4", u2);
    await store.claim(`msg:${b.messageId}`, u1);
    const two = await store.decide(`msg:${b.messageId}`, u1, { label: "ham", category: null, comment: "", wholeCampaign: true });
    expect(two.skippedCases).toEqual(["cmp:camp-4"]);
    expect((await store.get("cmp:camp-4")).status).toBe("open");
  });

  it("a flagged message about a sender whose decider case is open joins that case, escalated ones too", async () => {
    const [u1] = reviewers as [User];
    const sender = own();
    const dCase = deciderCase({ subject: sender });
    await ingestDecisionEvents(store, [reportAssessed({ caseId: dCase.caseId, reportedNumber: sender, verification: "verified" }), dCase]);
    await store.claim(dCase.caseId, u1);
    await store.decide(dCase.caseId, u1, { label: "escalate", category: null, comment: "需要主管确认", wholeCampaign: false });
    const v = flaggedVerdict({ source: sender });
    await ingestVerdicts(store, [v]);
    const { rows } = await pool.query("SELECT id, status FROM review_cases WHERE subject = $1", [sender]);
    expect(rows).toEqual([{ id: dCase.caseId, status: "escalated" }]);
    expect((await store.messages(dCase.caseId)).map((m) => m.message_id)).toEqual([v.messageId]);
  });

  it("an automatic block closes the sender's case, its flagged messages with it, and campaign cases it makes moot, with a reason code (issue 19)", async () => {
    const sender = own();
    const v = flaggedVerdict({ source: sender, campaignId: "camp-5" });
    await ingestVerdicts(store, [v]);
    const dCase = deciderCase({ subject: sender });
    await ingestDecisionEvents(store, [reportAssessed({ caseId: dCase.caseId, reportedNumber: sender, verification: "verified" }), dCase]);
    const caseId = `msg:${v.messageId}`;
    expect((await store.get(caseId)).decider_case_id).toBe(dCase.caseId);
    await ingestDecisionEvents(store, [
      { ...dCase, version: 2, state: "decided", decision: "blocked", decidedBy: "policy:velocity_high_score", rule: "velocity_high_score", reason: "velocity_high_score", decidedAt: Date.now() },
    ]);
    expect(await store.get(caseId)).toMatchObject({ status: "decided", decision: "spam", closed_reason: "policy.velocity_high_score" });
    expect(await store.get("cmp:camp-5")).toMatchObject({ status: "decided", closed_reason: "senders_blocked" });
    const q = await store.queue({ limit: 500, offset: 0 });
    expect(q.items.map((c) => c.id)).not.toContain(caseId);
    expect(q.items.map((c) => c.id)).not.toContain("cmp:camp-5");
  });

  it("escalation keeps the case visible in the escalated queue", async () => {
    const [u1] = reviewers as [User];
    await ingestVerdicts(store, [flaggedVerdict({ messageId: "esc-1", source: own() })]);
    await store.claim("msg:esc-1", u1);
    await store.decide("msg:esc-1", u1, { label: "escalate", category: null, comment: "不确定是否诈骗", wholeCampaign: false });
    const esc = await store.queue({ status: "escalated", limit: 50, offset: 0 });
    expect(esc.items.map((c) => c.id)).toContain("msg:esc-1");
  });

  it("ranks by uncertainty × reach × age and filters by source and age", async () => {
    const old = flaggedVerdict({ messageId: "old-1", source: own(), score: 0.52, scoredAt: Date.now() - 40 * 3_600_000 });
    await ingestVerdicts(store, [old]);
    const { items } = await store.queue({ source: "classifier", limit: 500, offset: 0 });
    expect(items[0]?.id).toBe("msg:old-1");
    const prios = items.map((c) => c.priority ?? 0);
    expect([...prios].sort((a, b) => b - a)).toEqual(prios);
    const aged = await store.queue({ minAgeHours: 24, limit: 50, offset: 0 });
    expect(aged.items.map((c) => c.id)).toEqual(["msg:old-1"]);
    const reports = await store.queue({ source: "report", limit: 50, offset: 0 });
    expect(reports.items.every((c) => c.source === "report")).toBe(true);
  });

  it("decider cases: versioned events, reports with verification, label-only decisions, policy decisions leave the queue", async () => {
    const [u1] = reviewers as [User];
    const open = deciderCase({ subject: "15500001111" });
    const assessed = reportAssessed({ caseId: open.caseId, reportedNumber: "15500001111", verification: "verified", similarity: 0.91 });
    // The assessment may arrive before the case event.
    await ingestDecisionEvents(store, [assessed, open, open], { reportContent: () => "举报内容", messageText: () => undefined });
    let c = await store.get(open.caseId);
    expect(c).toMatchObject({ owner: "decider", status: "open", report_count: 1, text: "举报内容", sender: "15500001111" });
    const reports = await store.reports(open.caseId);
    expect(reports[0]).toMatchObject({ verification: "verified" });
    // An older version does not overwrite a newer one.
    await ingestDecisionEvents(store, [{ ...open, version: 3, evidence: { ...open.evidence, reportCount: 4 } }, { ...open, version: 2, evidence: { ...open.evidence, reportCount: 2 } }]);
    expect((await store.get(open.caseId)).report_count).toBe(4);

    await store.claim(open.caseId, u1);
    const before = (await pool.query("SELECT coalesce(max(id), 0)::int AS n FROM outbox")).rows[0].n;
    await store.decide(open.caseId, u1, { label: "spam", category: "fraud", comment: "", wholeCampaign: false });
    const { rows } = await pool.query("SELECT topic_key, payload FROM outbox WHERE id > $1", [before]);
    expect(rows.map((r: { topic_key: string }) => r.topic_key)).toEqual(["reviewLabels"]);
    expect(rows[0].payload.caseId).toBe(open.caseId);
    // The decider echoes its decision (version 4) and answers the reporter: our record stays, the outcome is noted.
    await ingestDecisionEvents(store, [
      { ...open, version: 4, state: "decided", decision: "blocked", decidedBy: "reviewer:ana", decidedAt: Date.now() },
      { v: 1, type: "report_outcome", id: "o1", reportId: assessed.reportId, caseId: open.caseId, outcome: "blocked", decidedBy: "reviewer:ana", reporterHash: assessed.reporterHash, reportReceivedAt: assessed.reportReceivedAt, decidedAt: Date.now() },
    ]);
    c = await store.get(open.caseId);
    expect(c).toMatchObject({ status: "decided", decision: "spam", decision_category: "fraud" });
    expect((await store.reports(open.caseId))[0]?.outcome).toBe("spam");

    // A case the policy decided on its own never needs a person.
    const auto = deciderCase({ subject: "15500002222" });
    await ingestDecisionEvents(store, [auto, { ...auto, version: 2, state: "decided", decision: "blocked", decidedBy: "policy:verified_reporters", decidedAt: Date.now() }]);
    expect((await store.get(auto.caseId)).status).toBe("decided");
    const q = await store.queue({ limit: 500, offset: 0 });
    expect(q.items.some((x) => x.id === auto.caseId)).toBe(false);
  });
});
