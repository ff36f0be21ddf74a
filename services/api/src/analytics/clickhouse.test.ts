import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql, ident, type ClickHouse } from "@spam/clickhouse";
import { seedClickHouse } from "../testing/clickhouse.js";
import { ClickHouseReportAnalytics, ClickHouseTrafficAnalytics } from "./clickhouse.js";
import { ClickHouseSenderHistory } from "./sender.js";

/** The analytics queries against the real ClickHouse (18.16 locally) and the project's migrations. */
const url = process.env.CLICKHOUSE_URL ?? "";
const logger = pino({ level: "warn" });
const database = `api_analytics_${(process.env.TEST_RUN_ID ?? `p${process.pid}`).toLowerCase().replace(/[^a-z0-9_]/g, "_")}`;
let ch: ClickHouse;
const HOUR = 3_600_000;
const fmt = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");
const range = { from: new Date(Date.now() - 40 * 24 * HOUR), to: new Date(Date.now() + HOUR) };

describe.skipIf(!url)("analytics on ClickHouse", () => {
  beforeAll(async () => {
    ch = await seedClickHouse(url, database, logger);
    const now = Date.now();
    const t0 = now - 30 * HOUR;
    await ch.insert("reports", [
      ...[1, 2, 3].map((i) => ({ id: `rep-${i}`, message_id: `rm-${i}`, received_at: fmt(t0), gateway_id: "gw", short_code: "10086999", reporter_hash: `h${i}`, reported_number: "17011110000", content: "领奖请访问 WWW.Prize-Win.cc/x", raw_text: "x", status: "parsed", parse_error: null, allow_listed: 0 })),
      { id: "rep-4", message_id: "rm-4", received_at: fmt(t0), gateway_id: "gw", short_code: "10086999", reporter_hash: "h1", reported_number: "17022220000", content: null, raw_text: "x", status: "parsed", parse_error: null, allow_listed: 0 },
      // A redelivered report row: counted once.
      { id: "rep-4", message_id: "rm-4", received_at: fmt(t0), gateway_id: "gw", short_code: "10086999", reporter_hash: "h1", reported_number: "17022220000", content: null, raw_text: "x", status: "parsed", parse_error: null, allow_listed: 0 },
    ]);
    await ch.insert("report_assessments", [1, 2, 3, 4].map((i) => ({
      report_id: `rep-${i}`, reported_number: "17011110000", reporter_hash: `h${i}`, report_received_at: fmt(t0), assessed_at: fmt(t0),
      verification: i <= 2 ? "verified" : "unverified", matched_message_id: null, similarity: null, case_id: "c1", reporter_reputation: 0.5,
      reporter_history: 0, allow_listed: 0, campaign_id: i <= 3 ? "cmp-a" : null, verdict_label: "spam",
    })));
    await ch.insert("report_outcomes", [1, 2, 3, 4].map((i) => ({
      report_id: `rep-${i}`, case_id: "c1", outcome: "blocked", decided_by: "policy:x", reporter_hash: `h${i}`,
      report_received_at: fmt(t0), decided_at: fmt(t0 + i * 10 * HOUR), report_to_outcome_s: i * 10 * 3600,
    })));
  }, 180_000);

  afterAll(async () => {
    await ch?.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`);
    await ch?.close();
  });

  it("spam volume by day from the hourly aggregate, redelivered verdicts counted once", async () => {
    const traffic = new ClickHouseTrafficAnalytics(ch);
    const before = await traffic.spamVolume(range, "day");
    const total = before.reduce((s, p) => s + p.count, 0);
    expect(total).toBeGreaterThan(2500);
    expect(new Set(before.map((p) => p.category))).toEqual(new Set(["fraud", "phishing", "gambling", "loans", "advertising"]));
    // Redeliver a verdict row that is already there.
    await ch.insert("verdicts", [{ id: "seed-0-0", message_id: "seed-m-0-0", kind: "traffic", received_at: fmt(Date.now()), scored_at: fmt(Date.now()), source: "1", destination: "2", score: 0.9, label: "spam", category: "fraud", action: "block", contributions: "[]", rule_ids: [], campaign_id: null, ruleset_version: "s", model_version: "s", receive_to_verdict_ms: 1 }]);
    const monthly = await traffic.spamVolume(range, "month");
    expect(monthly.reduce((s, p) => s + p.count, 0)).toBeLessThanOrEqual(total + 1); // +1 only if the redelivery fell into another hour
    const hits = await traffic.ruleHits(range);
    expect(hits[0]?.hits).toBeGreaterThan(100);
  });

  it("spam volume shows commercial messages as their own label, apart from spam, whatever their action", async () => {
    const traffic = new ClickHouseTrafficAnalytics(ch);
    const at = fmt(Date.now());
    const row = (id: string, label: string, category: string | null, action: string) => ({
      id, message_id: `m-${id}`, kind: "traffic", received_at: at, scored_at: at, source: "1069012345", destination: "2", score: 0.9, label, category, action,
      contributions: "[]", rule_ids: [], campaign_id: null, ruleset_version: "s", model_version: "s", receive_to_verdict_ms: 1,
    });
    const before = await traffic.spamVolume(range, "day");
    const spamBefore = before.filter((p) => p.label === "spam").reduce((s, p) => s + p.count, 0);
    await ch.insert("verdicts", [
      row("com-1", "commercial", "commercial", "flag"), row("com-2", "commercial", "commercial", "flag"), row("com-3", "commercial", "commercial", "allow"),
      row("sus-1", "suspect", null, "flag"),
    ]);
    const after = await traffic.spamVolume(range, "day");
    const commercial = after.filter((p) => p.label === "commercial");
    expect(commercial.reduce((s, p) => s + p.count, 0)).toBe(3);
    expect(new Set(commercial.map((p) => p.category))).toEqual(new Set(["commercial"]));
    expect(commercial.filter((p) => p.action === "allow").reduce((s, p) => s + p.count, 0)).toBe(1);
    // Neither counted as spam, and suspect messages stay out of the spam volume.
    expect(after.filter((p) => p.label === "spam").reduce((s, p) => s + p.count, 0)).toBe(spamBefore);
    const t = await new ClickHouseSenderHistory(ch).senderTraffic("1069012345");
    expect(t.days.reduce((s, d) => s + d.commercial, 0)).toBe(3);
    expect(t.days.reduce((s, d) => s + d.spam, 0)).toBe(0);
  });

  it("reports per day with the share verified; top senders, domains, campaigns; outcome percentiles", async () => {
    const reports = new ClickHouseReportAnalytics(ch);
    const days = await reports.reportsPerDay(range);
    expect(days.reduce((s, d) => s + d.reports, 0)).toBe(4);
    expect(days.reduce((s, d) => s + d.verified, 0)).toBe(2);
    const senders = await reports.topReported("sender", range, 5);
    expect(senders[0]).toEqual({ key: "17011110000", reports: 3, reporters: 3 });
    expect(senders[1]).toEqual({ key: "17022220000", reports: 1, reporters: 1 });
    expect((await reports.topReported("domain", range, 5))[0]).toEqual({ key: "prize-win.cc", reports: 3, reporters: 3 });
    expect((await reports.topReported("campaign", range, 5))[0]).toEqual({ key: "cmp-a", reports: 3, reporters: 3 });
    const outcome = await reports.reportOutcome(range, 48);
    expect(outcome.decided).toBe(4);
    expect(outcome.withinSla).toBe(4);
    expect(outcome.p50Hours).toBeGreaterThanOrEqual(20);
    expect(outcome.p90Hours).toBeGreaterThanOrEqual(30);
  });

  it("sender traffic: messages by day and label, reach, and the block-list state", async () => {
    const sender = "17000000005"; // one of the seeded sources
    await ch.insert("blocklist_versions", [
      { key: `sender:${sender}`, version: 1, kind: "sender", value: sender, state: "active", reason: "r", evidence_report_ids: [], evidence_verdict_ids: [], created_by: "policy:x", created_at: fmt(Date.now()), expires_at: null, changed_at: fmt(Date.now()) },
      { key: `sender:${sender}`, version: 2, kind: "sender", value: sender, state: "lifted", reason: "appeal", evidence_report_ids: [], evidence_verdict_ids: [], created_by: "reviewer:ana", created_at: fmt(Date.now()), expires_at: null, changed_at: fmt(Date.now()) },
    ]);
    const t = await new ClickHouseSenderHistory(ch).senderTraffic(sender);
    expect(t.messages).toBeGreaterThan(10);
    expect(t.days.reduce((s, d) => s + d.spam, 0)).toBe(t.messages);
    expect(t.block).toMatchObject({ state: "lifted", createdBy: "reviewer:ana" });
    const none = await new ClickHouseSenderHistory(ch).senderTraffic("nobody'); DROP TABLE verdicts; --");
    expect(none).toMatchObject({ messages: 0, firstSeen: null, block: null });
  });
});
