import { randomUUID } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createClickHouse, migrateDatabase, ident, sql, v, type ClickHouse } from "@spam/clickhouse";
import { CampaignCountsV1, VerdictV1, topicNames, type CampaignCounts, type RawMessage, type Verdict } from "@spam/contracts";
import { BatchingProducer, CompactedTopicFollower, SchemaConsumer, createKafkaClient, ensureTopics, partitionForKey } from "@spam/kafka";
import { createScorerService, loadScorerEnv } from "@spam/scorer-service";
import { createSink, loadSinkEnv } from "@spam/sink-service";
import { loadDeciderEnv } from "./env.js";
import { createDecider } from "./main.js";
import { repoPath } from "@spam/repo-paths";

// The campaign feedback loop across real processes' parts, in-process, on the real broker and ClickHouse:
// two scorer workers in one group → verdicts → sink → ClickHouse → the decider's campaign-counts job →
// compacted topic → both workers' campaign boosts.
const brokers = process.env.KAFKA_BROKERS;
const clickhouseUrl = process.env.CLICKHOUSE_URL;
const runId = process.env.TEST_RUN_ID ?? "local";
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const MIGRATIONS = repoPath("infra/clickhouse/migrations");
const PARTITIONS = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await Promise.resolve().then(check).catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// Where the producer puts a sender's records (the Java client's murmur2, as @spam/kafka partitions).
const partitionOf = (key: string) => partitionForKey(key, PARTITIONS);

/**
 * 30 senders spread 8/7/8/7 over the four partitions: with two workers holding two partitions each,
 * neither sees more than 16 of the campaign's senders, below the boost's 20.
 */
function rotatingSenders(): string[] {
  const quota = [8, 7, 8, 7];
  const out: string[] = [];
  for (let n = 0; out.length < 30; n++) {
    const sender = `1380013${String(n).padStart(4, "0")}`;
    const p = partitionOf(sender);
    if (quota[p]! > 0) {
      quota[p]!--;
      out.push(sender);
    }
  }
  return out;
}

