import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { sql, v } from "@spam/clickhouse";
import type { RawMessage, ReviewLabel, Verdict } from "@spam/contracts";
import { BatchingProducer, createKafkaClient } from "@spam/kafka";
import { REPO_ROOT, repoPath } from "@spam/repo-paths";
import { reviewLabelRows, rowsForInsert, trafficRows, verdictRows } from "@spam/sink-service";
import { createTestStack, eventually, startServiceProcess, type ServiceProcess, type TestStack } from "../support/index.js";

/**
 * The learning loop with real processes: reviewers' decisions stored in ClickHouse → `spam dataset
 * export` → `spam train` → the candidate evaluated against the live model (`spam models add`) →
 * promoted → a running scorer decides with it without a restart → shadow → rolled back.
 *
 * The fixture: a campaign the live model has never seen (it calls it ham), which reviewers judged
 * spam for four weeks; the last week is held out. A candidate trained on the export must catch it.
 */
const run = promisify(execFile);
const CLI = repoPath("packages/cli/dist/main.js");
const FIXTURES = repoPath("packages/classifier/fixtures");
const DAY = 86_400_000;
const NOW = Date.now();
const logger = pino({ level: "silent" });
const VerdictRow = z.object({ message_id: z.string(), model_version: z.string(), shadow_model_version: z.string(), shadow_label: z.string(), label: z.string() });

