import { randomUUID } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createClickHouse, ensureDatabase, ident, runMigrations, sql, v, type ClickHouse } from "@spam/clickhouse";
import type { Verdict } from "@spam/contracts";
import { verdictRow } from "@spam/sink-service";
import { queryCampaignCounts, type CampaignWindow } from "./campaign-counts.js";
import { repoPath } from "@spam/repo-paths";

// The campaign-counts query against the real ClickHouse (18.16 locally), on rows as the sink writes them.
const clickhouseUrl = process.env.CLICKHOUSE_URL;
const logger = pino({ level: "silent" });
const MIGRATIONS = repoPath("infra/clickhouse/migrations");
const MIN = 60_000;
// 10:30 UTC: with a 10-minute window the cutoff is 10:20 and the counted hours start at 10:00.
const NOW = Date.UTC(2026, 0, 15, 10, 30);

describe.skipIf(!clickhouseUrl)("active campaign counts in ClickHouse", () => {
  const database = `campaign_counts_${(process.env.TEST_RUN_ID ?? "local").replace(/[^A-Za-z0-9_]/g, "_")}_${randomUUID().slice(0, 8)}`;
  let ch: ClickHouse;

  beforeAll(async () => {
    await ensureDatabase({ url: clickhouseUrl!, logger }, database);
    ch = createClickHouse({ url: clickhouseUrl!, database, logger });
    await runMigrations(ch, MIGRATIONS, logger);
  });
  afterAll(async () => {
    await ch?.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`);
    await ch?.close();
  });

  let seq = 0;
  function verdict(campaignId: string | null, source: string, destination: string, at: number, kind: "traffic" | "report" = "traffic", messageId = `m-${++seq}`): Verdict {
    return {
      v: 1, id: `v-${messageId}`, messageId, kind, receivedAt: at, scoredAt: at + 5, source, destination, score: 0.4, label: "ham", category: null,
      action: "allow", contributions: [], campaignId, rulesetVersion: "r", modelVersion: "m", timingsUs: {},
    };
  }

  it("returns the campaigns active in the window with exact counts over its hours, filtered, ordered and bounded", async () => {
    const at = (h: number, m: number) => Date.UTC(2026, 0, 15, h, m);
    const rows: Verdict[] = [];
    // A: 25 senders × 2 messages to distinct recipients this hour, plus older traffic from 5 more senders.
    for (let s = 0; s < 25; s++) for (let k = 0; k < 2; k++) rows.push(verdict("cA", `1380000${1000 + s}`, `1390000${2000 + s * 2 + k}`, at(10, 25)));
    for (let s = 0; s < 5; s++) rows.push(verdict("cA", `1370000${1000 + s}`, "13900000000", at(9, 10)));
    // Three reports scored into A this hour (one redelivered), one last hour; a report of no campaign.
    rows.push(verdict("cA", "13800001000", "10086999", at(10, 26), "report", "r-1"));
    rows.push(verdict("cA", "13800001000", "10086999", at(10, 26), "report", "r-1"));
    rows.push(verdict("cA", "13800001001", "10086999", at(10, 27), "report", "r-2"));
    rows.push(verdict("cA", "13800001002", "10086999", at(10, 28), "report", "r-3"));
    rows.push(verdict("cA", "13800001003", "10086999", at(9, 30), "report", "r-old"));
    rows.push(verdict(null, "13800001003", "10086999", at(10, 28), "report", "r-none"));
    // A redelivered traffic verdict (same id) counts once.
    rows.push(rows[0]!);
    // B: one sender, no report: left out. C: one sender with a report: kept.
    for (let k = 0; k < 3; k++) rows.push(verdict("cB", "13600000001", `1390000${3000 + k}`, at(10, 25)));
    rows.push(verdict("cC", "13600000002", "13900004000", at(10, 25)));
    rows.push(verdict("cC", "13600000002", "10086999", at(10, 25), "report", "r-c"));
    // D: many senders but its last message is before the cutoff (10:20): not active.
    for (let s = 0; s < 5; s++) rows.push(verdict("cD", `1350000${1000 + s}`, "13900005000", at(10, 5)));
    // E: three senders inside the window.
    for (let s = 0; s < 3; s++) rows.push(verdict("cE", `1340000${1000 + s}`, "13900006000", at(10, 22)));
    rows.push(verdict(null, "13300000000", "13900007000", at(10, 25)));
    // Two inserts, as two sink batches would be.
    await ch.insert("verdicts", rows.slice(0, 40).map(verdictRow));
    await ch.insert("verdicts", rows.slice(40).map(verdictRow));

    const window: CampaignWindow = { windowMs: 10 * MIN, minSenders: 2, maxCampaigns: 100 };
    const sweep = (now: number, w = window) => queryCampaignCounts(ch, now, w, { from: now - w.windowMs }, true);
    const got = await sweep(NOW);
    // The hour start in the server's time zone.
    const since = (await ch.query(sql`SELECT toUInt32(toStartOfHour(${v.dateTime(at(10, 20))})) AS since`, z.object({ since: z.coerce.number() })))[0]!.since;
    expect(got.map((c) => c.campaignId)).toEqual(["cA", "cE", "cC"]);
    expect(got[0]).toEqual({
      v: 1, campaignId: "cA", messages: 50, senders: 25, recipients: 50, reports: 3, firstSeen: at(10, 25), lastSeen: at(10, 25),
      since: since * 1000, computedAt: NOW, sizedAt: NOW,
    });
    expect(got[1]).toMatchObject({ campaignId: "cE", messages: 3, senders: 3, recipients: 1, reports: 0 });
    expect(got[2]).toMatchObject({ campaignId: "cC", messages: 1, senders: 1, reports: 1 });

    // The bound keeps the campaigns with the most senders.
    expect((await sweep(NOW, { ...window, maxCampaigns: 2 })).map((c) => c.campaignId)).toEqual(["cA", "cE"]);
    // A wider window reaches last hour: A's older senders and report count, and D is active.
    const wide = await sweep(NOW, { ...window, windowMs: 90 * MIN });
    expect(wide.find((c) => c.campaignId === "cA")).toMatchObject({ messages: 55, senders: 30, reports: 4, firstSeen: at(9, 10) });
    expect(wide.find((c) => c.campaignId === "cD")).toMatchObject({ senders: 5 });
    // An hour later nothing is active.
    expect(await sweep(NOW + 60 * MIN)).toEqual([]);

    // Fast tick: only what was active since 10:24 (A's traffic, C's report), senders and reports only.
    const boost = await queryCampaignCounts(ch, NOW, window, { from: at(10, 24) }, false);
    expect(boost.map((c) => [c.campaignId, c.senders, c.reports, c.messages, c.recipients, c.sizedAt])).toEqual([
      ["cA", 25, 3, 0, 0, 0],
      ["cC", 1, 1, 0, 0, 0],
    ]);
    // Listed campaigns, with the same filters (B has one sender and no report; cX does not exist).
    const listed = await queryCampaignCounts(ch, NOW, window, { keys: ["cE", "cB", "cX", "c'X"] }, true);
    expect(listed.map((c) => [c.campaignId, c.senders, c.messages])).toEqual([["cE", 3, 3]]);
  });
});