describe.skipIf(!brokers || !clickhouseUrl)("campaign feedback loop: cluster-wide counts reach every scorer worker", () => {
  const id = randomUUID().slice(0, 8);
  const prefix = `${runId}.campaign-feedback.${id}.`;
  const database = `campaign_feedback_${runId.replace(/[^A-Za-z0-9_]/g, "_")}_${id}`;
  const topics = topicNames(prefix);
  const kafka = createKafkaClient({ brokers: brokers!.split(","), clientId: "campaign-feedback-it", logger });
  const producer = new BatchingProducer({ kafka, logger, lingerMs: 2 });
  const common = { KAFKA_BROKERS: brokers!, TOPIC_PREFIX: prefix, CLICKHOUSE_URL: clickhouseUrl!, CLICKHOUSE_DATABASE: database, LOG_LEVEL: "silent" };
  const cleanup: Array<() => Promise<void>> = [];
  const verdicts = new Map<string, Verdict>();
  const published = new Map<string, CampaignCounts>();
  let ch: ClickHouse;

  beforeAll(async () => {
    await ensureTopics({ kafka, names: topics, partitions: PARTITIONS, logger });
    await migrateDatabase({ url: clickhouseUrl!, logger }, database, MIGRATIONS);
    ch = createClickHouse({ url: clickhouseUrl!, database, logger });
    await producer.connect();
    const collector = new SchemaConsumer<Verdict>({
      kafka,
      logger,
      groupId: `${prefix}collector`,
      topics: [topics.verdicts],
      schema: VerdictV1,
      deadLetter: { producer, topic: topics.deadLetter, service: "campaign-feedback-it" },
      fetchMaxWaitMs: 20,
      handleBatch: async (ms) => {
        for (const m of ms) verdicts.set(m.value.messageId, m.value);
      },
    });
    void collector.start();
    cleanup.push(() => collector.stop());
    // What the job publishes, as a scorer worker sees it.
    const follower = new CompactedTopicFollower<CampaignCounts>({
      kafka,
      logger,
      topic: topics.campaignCounts,
      schema: CampaignCountsV1,
      groupId: `${prefix}counts-watch`,
      onRecord: (key, value) => (value ? published.set(key, value) : published.delete(key)),
    });
    await follower.start();
    cleanup.push(() => follower.stop());
    const sink = createSink(loadSinkEnv({ ...common, SINK_TOPICS: "verdicts" }), logger);
    await sink.start();
    cleanup.push(() => sink.stop());
  });
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f().catch(() => undefined);
    await producer.disconnect();
    await ch?.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`).catch(() => undefined);
    await ch?.close();
  });

  async function groupMembers(group: string): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const g = (await admin.describeGroups([group])).groups[0];
      return g !== undefined && g.state === "Stable" ? g.members.length : 0;
    } finally {
      await admin.disconnect();
    }
  }

  let seq = 0;
  const senders = rotatingSenders();
  /** One message per sender of one template (the varied number is masked: one campaign). */
  function round(): RawMessage[] {
    return senders.map((source, i) => {
      seq++;
      return {
        v: 1, id: `cf-${id}-${seq}`, receivedAt: Date.now(), gatewayId: "gw-it", account: "acc", source, destination: `1390013${String(seq).padStart(4, "0")}`,
        text: `亲，本店新品上架全场八折，详询1390000${1000 + i}，回T退订`, dataCoding: 8, parts: 1, partial: false,
      };
    });
  }
  async function score(messages: RawMessage[]): Promise<Verdict[]> {
    await producer.sendMany(messages.map((m) => ({ topic: topics.trafficRaw, key: m.source, value: m })));
    await waitFor(() => messages.every((m) => verdicts.has(m.id)), 60_000, `${messages.length} verdicts`);
    return messages.map((m) => verdicts.get(m.id)!);
  }
  const boost = (v: Verdict) => v.contributions.find((c) => c.id === "builtin.campaign-senders");

  it("two workers that each see part of a 30-sender campaign get the senders boost once the loop has counted it in ClickHouse", async () => {
    for (let w = 0; w < 2; w++) {
      const service = await createScorerService(loadScorerEnv({ ...common, CONSUMER_GROUP: "scorer", RULES_WATCH: "0" }), logger);
      await service.start();
      cleanup.push(() => service.stop());
    }
    await waitFor(async () => (await groupMembers(`${prefix}scorer`)) === 2, 60_000, "two scorer workers in the group");

    // Without the loop: each worker counts only its own senders (at most 16 < 20), so no verdict is boosted.
    const before = [...(await score(round())), ...(await score(round()))];
    const campaignId = before[0]!.campaignId!;
    expect(campaignId).toMatch(/^c[0-9a-f]{16}$/);
    expect(new Set(before.map((v) => v.campaignId))).toEqual(new Set([campaignId]));
    expect(before.filter(boost)).toEqual([]);

    // The loop: the sink has the verdicts in ClickHouse, the decider's job publishes the exact counts.
    const Row = z.object({ n: z.coerce.number() });
    await waitFor(async () => (await ch.query(sql`SELECT uniqExact(id) AS n FROM verdicts WHERE campaign_id = ${v.string(campaignId)}`, Row))[0]?.n === 60, 30_000, "verdicts in ClickHouse");
    const decider = createDecider(loadDeciderEnv({ ...common, CAMPAIGN_COUNTS_INTERVAL_MS: "300", CAMPAIGN_COUNTS_WINDOW_SECONDS: "600" }), logger);
    await decider.start();
    cleanup.push(() => decider.stop());
    await waitFor(() => (published.get(campaignId)?.messages ?? 0) >= 60, 30_000, "the campaign's cluster-wide counts on the topic");
    expect(published.get(campaignId)).toMatchObject({ campaignId, senders: 30, messages: 60, recipients: 60, reports: 0 });

    // The workers follow the topic within ~100 ms; score rounds until one is boosted throughout.
    let last: Verdict[] = [];
    await waitFor(async () => (last = await score(round())).every((v) => boost(v) !== undefined), 30_000, "a fully boosted round");
    for (const v of last) {
      expect(v.campaignId).toBe(campaignId);
      // The cluster count fired: this worker alone has seen at most 16 of the senders.
      const m = /^campaign (c[0-9a-f]+): (\d+) senders \(cluster count; local (\d+), cluster (\d+)\)/.exec(boost(v)!.detail ?? "");
      expect(m, boost(v)!.detail ?? "").not.toBeNull();
      expect(Number(m![3])).toBeLessThanOrEqual(16);
      expect(Number(m![4])).toBe(30);
    }
    // Both workers were boosted: the round's senders cover all four partitions, two per worker.
    expect(new Set(last.map((v) => partitionOf(v.source)))).toEqual(new Set([0, 1, 2, 3]));

    // Two more senders reach the topic by a fast tick, long before the next sweep (60 s): senders and
    // reports are refreshed every tick, messages and recipients stay as the sweep counted them.
    const sweep = published.get(campaignId)!;
    const extra = round().slice(0, 2).map((m, i) => ({ ...m, source: `1370013${String(i).padStart(4, "0")}` }));
    await score(extra);
    await waitFor(() => published.get(campaignId)!.senders === 32, 20_000, "the new senders counted by a fast tick");
    const fast = published.get(campaignId)!;
    expect(fast.computedAt).toBeGreaterThan(sweep.computedAt);
    expect(fast.computedAt - sweep.computedAt).toBeLessThan(60_000);
    expect(fast.sizedAt).toBe(sweep.sizedAt);
  }, 240_000);
});
