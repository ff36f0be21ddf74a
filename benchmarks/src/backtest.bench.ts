import { loadavg } from "node:os";
import pino from "pino";
import { repoPath } from "@spam/repo-paths";
import { z } from "zod";
import { createClickHouse, ensureDatabase, ident, migrateDatabase, restrictedDatabase, sql } from "@spam/clickhouse";
import { runBacktest } from "@spam/learning";
import { loadRuleSet } from "@spam/rules";
import { loadCorpus } from "./corpus.js";
import { usageOnHelp } from "./lib/usage.js";

usageOnHelp(`usage: nice -n 10 node benchmarks/dist/backtest.bench.js [--rows 1000000] [--days 30] [--rules DIR] [--data FILE.tsv]
  [--database NAME --keep]   (reuse a scratch database filled by an earlier run; keep it afterwards)`);
// Fills a scratch ClickHouse database with N stored messages spread over the window (traffic, live
// verdicts, a few thousand review labels), then times `spam rules backtest` over it (runBacktest).
const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const rows = Number(arg("--rows") ?? 1_000_000);
const days = Number(arg("--days") ?? 30);
const keep = argv.includes("--keep");
const url = process.env.CLICKHOUSE_URL ?? "http://127.0.0.1:18123";
const database = arg("--database") ?? `bench_backtest_${Date.now().toString(36)}`;
const rulesDir = arg("--rules") ?? repoPath("rules");
const logger = pino({ level: "warn" }, pino.destination(2));
const MIGRATIONS = repoPath("infra/clickhouse/migrations");
const DAY = 86_400_000;
const now = Date.now();

await ensureDatabase({ url, logger }, database);
const ch = createClickHouse({ url, database, logger, requestTimeoutMs: 120_000 });
const Count = z.object({ n: z.coerce.number() });
const stored = async () => (await ch.query(sql`SELECT count() AS n FROM traffic_raw`, Count))[0]!.n;
let fillSeconds = 0;
if (!(await ch.query(sql`EXISTS TABLE traffic_raw`, z.object({ result: z.coerce.number() })))[0]?.result || (await stored()) < rows) {
  await migrateDatabase({ url, logger }, database, MIGRATIONS);
  const { texts } = loadCorpus(argv);
  const t0 = Date.now();
  const chunk = 50_000;
  const sec = (ms: number) => Math.floor(ms / 1000);
  const insertedAt = sec(now);
  for (let start = 0; start < rows; start += chunk) {
    const traffic: Record<string, unknown>[] = [];
    const verdicts: Record<string, unknown>[] = [];
    const labels: Record<string, unknown>[] = [];
    for (let i = start; i < Math.min(rows, start + chunk); i++) {
      const at = sec(now - 60_000 - ((i * 7919) % (days * DAY - 120_000)));
      const source = `13${String(800_000_000 + ((i * 104_729) % 50_000)).padStart(9, "0")}`;
      const id = `bm-${i}`;
      traffic.push({ id, received_at: at, inserted_at: insertedAt, gateway_id: "gw", account: "acc", source, destination: `139${String(i % 1e8).padStart(8, "0")}`, text: texts[i % texts.length]!, data_coding: 8, parts: 1, partial: 0 });
      const spam = i % 3 === 0;
      verdicts.push({
        id: `v-${id}`, message_id: id, kind: "traffic", received_at: at, scored_at: at, inserted_at: insertedAt, source, destination: "13900000000", score: spam ? 0.9 : 0.1,
        label: spam ? "spam" : "ham", category: null, action: spam ? "block" : "allow", contributions: "[]", rule_ids: [], campaign_id: i % 50 === 0 ? `camp-${i % 977}` : null,
        ruleset_version: "r", model_version: "m", receive_to_verdict_ms: 3,
      });
      if (i % 200 === 0) labels.push({ id: `rl-${i}`, case_id: `c-${i}`, message_id: id, label: spam ? "spam" : "ham", category: null, reviewer: "reviewer:bench", decided_at: at, comment: "", inserted_at: insertedAt });
    }
    await ch.insert("traffic_raw", traffic);
    await ch.insert("verdicts", verdicts);
    await ch.insert("review_labels", labels);
  }
  fillSeconds = (Date.now() - t0) / 1000;
  process.stderr.write(`filled ${database} with ${rows} messages in ${fillSeconds.toFixed(1)} s\n`);
}

const rules = await loadRuleSet(rulesDir);
const cpu0 = process.cpuUsage();
const result = await runBacktest({ ch, rules, days, now, logger, samples: 10, onProgress: (n) => process.stderr.write(`${n}\r`) });
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({
    bench: "rules-backtest",
    database,
    storedMessages: await stored(),
    scanned: result.scanned,
    hits: result.hits,
    distinctSenders: result.distinctSenders,
    campaigns: result.campaigns,
    precisionEstimate: result.precisionEstimate,
    rules: rules.rules.length,
    seconds: Number(result.seconds.toFixed(2)),
    msgsPerSec: Math.round(result.scanned / result.seconds),
    // This process only: ClickHouse's share of the work runs in the server.
    nodeCpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
    fillSeconds: Number(fillSeconds.toFixed(1)),
    loadAvg1m: Number(loadavg()[0]!.toFixed(2)),
  })}\n`,
);
await ch.close();
if (!keep) {
  const admin = createClickHouse({ url, database: "default", logger });
  for (const db of [database, restrictedDatabase(database)]) await admin.command(sql`DROP DATABASE IF EXISTS ${ident(db)}`);
  await admin.close();
}
