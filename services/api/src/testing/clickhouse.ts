import { repoPath } from "@spam/repo-paths";
import type { Logger } from "pino";
import { createClickHouse, ensureDatabase, runMigrations, type ClickHouse } from "@spam/clickhouse";

const MIGRATIONS = repoPath("infra", "clickhouse", "migrations");
const HOUR = 3_600_000;

/** A ClickHouse database with the project's migrations and 30 days of verdicts, for the traffic charts. */
export async function seedClickHouse(url: string, database: string, logger: Logger): Promise<ClickHouse> {
  await ensureDatabase({ url, logger }, database);
  const ch = createClickHouse({ url, database, logger });
  await runMigrations(ch, MIGRATIONS, logger);
  const categories = ["fraud", "phishing", "gambling", "loans", "advertising"];
  const rows: Record<string, unknown>[] = [];
  const now = Date.now();
  for (let day = 29; day >= 0; day--) {
    // Falling volume: the campaign against spam works.
    const perDay = Math.round(120 * (0.6 + (day / 29) * 0.4));
    for (let i = 0; i < perDay; i++) {
      const cat = categories[i % categories.length] as string;
      const at = new Date(now - day * 24 * HOUR - (i % 20) * HOUR);
      const ts = at.toISOString().slice(0, 19).replace("T", " ");
      rows.push({
        id: `seed-${day}-${i}`,
        message_id: `seed-m-${day}-${i}`,
        kind: "traffic",
        received_at: ts,
        scored_at: ts,
        source: `1700000${String(i % 97).padStart(4, "0")}`,
        destination: `1390000${String(i).padStart(4, "0")}`,
        score: 0.9,
        label: "spam",
        category: cat,
        action: i % 3 === 0 ? "flag" : "block",
        contributions: "[]",
        rule_ids: [`${cat}.rule${i % 3}`],
        campaign_id: null,
        ruleset_version: "seed",
        model_version: "seed",
        receive_to_verdict_ms: 3,
      });
    }
  }
  await ch.insert("verdicts", rows);
  return ch;
}
