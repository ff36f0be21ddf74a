import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClickHouse, ident, migrateDatabase, restrictedDatabase, sql, type ClickHouse } from "@spam/clickhouse";
import { repoPath } from "@spam/repo-paths";
import { loadRuleSet } from "@spam/rules";
import { candidateRules, runBacktest } from "./backtest.js";
import { exportDataset, toTsv } from "./dataset.js";
import { shadowReport } from "./shadow.js";

// Against ClickHouse 18.16 started by the global setup.
const clickhouseUrl = process.env.CLICKHOUSE_URL;
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const MIGRATIONS = repoPath("infra/clickhouse/migrations");
const database = `t_${process.env.TEST_RUN_ID ?? "local"}_learning_${Date.now().toString(36)}`.replace(/[^a-z0-9_]/gi, "_");
const DAY = 86_400_000;
const NOW = Math.floor(Date.now() / 1000) * 1000;
const sec = (ms: number) => Math.floor(ms / 1000);

interface Msg {
  id: string;
  at: number;
  source: string;
  text: string;
  label?: "ham" | "spam" | "suspect";
  campaign?: string;
}

// Ten days of traffic: the candidate rule (keyword 斑马灯笼) should hit exactly the in-window messages that carry it.
const MESSAGES: Msg[] = [
  { id: "hit-1", at: NOW - 1 * DAY, source: "13800000001", text: "斑马灯笼大促销 联系 13912345678", label: "spam", campaign: "camp-a" },
  { id: "hit-2", at: NOW - 2 * DAY, source: "13800000001", text: "斑马灯笼 限时抢购 加微信", label: "suspect", campaign: "camp-a" },
  { id: "hit-3", at: NOW - 3 * DAY, source: "13800000002", text: "晚上吃饭聊聊斑马灯笼的事，给我回电 13912345678", label: "ham" },
  { id: "hit-4", at: NOW - 4 * DAY, source: "13800000003", text: "斑马灯笼会员专享，回复TD退订", label: "spam", campaign: "camp-b" },
  { id: "miss-1", at: NOW - 1 * DAY, source: "13800000004", text: "明天开会，记得带资料" , label: "ham" },
  { id: "miss-2", at: NOW - 2 * DAY, source: "13800000005", text: "您的验证码是 123456", label: "ham" },
  // Older than the window: a hit there must not count.
  { id: "old-1", at: NOW - 9 * DAY, source: "13800000006", text: "斑马灯笼 老活动", label: "spam" },
];

const LABELS = [
  { id: "rl-1", messageId: "hit-1", label: "spam", category: "AD_Retail", at: NOW - 12 * DAY },
  { id: "rl-2", messageId: "hit-3", label: "ham", category: null, at: NOW - 10 * DAY },
  { id: "rl-3", messageId: "miss-2", label: "ham", category: null, at: NOW - 9 * DAY },
  // The same campaign reviewed again: one training row.
  { id: "rl-4", messageId: "hit-2", label: "spam", category: "AD_Retail", at: NOW - 2 * DAY },
  { id: "rl-5", messageId: "hit-4", label: "spam", category: "AD_Other", at: NOW - 1 * DAY },
  { id: "rl-6", messageId: "miss-1", label: "escalate", category: null, at: NOW - 1 * DAY },
  // A report's quoted content, no delivered message with that id.
  { id: "rl-7", messageId: "rep-1", label: "spam", category: "FR_Other", at: NOW - 3 * DAY },
];

