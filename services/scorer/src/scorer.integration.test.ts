import { randomUUID } from "node:crypto";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerdictV1, topicNames, type RawMessage, type RulesControl, type TopicNames, type Verdict } from "@spam/contracts";
import { BatchingProducer, SchemaConsumer, createKafkaClient, ensureTopics } from "@spam/kafka";
import { loadScorerEnv } from "./env.js";
import { createScorerService, type ScorerService } from "./main.js";
import { repoPath } from "@spam/repo-paths";

// Real broker (vitest global setup), scorer workers in-process so a test can start and stop them.
const brokers = process.env.KAFKA_BROKERS;
const logger = pino({ level: "silent" });
const repoRules = repoPath("rules");

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 60_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!brokers)("scorer workers against the real broker", () => {
  const kafka = createKafkaClient({ brokers: brokers!.split(","), clientId: "scorer-it", logger });
  const producer = new BatchingProducer({ kafka, logger, lingerMs: 2 });
  const cleanup: Array<() => Promise<void>> = [];
  let rulesDir: string;

  beforeAll(async () => {
    await producer.connect();
    // A private copy: the reload test edits it, and only rule files go in.
    rulesDir = await mkdtemp(join(tmpdir(), "scorer-it-rules-"));
    await cp(repoRules, rulesDir, { recursive: true, filter: (src) => !src.endsWith("policy.yaml") });
  });
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f().catch(() => undefined);
    await producer.disconnect();
    await rm(rulesDir, { recursive: true, force: true });
  });

  async function stack(name: string): Promise<{ topics: TopicNames; prefix: string; verdicts: Map<string, Verdict> }> {
    const prefix = `${process.env.TEST_RUN_ID ?? "local"}.scorer.${name}.${randomUUID().slice(0, 8)}.`;
    const topics = topicNames(prefix);
    await ensureTopics({ kafka, names: topics, partitions: 4, logger });
    const verdicts = new Map<string, Verdict>();
    const sink = new SchemaConsumer<Verdict>({
      kafka,
      logger,
      groupId: `${prefix}sink`,
      topics: [topics.verdicts],
      schema: VerdictV1,
      deadLetter: { producer, topic: topics.deadLetter, service: "scorer-it" },
      fetchMaxWaitMs: 20,
      handleBatch: async (ms) => {
        for (const m of ms) verdicts.set(m.value.messageId, m.value);
      },
    });
    void sink.start();
    cleanup.push(() => sink.stop());
    return { topics, prefix, verdicts };
  }

  async function worker(prefix: string, dir = rulesDir, extra: Record<string, string> = {}): Promise<ScorerService> {
    const env = loadScorerEnv({ KAFKA_BROKERS: brokers, TOPIC_PREFIX: prefix, CONSUMER_GROUP: "scorer", RULES_DIR: dir, RULES_WATCH: "0", LOG_LEVEL: "silent", ...extra });
    const service = await createScorerService(env, logger);
    await service.start();
    let stopped = false;
    cleanup.push(async () => {
      if (!stopped) await service.stop();
    });
    return {
      ...service,
      async stop() {
        stopped = true;
        await service.stop();
      },
    };
  }

  async function groupMembers(group: string): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups([group]);
      const g = groups[0];
      return g !== undefined && g.state === "Stable" ? g.members.length : 0;
    } finally {
      await admin.disconnect();
    }
  }

  function message(i: number, source: string, destination: string, text: string, at: number): RawMessage {
    return { v: 1, id: `it-${i}`, receivedAt: at, gatewayId: "gw-it", account: "acc", source, destination, text, dataCoding: 8, parts: 1, partial: false };
  }

  const texts = [
    "代开发票，增值税专用发票，可验证后付款，联系王经理",
    "急用钱？无抵押贷款，当天放款，详询V信 dk8899",
    "澳门线上赌场，注册送彩金，百家乐 www.bet365x.top",
    "晚上一起吃饭吗？我七点到",
    "【招商银行】您尾号1234的储蓄卡消费100元，余额888元",
    "明天下午三点开会，记得带资料",
  ];

  /** 600 messages from 12 senders; four of them fan out to many recipients fast (velocity rules fire). */
  function traffic(base: number): RawMessage[] {
    const out: RawMessage[] = [];
    for (let i = 0; i < 600; i++) {
      const s = i % 12;
      const fanout = s < 4;
      const dest = fanout ? `139${String(i).padStart(8, "0")}` : `1370000000${s % 3}`;
      out.push(message(i, `1380000${String(s).padStart(4, "0")}`, dest, texts[(i * 7 + s) % texts.length]!, base + i * 50));
    }
    return out;
  }

  const summary = (v: Verdict) => ({ label: v.label, score: v.score, rules: v.contributions.map((c) => c.id).sort() });

  it("two workers in one consumer group publish the same verdicts as one worker", async () => {
    const base = Date.now();
    const input = traffic(base);

    const one = await stack("one");
    const w = await worker(one.prefix);
    await waitFor(async () => (await groupMembers(`${one.prefix}scorer`)) === 1, 60_000, "one member");
    await producer.sendMany(input.map((m) => ({ topic: one.topics.trafficRaw, key: m.source, value: m })));
    await waitFor(() => one.verdicts.size === input.length, 60_000, "verdicts from one worker");
    await w.stop();

    const two = await stack("two");
    await worker(two.prefix);
    await worker(two.prefix);
    await waitFor(async () => (await groupMembers(`${two.prefix}scorer`)) === 2, 60_000, "two members");
    await producer.sendMany(input.map((m) => ({ topic: two.topics.trafficRaw, key: m.source, value: m })));
    await waitFor(() => two.verdicts.size === input.length, 60_000, "verdicts from two workers");

    const velocityHits = [...one.verdicts.values()].filter((v) => v.contributions.some((c) => c.id.startsWith("velocity."))).length;
    expect(velocityHits).toBeGreaterThan(50); // the comparison covers stateful rules, not just text
    for (const m of input) expect(summary(two.verdicts.get(m.id)!), m.id).toEqual(summary(one.verdicts.get(m.id)!));
  }, 180_000);

  it("gives undecided English messages the embedding second look of the default model (EMBEDDING=0 does not)", async () => {
    // Our own texts: the default model's n-gram probability of the first lies inside the band.
    const undecided = "Want to meet new people in your area? Text MEET to 69911";
    const sure = "I am outside the shop, are you coming or not";
    const base = Date.now();
    const input = [message(1, "13800000001", "13900000001", undecided, base), message(2, "13800000002", "13900000002", sure, base), message(3, "13800000003", "13900000003", texts[0]!, base)];
    const detail = (v: Verdict | undefined) => v?.contributions.find((c) => c.source === "model")?.detail ?? "";
    const on = await stack("embed-on");
    await worker(on.prefix);
    await producer.sendMany(input.map((m) => ({ topic: on.topics.trafficRaw, key: m.source, value: m })));
    await waitFor(() => on.verdicts.size === input.length, 60_000, "verdicts with the second look");
    expect(detail(on.verdicts.get("it-1"))).toContain("embedding=used");
    expect(detail(on.verdicts.get("it-2"))).not.toContain("embedding");
    expect(detail(on.verdicts.get("it-3"))).not.toContain("embedding");
    const off = await stack("embed-off");
    await worker(off.prefix, rulesDir, { EMBEDDING: "0" });
    await producer.sendMany(input.map((m) => ({ topic: off.topics.trafficRaw, key: m.source, value: m })));
    await waitFor(() => off.verdicts.size === input.length, 60_000, "verdicts without the second look");
    expect(detail(off.verdicts.get("it-1"))).toContain("embedding=wanted");
    expect(off.verdicts.get("it-1")!.score).not.toBe(on.verdicts.get("it-1")!.score);
    expect(off.verdicts.get("it-3")!.score).toBe(on.verdicts.get("it-3")!.score);
  }, 120_000);

  /** 35 messages of one sender to 35 recipients, 100 ms apart: 20 before a handover, 15 after. */
  async function handover(name: string, firstWorkerEnv: Record<string, string>): Promise<void> {
    const s = await stack(name);
    const base = Date.now();
    const sender = "13812340000";
    const msgs = Array.from({ length: 35 }, (_, i) => message(1000 + i, sender, `139${String(i).padStart(8, "0")}`, "明天下午三点开会，记得带资料", base + i * 100));
    const first = await worker(s.prefix, rulesDir, firstWorkerEnv);
    await producer.sendMany(msgs.slice(0, 20).map((m) => ({ topic: s.topics.trafficRaw, key: sender, value: m })));
    await waitFor(() => s.verdicts.size === 20, 60_000, "first 20 verdicts");
    await first.stop();
    const admin = kafka.admin();
    await admin.connect();
    const snapshotRecords = (await admin.fetchTopicOffsets(s.topics.velocitySnapshots)).reduce((n, o) => n + Number(o.high), 0);
    await admin.disconnect();
    expect(snapshotRecords > 0).toBe(firstWorkerEnv["VELOCITY_SNAPSHOTS"] !== "0");

    await worker(s.prefix);
    await producer.sendMany(msgs.slice(20).map((m) => ({ topic: s.topics.trafficRaw, key: sender, value: m })));
    await waitFor(() => s.verdicts.size === 35, 60_000, "last 15 verdicts");
    const fired = (i: number) => s.verdicts.get(msgs[i]!.id)!.contributions.map((c) => c.id).filter((id) => id.startsWith("velocity."));
    expect(fired(19)).toEqual([]);
    // Message 21 onwards is over 20 a minute; 31 onwards reaches more than 30 recipients: only if the windows moved.
    for (let i = 20; i < 30; i++) expect(fired(i)).toEqual(["velocity.rate"]);
    for (let i = 30; i < 35; i++) expect(fired(i).sort()).toEqual(["velocity.fanout", "velocity.rate"]);
  }

  it("per-sender velocity windows survive a handover to another worker (the stopping worker's snapshot)", async () => {
    await handover("handover-snapshot", {});
  }, 120_000);

  it("per-sender velocity windows survive a handover without a snapshot (replay of the partition's traffic)", async () => {
    await handover("handover-replay", { VELOCITY_SNAPSHOTS: "0" });
  }, 120_000);

  it("reloads rules on a Kafka reload message and records the new rule-set version on verdicts", async () => {
    const s = await stack("reload");
    const dir = await mkdtemp(join(tmpdir(), "scorer-it-reload-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    await cp(rulesDir, dir, { recursive: true });
    await worker(s.prefix, dir);
    const probe = (i: number) => message(2000 + i, "13700001111", "13900000000", "周末去爬山吗 zebra-lantern-42", Date.now());
    await producer.send({ topic: s.topics.trafficRaw, key: "13700001111", value: probe(0) });
    await waitFor(() => s.verdicts.has("it-2000"), 60_000, "first verdict");
    const before = s.verdicts.get("it-2000")!;
    expect(before.contributions.map((c) => c.id)).not.toContain("it.reload-probe");

    await writeFile(
      join(dir, "zz-reload-probe.yaml"),
      "rules:\n  - id: it.reload-probe\n    kind: keyword\n    keywords: [zebra-lantern]\n    score: 0.9\n    category: AD_Other\n" +
        "    action: flag\n    owner: it\n    version: 1\n    description: added while running\n",
    );
    // The control consumer joins its own group from "now on": repeat the command until a verdict shows it.
    let i = 1;
    const command: RulesControl = { v: 1, command: "reload", requestedAt: Date.now(), requestedBy: "scorer-it" };
    const reloaded = () => [...s.verdicts.values()].find((v) => v.rulesetVersion !== before.rulesetVersion);
    await waitFor(
      async () => {
        if (reloaded() !== undefined) return true;
        await producer.send({ topic: s.topics.rulesControl, key: "reload", value: command });
        await new Promise((r) => setTimeout(r, 300));
        await producer.send({ topic: s.topics.trafficRaw, key: "13700001111", value: probe(i++) });
        await new Promise((r) => setTimeout(r, 300));
        return false;
      },
      60_000,
      "a verdict with the new rule-set version",
    );
    const after = reloaded()!;
    expect(after.rulesetVersion).not.toBe(before.rulesetVersion);
    expect(after.contributions.map((c) => c.id)).toContain("it.reload-probe");
  }, 120_000);
});
