import { performance } from "node:perf_hooks";
import pino from "pino";
import { repoPath } from "@spam/repo-paths";
import { createClickHouse, ensureDatabase, ident, runMigrations, sql } from "@spam/clickhouse";
import { ClickHouseReportAnalytics, ClickHouseTrafficAnalytics } from "../analytics/clickhouse.js";

/**
 * Times the analytics endpoints' ClickHouse queries on a million verdicts (and
 * 50k reports) spread over 30 days. Usage (ClickHouse running, e.g. after npm start):
 *   CLICKHOUSE_URL=http://127.0.0.1:8123 node services/api/dist/bench/analytics.js [verdicts]
 * Uses its own database (api_bench), dropped at the end unless KEEP=1.
 */
const MIGRATIONS = repoPath("infra", "clickhouse", "migrations");
const url = process.env.CLICKHOUSE_URL ?? "http://127.0.0.1:8123";
const total = Number(process.argv[2] ?? 1_000_000);
const logger = pino({ level: "warn" });
const database = "api_bench";
const DAY = 86_400_000;
const out = (s: string) => process.stdout.write(`${s}\n`);
const fmt = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");
const CATS = ["fraud", "phishing", "gambling", "loans", "advertising", "escort", "invoices"];

async function main(): Promise<void> {
  await ensureDatabase({ url, logger }, database);
  const ch = createClickHouse({ url, database, logger, requestTimeoutMs: 300_000 });
  await runMigrations(ch, MIGRATIONS, logger);
  const now = Date.now();
  const [existing] = await ch.query(sql`SELECT count() AS n FROM verdicts`, (await import("zod")).z.object({ n: (await import("zod")).z.coerce.number() }));
  if ((existing?.n ?? 0) < total) {
    const t0 = performance.now();
    const batch = 100_000;
    for (let start = 0; start < total; start += batch) {
      const rows: Record<string, unknown>[] = [];
      for (let i = start; i < Math.min(total, start + batch); i++) {
        const at = now - ((i * 7919) % (30 * DAY));
        const spam = i % 5 !== 0;
        const cat = CATS[i % CATS.length] as string;
        rows.push({
          id: `b${i}`, message_id: `bm${i}`, kind: "traffic", received_at: fmt(at), scored_at: fmt(at),
          source: `170${String(i % 50_000).padStart(8, "0")}`, destination: `139${String(i).padStart(8, "0")}`,
          score: spam ? 0.93 : 0.08, label: spam ? "spam" : "ham", category: spam ? cat : null, action: spam ? (i % 3 ? "block" : "flag") : "allow",
          contributions: "[]", rule_ids: spam ? [`${cat}.r${i % 4}`] : [], campaign_id: i % 11 === 0 ? `cmp${i % 300}` : null,
          ruleset_version: "b", model_version: "b", receive_to_verdict_ms: 2,
        });
      }
      await ch.insert("verdicts", rows);
    }
    const reports: Record<string, unknown>[] = [];
    for (let i = 0; i < total / 20; i++) {
      const at = now - ((i * 104_729) % (30 * DAY));
      reports.push({ id: `br${i}`, message_id: `brm${i}`, received_at: fmt(at), gateway_id: "gw", short_code: "10086999", reporter_hash: `h${i % 20_000}`,
        reported_number: `170${String(i % 5_000).padStart(8, "0")}`, content: i % 4 === 0 ? `点击 http://win${i % 50}.top 领奖` : "退订回T", raw_text: "x", status: "parsed", parse_error: null, allow_listed: 0 });
    }
    await ch.insert("reports", reports);
    out(`inserted ${total} verdicts and ${reports.length} reports in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const traffic = new ClickHouseTrafficAnalytics(ch);
  const rep = new ClickHouseReportAnalytics(ch);
  const range = { from: new Date(now - 30 * DAY), to: new Date(now + 60_000) };
  const cases: [string, () => Promise<unknown[]>][] = [
    ["spam volume by day (30 d)", () => traffic.spamVolume(range, "day")],
    ["spam volume by hour (30 d)", () => traffic.spamVolume(range, "hour")],
    ["spam volume by month", () => traffic.spamVolume(range, "month")],
    ["rule hits (30 d)", () => traffic.ruleHits(range)],
    ["reports per day (30 d)", () => rep.reportsPerDay(range)],
    ["top reported senders", () => rep.topReported("sender", range, 10)],
    ["top reported domains", () => rep.topReported("domain", range, 10)],
    ["report to outcome p50/p90", async () => [await rep.reportOutcome(range, 48)]],
  ];
  out(`query                          rows   median ms   max ms   (5 runs, ${total} verdicts)`);
  for (const [name, fn] of cases) {
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      rows = (await fn()).length;
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    out(`${name.padEnd(30)} ${String(rows).padStart(5)} ${times[2]!.toFixed(0).padStart(11)} ${times[4]!.toFixed(0).padStart(8)}`);
  }
  if (process.env.KEEP !== "1") await ch.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`);
  await ch.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`benchmark failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