describe.skipIf(!clickhouseUrl)("learning loop over ClickHouse 18.16", () => {
  let ch: ClickHouse;
  let rulesDir: string;

  beforeAll(async () => {
    await migrateDatabase({ url: clickhouseUrl!, logger }, database, MIGRATIONS);
    ch = createClickHouse({ url: clickhouseUrl!, database, logger });
    const insertedAt = sec(NOW);
    await ch.insert(
      "traffic_raw",
      MESSAGES.flatMap((m) => {
        const row = { id: m.id, received_at: sec(m.at), inserted_at: insertedAt, gateway_id: "gw", account: "acc", source: m.source, destination: "13900000000", text: m.text, data_coding: 8, parts: 1, partial: 0 };
        return m.id === "hit-1" ? [row, row] : [row]; // a redelivered message counts once
      }),
    );
    await ch.insert(
      "verdicts",
      MESSAGES.filter((m) => m.label).map((m) => ({
        id: `v-${m.id}`, message_id: m.id, kind: "traffic", received_at: sec(m.at), scored_at: sec(m.at), inserted_at: insertedAt, source: m.source,
        destination: "13900000000", score: 0.5, label: m.label, category: null, action: "allow", contributions: "[]", rule_ids: [],
        campaign_id: m.campaign ?? null, ruleset_version: "r", model_version: "m", receive_to_verdict_ms: 1,
      })),
    );
    await ch.insert(
      "review_labels",
      LABELS.map((l) => ({ id: l.id, case_id: `case-${l.id}`, message_id: l.messageId, label: l.label, category: l.category, reviewer: "reviewer:ann", decided_at: sec(l.at), comment: "", inserted_at: insertedAt })),
    );
    await ch.insert("reports", [
      { id: "r-1", message_id: "rep-1", received_at: sec(NOW - 3 * DAY), inserted_at: insertedAt, gateway_id: "gw", short_code: "10086999", reporter_hash: "h-secret-reporter",
        reported_number: "13800000009", content: "恭喜您中奖 请联系 13812345678", raw_text: "13800000009*恭喜您中奖 请联系 13812345678", status: "parsed", parse_error: null, allow_listed: 0 },
    ]);
    rulesDir = await mkdtemp(join(tmpdir(), "backtest-rules-"));
    await writeFile(
      join(rulesDir, "candidate.yaml"),
      "rules:\n  - id: cand.zebra\n    kind: keyword\n    keywords: [斑马灯笼]\n    score: 0.6\n    category: AD_Retail\n    action: flag\n    owner: test\n    version: 1\n    description: candidate\n",
    );
  }, 120_000);

  afterAll(async () => {
    await ch?.close();
    const admin = createClickHouse({ url: clickhouseUrl!, database: "default", logger });
    for (const db of [database, restrictedDatabase(database)]) await admin.command(sql`DROP DATABASE IF EXISTS ${ident(db)}`);
    await admin.close();
    if (rulesDir) await rm(rulesDir, { recursive: true, force: true });
  });

  it("backtest: hits exactly the in-window messages the rule should, with senders, campaigns and a precision estimate", async () => {
    const result = await runBacktest({ ch, rules: await loadRuleSet(rulesDir), days: 7, now: NOW, samples: 10, logger });
    expect(result.scanned).toBe(6);
    expect(result.hits).toBe(4);
    expect(result.samples.map((s) => s.messageId).sort()).toEqual(["hit-1", "hit-2", "hit-3", "hit-4"]);
    expect(result.distinctSenders).toBe(3);
    expect(result.campaigns).toBe(2);
    expect(result.reviewedSpam).toBe(3);
    expect(result.reviewedHam).toBe(1);
    expect(result.precisionEstimate).toBeCloseTo(0.75);
    expect(result.hitsLiveAllowed).toBe(1);
    expect(result.byRule).toEqual([{ ruleId: "cand.zebra", hits: 4, reviewedSpam: 3, reviewedHam: 1 }]);
  });

  it("backtest samples: numbers masked, a text judged legitimate withheld", async () => {
    const result = await runBacktest({ ch, rules: await loadRuleSet(rulesDir), days: 7, now: NOW, logger });
    const byId = new Map(result.samples.map((s) => [s.messageId, s]));
    expect(byId.get("hit-1")!.text).toBe("斑马灯笼大促销 联系 139******78");
    expect(byId.get("hit-1")!.text).not.toContain("13912345678");
    expect(byId.get("hit-1")!.sender).toBe("138******01");
    expect(byId.get("hit-3")!.text).toBeNull();
    expect(JSON.stringify(result.samples.map((s) => [s.sender, s.text]))).not.toMatch(/1[3-9]\d{9}/);
  });

  it("backtest: a velocity rule fires on the messages a sender's burst puts over its threshold, in time order", async () => {
    const burst = "13800000088";
    // Inserted out of time order: the backtest must still count them as the scorer did, oldest first.
    const times = [40, 10, 30, 20].map((s) => NOW - 2 * DAY + s * 1000);
    await ch.insert(
      "traffic_raw",
      [
        ...times.map((at, i) => ({ id: `burst-${i}`, at, source: burst, destination: `1390000010${i}` })),
        // Same sender count, spread over hours: never within one window.
        ...[0, 1, 2, 3].map((i) => ({ id: `spread-${i}`, at: NOW - 3 * DAY + i * 3_600_000, source: "13800000089", destination: `1390000020${i}` })),
      ].map((m) => ({ id: m.id, received_at: sec(m.at), inserted_at: sec(NOW), gateway_id: "gw", account: "acc", source: m.source, destination: m.destination, text: "明天见", data_coding: 8, parts: 1, partial: 0 })),
    );
    const rules = candidateRules(
      "rules:\n  - id: cand.burst\n    kind: velocity\n    metric: messages\n    threshold: 3\n    windowSeconds: 60\n    score: 0.5\n    category: AD_Other\n    action: flag\n    owner: test\n    version: 1\n    description: burst\n",
    );
    const result = await runBacktest({ ch, rules, days: 7, now: NOW, samples: 10, logger });
    // More than 3 in 60 s: only the burst's fourth message by time (burst-0, at +40 s; it was inserted first).
    expect(result.samples.map((s) => s.messageId)).toEqual(["burst-0"]);
    expect(result.byRule).toEqual([{ ruleId: "cand.burst", hits: 1, reviewedSpam: 0, reviewedHam: 0 }]);
    expect(result.distinctSenders).toBe(1);
  });

  it("dataset export: reviewed messages once per campaign, numbers masked, no reporter data, latest week held out", async () => {
    const data = await exportDataset({ ch, now: NOW, holdoutWeeks: 1 });
    expect(data.labelled).toBe(6); // escalation is no label
    expect(data.duplicates).toBe(1); // hit-2: campaign camp-a already has hit-1
    const byText = data.rows.map((r) => [r.split, r.label, r.category, r.text]);
    expect(byText).toEqual([
      ["train", "spam", "AD_Retail", expect.stringContaining("斑马灯笼大促销")],
      ["train", "ham", null, expect.stringContaining("斑马灯笼的事")],
      ["train", "ham", null, expect.stringContaining("验证码")],
      ["holdout", "spam", "FR_Other", expect.stringContaining("中奖")],
      ["holdout", "spam", "AD_Other", expect.stringContaining("会员专享")],
    ]);
    const tsv = toTsv(data.rows);
    expect(tsv).not.toMatch(/1[3-9]\d{9}/);
    expect(tsv).not.toContain("h-secret-reporter");
    expect(tsv).toContain("138******78");
    expect(tsv.trim().split("\n").every((l) => /^(spam|ham)\t[^\t]+$/.test(l))).toBe(true);
  });

  // Last: its rows would change what the tests above count.
  it("shadow report: the candidate's volume, would-be precision on reviewed messages, and the disagreements", async () => {
    const at = (k: number) => sec(NOW - k * 60_000);
    const row = (id: string, k: number, label: string, shadow: { label: string; score: number } | null) => ({
      id: `v-${id}`, message_id: id, kind: "traffic", received_at: at(k), scored_at: at(k), inserted_at: sec(NOW), source: "13800000077", destination: "13900000000",
      score: label === "ham" ? 0.1 : 0.9, label, category: null, action: label === "ham" ? "allow" : "block", contributions: "[]", rule_ids: [], campaign_id: null,
      ruleset_version: "r", model_version: "live1", receive_to_verdict_ms: 1,
      ...(shadow ? { shadow_model_version: "cand0123456789ab", shadow_score: shadow.score, shadow_label: shadow.label, shadow_action: "flag" } : {}),
    });
    await ch.insert("verdicts", [
      row("sh-1", 1, "ham", { label: "spam", score: 0.95 }),
      row("sh-2", 2, "ham", { label: "suspect", score: 0.8 }),
      row("sh-3", 3, "spam", { label: "spam", score: 0.99 }),
      row("sh-4", 4, "spam", { label: "ham", score: 0.2 }),
      row("sh-5", 5, "ham", { label: "ham", score: 0.1 }),
      row("sh-6", 6, "ham", null),
    ]);
    await ch.insert("review_labels", [
      ["sh-1", "spam"], ["sh-2", "ham"], ["sh-3", "spam"], ["sh-6", "spam"],
    ].map(([id, label]) => ({ id: `rl-${id}`, case_id: `case-${id}`, message_id: id, label, category: null, reviewer: "reviewer:ann", decided_at: sec(NOW), comment: "", inserted_at: sec(NOW) })));
    const report = await shadowReport(ch, { from: new Date(NOW - DAY), to: new Date(NOW + 1000) });
    expect(report.models).toEqual([
      {
        shadowModelVersion: "cand0123456789ab", shadowRulesetVersion: "", scored: 5, liveCalled: 2, shadowCalled: 3, shadowOnly: 2, liveOnly: 1,
        reviewed: { spam: 2, ham: 1, shadowCalledSpam: 2, shadowCalledHam: 1, liveCalledSpam: 1, liveCalledHam: 0 },
        shadowPrecision: 2 / 3, livePrecision: 1,
      },
    ]);
    expect(report.disagreements.map((d) => [d.messageId, d.liveLabel, d.shadowLabel, d.reviewed])).toEqual([
      ["sh-1", "ham", "spam", "spam"],
      ["sh-2", "ham", "suspect", "ham"],
      ["sh-4", "spam", "ham", null],
    ]);
  });
});
