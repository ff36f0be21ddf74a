import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createClickHouse, ident, migrateDatabase, restrictedDatabase, sql, v, type ClickHouse } from "@spam/clickhouse";
import { topicNames, type BlockListEntry, type RawMessage, type Report, type ReviewLabel, type Verdict } from "@spam/contracts";
import { BatchingProducer, createKafkaClient, ensureTopics } from "@spam/kafka";
import { createSink, loadSinkEnv, type Sink } from "@spam/sink-service";
import { loadDeciderEnv } from "./env.js";
import { createDecider } from "./main.js";
import type { TrafficLookup } from "./verify.js";
import { repoPath } from "@spam/repo-paths";

// The decider and the sink against the real broker and ClickHouse 18.16.
const brokers = process.env.KAFKA_BROKERS?.split(",");
const clickhouseUrl = process.env.CLICKHOUSE_URL;
const runId = process.env.TEST_RUN_ID ?? "local";
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const MIGRATIONS = repoPath("infra/clickhouse/migrations");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const got = await probe().catch(() => null);
    if (got) return got;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.skipIf(!brokers || !clickhouseUrl)("decider end to end with the sink", () => {
  const prefix = `${runId}.decider.`;
  const database = `decider_${runId}`;
  const topics = topicNames(prefix);
  const kafka = createKafkaClient({ brokers: brokers!, clientId: "decider-it", logger });
  const producer = new BatchingProducer({ kafka, logger, lingerMs: 2 });
  let ch: ClickHouse;
  let sink: Sink;
  const common = { KAFKA_BROKERS: brokers!.join(","), TOPIC_PREFIX: prefix, CLICKHOUSE_URL: clickhouseUrl!, CLICKHOUSE_DATABASE: database, LOG_LEVEL: "silent" };

  beforeAll(async () => {
    await ensureTopics({ kafka, names: topics, partitions: 3, logger });
    await migrateDatabase({ url: clickhouseUrl!, logger }, database, MIGRATIONS);
    ch = createClickHouse({ url: clickhouseUrl!, database, logger });
    // One reporter of each blocking scenario has a report upheld by review before: fresh reporters alone never auto-block.
    const at = Math.floor(Date.now() / 1000) - 86_400;
    await ch.insert(
      "report_outcomes",
      ["13800000001", "13800000201"].map((n) => ({
        report_id: `seed-${runId}-${n}`, case_id: "c_seed", outcome: "blocked", decided_by: "reviewer:seed", reporter_hash: `hash-${n}`,
        report_received_at: at, decided_at: at, report_to_outcome_s: 0,
      })),
    );
    await producer.connect();
    sink = createSink(loadSinkEnv(common), logger);
    await sink.start();
  });
  afterAll(async () => {
    await sink?.stop();
    await producer.disconnect();
    await ch?.close();
  });

  const SENDER = "+8613912340000";
  const now = Date.now();
  const spamText = "【福利】恭喜您中奖10000元，点击 http://prize.example.cn 领取";
  const reporters = ["13800000001", "13800000002", "13800000003"];
  const traffic = (to: string, i: number): RawMessage => ({
    v: 1, id: `tm-${runId}-${i}`, receivedAt: now - 600_000, gatewayId: "gw1", account: "acct", source: SENDER, destination: `+86${to}`,
    text: spamText, dataCoding: 8, parts: 1, partial: false,
  });
  const verdict = (m: RawMessage): Verdict => ({
    v: 1, id: `vd-${m.id}`, messageId: m.id, kind: "traffic", receivedAt: m.receivedAt, scoredAt: m.receivedAt + 5, source: m.source, destination: m.destination,
    score: 0.82, label: "spam", category: "fraud", action: "flag", contributions: [], campaignId: "camp-1", rulesetVersion: "r", modelVersion: "m", timingsUs: {},
  });
  const report = (from: string, i: number, reported = "13912340000"): Report => ({
    v: 1, id: `rp-${runId}-${reported}-${i}`, messageId: `rpm-${i}`, receivedAt: now, gatewayId: "gw1", shortCode: "10086999", reporterMsisdn: from,
    reporterHash: `hash-${from}`, reportedNumber: reported, content: "恭喜您中奖10000元 点击http://prize.example.cn领取", rawText: "x", status: "parsed", parseError: null, allowListed: false,
  });
  const Row = z.object({ n: z.coerce.number() });
  const count = async (q: ReturnType<typeof sql>) => (await ch.query(q, Row))[0]?.n ?? 0;

  /** Topics of its own for one test, a decider on them with a fake lookup, and a reader of one of its output topics. */
  const isolated = async (name: string, lookup: TrafficLookup, output: "decisions" | "blocklist", onValue: (value: unknown) => void) => {
    const prefix = `${runId}.decider-${name}.`;
    const own = topicNames(prefix);
    await ensureTopics({ kafka, names: own, partitions: 1, logger });
    const watcher = kafka.consumer({ groupId: `${prefix}watch`, maxWaitTimeInMs: 50 });
    await watcher.connect();
    await watcher.subscribe({ topic: own[output], fromBeginning: true });
    await watcher.run({ eachMessage: async ({ message }) => onValue(JSON.parse(message.value!.toString())) });
    const decider = createDecider(loadDeciderEnv({ ...common, TOPIC_PREFIX: prefix, CAMPAIGN_COUNTS_INTERVAL_MS: "0" }), logger, { lookup });
    return { topics: own, decider, stop: async () => Promise.all([decider.stop(), watcher.disconnect()]) };
  };

  it("verified reports from three reporters block the sender and get outcome replies; a brigade does not block and its reviewed case answers the reporter; a lift is audited; a restart rebuilds state", async () => {
    const messages = reporters.map(traffic);
    await producer.sendMany(messages.map((m) => ({ topic: topics.trafficRaw, key: m.source, value: m })));
    await producer.sendMany(messages.map((m) => ({ topic: topics.verdicts, key: m.source, value: verdict(m) })));
    await until(async () => (await count(sql`SELECT count() AS n FROM verdicts_dedup`)) >= 3 && (await count(sql`SELECT count() AS n FROM traffic_raw_dedup`)) >= 3, 20_000, "traffic stored");

    const decider = createDecider(loadDeciderEnv(common), logger);
    await decider.start();
    try {
      // Brigading on another number: one reporter, many reports, no delivered traffic.
      await producer.sendMany(Array.from({ length: 6 }, (_, i) => ({ topic: topics.reports, key: "13700000000", value: report("13800000009", 100 + i, "13700000000") })));
      await producer.sendMany(reporters.map((r, i) => ({ topic: topics.reports, key: "13912340000", value: report(r, i) })));

      const block = await until(
        async () => (await ch.query(sql`SELECT state, created_by, evidence_report_ids FROM blocklist_current WHERE key = ${v.string("sender:13912340000")}`, z.object({ state: z.string(), created_by: z.string(), evidence_report_ids: z.array(z.string()) })))[0],
        20_000,
        "block stored",
      );
      expect(block).toMatchObject({ state: "active", created_by: "policy:verified_reporters" });
      expect(block.evidence_report_ids).toHaveLength(3);
      await until(async () => (await count(sql`SELECT count() AS n FROM reply_log_dedup WHERE kind = 'outcome_blocked'`)) >= 3 || null, 20_000, "outcome replies");
      expect(await count(sql`SELECT count() AS n FROM ${ident(restrictedDatabase(database))}.restricted_reply_recipients FINAL WHERE recipient IN ('13800000001', '13800000002', '13800000003')`)).toBe(3);
      await until(async () => (await count(sql`SELECT count() AS n FROM report_assessments_dedup WHERE verification = 'verified'`)) >= 3 || null, 20_000, "assessments");
      expect(await count(sql`SELECT count() AS n FROM report_assessments_dedup WHERE verification = 'verified'`)).toBe(3);
      await until(async () => (await count(sql`SELECT count() AS n FROM report_outcomes_dedup WHERE outcome = 'blocked'`)) >= 3 || null, 20_000, "report outcomes");
      await until(async () => (await count(sql`SELECT count() AS n FROM cases_current WHERE decision = 'blocked' AND rule = 'verified_reporters'`)) >= 1 || null, 20_000, "decided case");
      expect(await count(sql`SELECT count() AS n FROM cases_current WHERE subject = '13912340000'`)).toBe(1);

      // The brigaded number: fabricated reports, an open case, no block.
      await until(async () => (await count(sql`SELECT count() AS n FROM report_assessments_dedup WHERE reported_number = '13700000000'`)) >= 6 || null, 20_000, "brigade assessed");
      expect(await count(sql`SELECT count() AS n FROM report_assessments_dedup WHERE reported_number = '13700000000' AND verification = 'fabricated'`)).toBe(6);
      expect(await count(sql`SELECT count() AS n FROM blocklist_current WHERE key = 'sender:13700000000'`)).toBe(0);
      const brigadeCase = await until(
        async () => (await ch.query(sql`SELECT case_id, state FROM cases_current WHERE subject = '13700000000'`, z.object({ case_id: z.string(), state: z.string() })))[0],
        20_000,
        "brigade case",
      );
      expect(brigadeCase.state).toBe("open");

      // A reviewer decides the brigaded case as not spam: the reporter gets "not confirmed".
      const label: ReviewLabel = { v: 1, id: `lbl-${runId}`, caseId: brigadeCase.case_id, messageId: null, label: "ham", category: null, reviewer: "alice", decidedAt: Date.now(), comment: "no such traffic" };
      await producer.send({ topic: topics.reviewLabels, key: label.caseId, value: label });
      await until(async () => (await count(sql`SELECT count() AS n FROM report_outcomes_dedup WHERE outcome = 'not_confirmed' AND decided_by = 'reviewer:alice'`)) >= 6 || null, 20_000, "review outcome");

      // Appeal: the review API lifts the block by publishing the next version; it is audited and the decider follows it.
      const active = decider.core.activeBlock("sender", "13912340000", Date.now());
      expect(active).not.toBeNull();
      const lifted: BlockListEntry = { ...active!, state: "lifted", createdBy: "reviewer:bob", reason: "appeal: legitimate sender", version: active!.version + 1 };
      await producer.send({ topic: topics.blocklist, key: "sender:13912340000", value: lifted });
      await until(async () => (await count(sql`SELECT count() AS n FROM audit_log_dedup WHERE action = 'block_lifted' AND actor = 'reviewer:bob' AND subject = '13912340000'`)) === 1 || null, 20_000, "lift audited");
      await until(async () => (await count(sql`SELECT count() AS n FROM blocklist_current WHERE key = 'sender:13912340000' AND state = 'lifted'`)) === 1 || null, 20_000, "lift stored");
      await until(async () => decider.core.activeBlock("sender", "13912340000", Date.now()) === null || null, 10_000, "decider follows the lift");
    } finally {
      await decider.stop();
    }

    // A restarted decider rebuilds reputation and cases from ClickHouse (the 18.16 join queries run).
    const again = createDecider(loadDeciderEnv(common), logger);
    await again.start();
    expect(again.core.reputation("hash-13800000009")).toEqual({ score: 1 / 8, history: 6 });
    expect(again.core.activeBlock("sender", "13912340000", Date.now())).toBeNull();
    await again.stop();
  }, 120_000);

  it("a lookup that fails in a batch fails it before any decision: handled again, the block it decides is published", async () => {
    const reported = "13500000000";
    let failures = 0;
    // Three reporters got the spam they report; the fourth report's first lookup fails (ClickHouse down).
    const lookup: TrafficLookup = {
      async delivered(_sender, recipient) {
        if (recipient === "13800000204" && failures++ === 0) throw new Error("ClickHouse query failed: connect ECONNREFUSED");
        return [{ id: `dm-${recipient}`, text: "恭喜您中奖10000元，点击 http://prize.example.cn 领取", receivedAt: now - 60_000 }];
      },
      verdictFor: async (messageId) => ({ verdictId: `vd-${messageId}`, label: "spam", score: 0.9, campaignId: null, ruleIds: [] }),
    };
    const blocks: BlockListEntry[] = [];
    const { topics: own, decider, stop } = await isolated("fail", lookup, "blocklist", (v) => blocks.push(v as BlockListEntry));
    const sent = ["13800000201", "13800000202", "13800000203", "13800000204"].map((from, i) => report(from, 300 + i, reported));
    await producer.sendMany(sent.map((r) => ({ topic: own.reports, key: reported, value: r })));
    await decider.start();
    try {
      await until(async () => blocks.some((b) => b.value === reported && b.state === "active") || null, 40_000, "block published");
      expect(failures).toBeGreaterThan(1); // the batch was handled again after the failure
      expect(decider.core.activeBlock("sender", reported, Date.now())).not.toBeNull();
    } finally {
      await stop();
    }
  }, 60_000);

  it("the sender is judged on its current evidence: an early recipient's verified report blocks on the sender's velocity verdict, whether it comes after the report (sms.verdicts) or before a restart (ClickHouse) (issue 19)", async () => {
    const late = "13400000001";
    const earlier = "13400000002";
    // Both reporters got the spam; their messages were among the sender's first, scored without a velocity rule.
    const lookup: TrafficLookup = {
      delivered: async (_sender, recipient) => [{ id: `dm-${recipient}`, text: "恭喜您中奖10000元，点击 http://prize.example.cn 领取", receivedAt: now - 60_000 }],
      verdictFor: async (messageId) => ({ verdictId: `vd-${messageId}`, label: "spam", score: 0.9, campaignId: null, ruleIds: ["fraud.prize"] }),
    };
    const velocityVerdict = (source: string, id: string): Verdict => ({
      ...verdict(traffic("13800000299", 0)),
      id, messageId: `m-${id}`, source, receivedAt: Date.now() - 1_000, scoredAt: Date.now(), score: 0.97,
      contributions: [{ source: "rule", id: "velocity.fanout", score: 0.97, category: "fraud", detail: null }],
    });
    // Scored before this decider starts: only ClickHouse has it.
    const stored = velocityVerdict(`+86${earlier}`, `vd-${runId}-earlier`);
    await ch.insert("verdicts", [{
      id: stored.id, message_id: stored.messageId, kind: "traffic", received_at: Math.floor(stored.receivedAt / 1000), scored_at: Math.floor(stored.scoredAt / 1000),
      source: stored.source, destination: stored.destination, score: stored.score, label: "spam", category: "fraud", action: "block", contributions: "[]",
      rule_ids: ["velocity.fanout"], campaign_id: null, ruleset_version: "r", model_version: "m", receive_to_verdict_ms: 5,
    }]);
    const blocks: BlockListEntry[] = [];
    const { topics: own, decider, stop } = await isolated("velocity", lookup, "blocklist", (v) => blocks.push(v as BlockListEntry));
    await decider.start();
    try {
      await producer.send({ topic: own.reports, key: late, value: report("13800000301", 400, late) });
      await producer.send({ topic: own.reports, key: earlier, value: report("13800000302", 401, earlier) });
      await until(async () => blocks.some((b) => b.value === earlier && b.state === "active") || null, 30_000, "block from the rebuilt velocity verdict");
      // Same partition, offset order: the first report was decided before the second; one verified report, no velocity yet.
      expect(blocks.some((b) => b.value === late)).toBe(false);
      await producer.send({ topic: own.verdicts, key: `+86${late}`, value: velocityVerdict(`+86${late}`, `vd-${runId}-late`) });
      const block = await until(async () => blocks.find((b) => b.value === late && b.state === "active"), 30_000, "block from the live velocity verdict");
      expect(block.createdBy).toBe("policy:velocity_high_score");
      expect(blocks.find((b) => b.value === earlier)?.createdBy).toBe("policy:velocity_high_score");
    } finally {
      await stop();
    }
  }, 90_000);

  it("a batch's traffic lookups overlap, and its reports are decided and published in offset order", async () => {
    const n = 8;
    let inFlight = 0;
    let maxInFlight = 0;
    // Earlier reports wait longest: answered in arrival order, the decisions would come out reversed.
    const lookup: TrafficLookup = {
      async delivered(_sender, recipient) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await sleep((n - Number(recipient.slice(-2))) * 40);
        inFlight--;
        return [];
      },
      verdictFor: async () => null,
    };
    const seen: string[] = [];
    const { topics: own, decider, stop } = await isolated("order", lookup, "decisions", (v) => {
      const e = v as { type: string; reportId?: string };
      if (e.type === "report_assessed") seen.push(e.reportId!);
    });
    // One send: the reports reach the decider as one batch.
    const sent = Array.from({ length: n }, (_, i) => report(`138000001${String(i).padStart(2, "0")}`, 200 + i, "13600000000"));
    await producer.sendMany(sent.map((r) => ({ topic: own.reports, key: "13600000000", value: r })));
    await decider.start();
    try {
      await until(async () => seen.length >= n || null, 30_000, "assessments published");
      expect(seen).toEqual(sent.map((r) => r.id));
      expect(maxInFlight).toBeGreaterThan(1);
      expect(maxInFlight).toBeLessThanOrEqual(n);
    } finally {
      await stop();
    }
  }, 60_000);
});