/** The CLI as a process, its broker settings only from flags: nothing reaches the shared, unprefixed topics. */
async function spam(args: string[]): Promise<string> {
  const { KAFKA_BROKERS: _brokers, TOPIC_PREFIX: _prefix, ...env } = process.env;
  const { stdout } = await run(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

// The novel campaign: baseline-ham wording, many variants, each message its own campaign group.
const DAYS = ["周六", "周日", "周五晚上", "下周一", "本周三"];
const EXTRAS = ["老朋友都来", "带上家人一起来", "名额有限", "现场有惊喜", "欢迎新朋友", "会员优先"];
const campaignText = (n: number) => `斑马灯笼俱乐部第${n}期活动${DAYS[n % DAYS.length]}举行，${EXTRAS[n % EXTRAS.length]}，回复Y报名`;
const hamText = (n: number) => `明天${(n % 9) + 1}点${["开会", "吃饭", "碰头", "对账"][n % 4]}，记得带${["资料", "电脑", "发票", "钥匙"][(n >> 2) % 4]}，收到回复`;

describe("learning loop: export → train → evaluate → promote → hot swap → shadow → rollback", () => {
  let stack: TestStack;
  let work: string;
  let registry: string;
  let services: ServiceProcess[] = [];
  let scorer: ServiceProcess;
  let producer: BatchingProducer;
  let probe = 0;
  let baseId = "";
  let candId = "";

  beforeAll(async () => {
    stack = await createTestStack("e2e_learning");
    work = await mkdtemp(join(tmpdir(), "learning-e2e-"));
    registry = join(work, "registry");
    // Reviewers' decisions of the last five weeks, as the sink stores them.
    const rows = [];
    for (let n = 0; n < 60; n++) {
      const spamMsg = n % 2 === 0;
      const at = NOW - 2 * 60_000 - Math.floor((n / 60) * 34 * DAY);
      const id = `lrn-${n}`;
      const text = spamMsg ? campaignText(n) : hamText(n);
      const message: RawMessage = { v: 1, id, receivedAt: at, gatewayId: "gw", account: "acc", source: `1380000${String(n).padStart(4, "0")}`, destination: "13900000000", text, dataCoding: 8, parts: 1, partial: false };
      const verdict: Verdict = {
        v: 1, id: `v-${id}`, messageId: id, kind: "traffic", receivedAt: at, scoredAt: at, source: message.source, destination: message.destination, score: 0.1, label: "ham",
        category: null, action: "allow", contributions: [], campaignId: null, rulesetVersion: "r", modelVersion: "m", timingsUs: {},
      };
      const label: ReviewLabel = { v: 1, id: `rl-${id}`, caseId: `case-${id}`, messageId: id, label: spamMsg ? "spam" : "ham", category: spamMsg ? "AD_Other" : null, reviewer: "reviewer:ann", decidedAt: at + 60_000, comment: "" };
      rows.push(...trafficRows(message), ...verdictRows(verdict), ...reviewLabelRows(label));
    }
    // A flood: one campaign, twenty messages, one training row.
    for (let n = 0; n < 20; n++) {
      const id = `flood-${n}`;
      const at = NOW - 20 * DAY + n * 1000;
      rows.push(
        ...trafficRows({ v: 1, id, receivedAt: at, gatewayId: "gw", account: "acc", source: "17000000001", destination: `1390000${String(n).padStart(4, "0")}`, text: `恭喜您获得积分兑换资格 ${n}`, dataCoding: 8, parts: 1, partial: false }),
        ...verdictRows({ v: 1, id: `v-${id}`, messageId: id, kind: "traffic", receivedAt: at, scoredAt: at, source: "17000000001", destination: "13900000000", score: 0.9, label: "spam", category: null, action: "block", contributions: [], campaignId: "camp-flood", rulesetVersion: "r", modelVersion: "m", timingsUs: {} }),
        ...reviewLabelRows({ v: 1, id: `rl-${id}`, caseId: "case-flood", messageId: id, label: "spam", category: "AD_Other", reviewer: "reviewer:ann", decidedAt: at + 60_000, comment: "" }),
      );
    }
    const byTable = new Map<string, Record<string, unknown>[]>();
    for (const r of rows) byTable.set(r.table, [...(byTable.get(r.table) ?? []), r.row]);
    for (const [table, list] of byTable) await stack.ch.insert(table, rowsForInsert(list, NOW));
    const kafka = createKafkaClient({ brokers: stack.brokers.split(","), clientId: "learning-e2e", logger });
    producer = new BatchingProducer({ kafka, logger, lingerMs: 0 });
    await producer.connect();
  }, 120_000);

  afterAll(async () => {
    const codes = await Promise.all(services.map((s) => s.stop()));
    await producer?.disconnect();
    await stack?.dispose();
    if (work) await rm(work, { recursive: true, force: true });
    expect(codes).toEqual(services.map(() => 0));
  });

  it("exports the reviewed messages once per campaign, numbers masked, the last week held out", async () => {
    const out = JSON.parse(await spam(["dataset", "export", "--out", join(work, "export"), "--clickhouse", stack.clickhouseUrl, "--database", stack.database])) as { duplicates: number; train: { rows: number }; holdout: { rows: number } };
    expect(out.duplicates).toBe(19); // the flood trains once
    expect(out.train.rows + out.holdout.rows).toBe(61);
    expect(out.holdout.rows).toBeGreaterThan(5);
    const train = await readFile(join(work, "export", "train.tsv"), "utf8");
    expect(train).not.toMatch(/1[3-9]\d{9}/);
    expect(train.trim().split("\n").every((l) => /^(spam|ham)\t[^\t]+$/.test(l))).toBe(true);
  });

  it("trains a candidate on the export; against the live model on the held-out weeks it catches the new campaign", async () => {
    const base = JSON.parse(await spam(["train", "--data", join(FIXTURES, "train.tsv"), "--out", join(work, "base.json"), "--no-embedding"])) as { modelVersion: string };
    const cand = JSON.parse(await spam(["train", "--data", join(FIXTURES, "train.tsv"), "--data", join(work, "export", "train.tsv"), "--out", join(work, "cand.json"), "--no-embedding"])) as { modelVersion: string };
    baseId = base.modelVersion;
    candId = cand.modelVersion;
    expect(candId).not.toBe(baseId);
    await spam(["models", "add", "--model", join(work, "base.json"), "--registry", registry]);
    await spam(["models", "promote", baseId, "--registry", registry, "--by", "e2e"]);
    const card = JSON.parse(
      await spam(["models", "add", "--model", join(work, "cand.json"), "--registry", registry, "--eval-data", join(work, "export", "holdout.tsv"), "--eval-data", join(FIXTURES, "holdout.tsv")]),
    ) as { parent: string; metrics: Record<string, { candidate: { recall: number; ham_fpr: number }; live: { recall: number; ham_fpr: number } }> };
    expect(card.parent).toBe(baseId);
    const holdout = card.metrics[join(work, "export", "holdout.tsv")]!;
    expect(holdout.live.recall).toBe(0);
    expect(holdout.candidate.recall).toBeGreaterThan(0.8);
    expect(holdout.candidate.ham_fpr).toBe(0);
    // On the shipped fixtures it is no worse at letting ham through.
    const shipped = card.metrics["fixtures/holdout.tsv"]!;
    expect(shipped.candidate.ham_fpr).toBeLessThanOrEqual(shipped.live.ham_fpr + 0.02);
    const md = await readFile(join(registry, "models", `${candId}.card.md`), "utf8");
    expect(md).toContain(`parent: ${baseId}`);
  }, 120_000);

  /** Sends a campaign message and returns its stored verdict. */
  async function probeVerdict(): Promise<z.infer<typeof VerdictRow>> {
    const id = `probe-${probe++}`;
    const message: RawMessage = { v: 1, id, receivedAt: Date.now(), gatewayId: "gw", account: "acc", source: "13700000001", destination: "13900000001", text: campaignText(1000 + probe), dataCoding: 8, parts: 1, partial: false };
    await producer.sendMany([{ topic: stack.topics.trafficRaw, key: message.source, value: message }]);
    return eventually(async () => (await stack.ch.query(sql`SELECT message_id, model_version, shadow_model_version, shadow_label, label FROM verdicts FINAL WHERE message_id = ${v.string(id)}`, VerdictRow))[0], 30_000, 200);
  }

  /** Runs a registry command (which tells the scorers) until a verdict shows it: the control topic is read from "now on". */
  async function until(args: string[], shows: (row: z.infer<typeof VerdictRow>) => boolean): Promise<z.infer<typeof VerdictRow>> {
    for (let attempt = 0; attempt < 5; attempt++) {
      await spam([...args, "--registry", registry, "--by", "e2e", "--brokers", stack.brokers, "--topic-prefix", stack.prefix]);
      for (let i = 0; i < 3; i++) {
        const row = await probeVerdict();
        if (shows(row)) return row;
      }
    }
    throw new Error(`no verdict showed spam models ${args.join(" ")}`);
  }

  it("a running scorer follows promote, shadow and rollback without a restart, and every verdict names the version that decided", async () => {
    scorer = startServiceProcess("scorer", { ...stack.serviceEnv, CONSUMER_GROUP: `${stack.prefix}scorer`, MODEL_REGISTRY_DIR: registry, METRICS_PORT: "0", VELOCITY_REPLAY: "0" });
    const sink = startServiceProcess("sink", { ...stack.serviceEnv, CONSUMER_GROUP: `${stack.prefix}sink`, SINK_FETCH_MAX_WAIT_MS: "100", METRICS_PORT: "0" });
    services = [scorer, sink];
    await Promise.all(services.map((s) => s.waitForLog((e) => e.msg === "started", 60_000)));
    const pid = scorer.child.pid;

    const first = await probeVerdict();
    expect(first).toMatchObject({ model_version: baseId, label: "ham", shadow_model_version: "" });

    const shadowed = await until(["models", "shadow", candId], (r) => r.shadow_model_version === candId);
    // The candidate's opinion is recorded; the live model still decides.
    expect(shadowed).toMatchObject({ model_version: baseId, label: "ham" });
    expect(["spam", "suspect"]).toContain(shadowed.shadow_label);

    const promoted = await until(["models", "promote", candId], (r) => r.model_version === candId);
    expect(promoted.label).not.toBe("ham");
    expect(promoted.shadow_model_version).toBe(""); // promoting the shadow ends the shadow

    const rolledBack = await until(["models", "rollback"], (r) => r.model_version === baseId);
    expect(rolledBack.label).toBe("ham");

    expect(scorer.child.pid).toBe(pid);
    expect(scorer.child.exitCode).toBeNull();
    expect(scorer.lines.filter((l) => l.includes('"msg":"started"'))).toHaveLength(1);
    const state = JSON.parse(await readFile(join(registry, "state.json"), "utf8")) as { live: string; changes: { action: string }[] };
    expect(state.live).toBe(baseId);
    expect(state.changes.map((c) => c.action)).toEqual(expect.arrayContaining(["promote", "shadow", "rollback"]));
  }, 240_000);
});
