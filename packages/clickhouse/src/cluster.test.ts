import { repoPath } from "@spam/repo-paths";
import { describe, expect, it } from "vitest";
import { clusterMigrations } from "./cluster.js";
import { readMigrations } from "./migrations.js";

const MIGRATIONS = repoPath("infra/clickhouse/migrations");
const RESTRICTED = repoPath("infra/clickhouse/restricted");
const file = (statements: string[]) => [{ version: 1, name: "0001_x.sql", checksum: "c", statements }];

describe("the cluster variant of the schema", () => {
  it("every MergeTree table becomes a replicated local table behind a Distributed table of the same name, sharded by its sort key", async () => {
    const statements = (await readMigrations(MIGRATIONS, { cluster: "spam" })).flatMap((f) => f.statements);
    const verdicts = statements.filter((s) => /^CREATE TABLE IF NOT EXISTS verdicts(_local)? /.test(s));
    expect(verdicts[0]).toMatch(/^CREATE TABLE IF NOT EXISTS verdicts_local ON CLUSTER `spam`\n/);
    expect(verdicts[0]).toContain("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', inserted_at)");
    expect(verdicts[1]).toBe("CREATE TABLE IF NOT EXISTS verdicts ON CLUSTER `spam` AS verdicts_local\nENGINE = Distributed(`spam`, currentDatabase(), verdicts_local, cityHash64(received_at, id))");
    expect(statements.find((s) => s.startsWith("CREATE TABLE IF NOT EXISTS cases "))).toContain("cityHash64(case_id)");
    expect(statements.find((s) => s.startsWith("CREATE TABLE IF NOT EXISTS campaign_stats_agg_local "))).toContain("ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')");
    // Every statement runs on the whole cluster except the backfill, which goes once through the Distributed tables.
    expect(statements.filter((s) => !s.includes(" ON CLUSTER `spam`")).map((s) => s.split("\n")[0])).toEqual(["INSERT INTO campaign_reports_agg"]);
  });

  it("a materialized view reads the local table the shard stores and writes the local target; plain views read the Distributed tables", async () => {
    const statements = (await readMigrations(MIGRATIONS, { cluster: "spam" })).flatMap((f) => f.statements);
    const mv = statements.find((s) => s.startsWith("CREATE MATERIALIZED VIEW IF NOT EXISTS campaign_stats_mv"));
    expect(mv).toMatch(/ TO campaign_stats_agg_local AS\n/);
    expect(mv).toContain("FROM verdicts_local\n");
    const view = statements.find((s) => s.startsWith("CREATE VIEW IF NOT EXISTS campaigns "));
    expect(view).toContain("FROM campaign_stats_agg\n");
    expect(view).not.toContain("_local");
  });

  it("a dropped table goes on every node with its local table; the restricted store has its cluster form too", async () => {
    const statements = (await readMigrations(MIGRATIONS, { cluster: "spam" })).flatMap((f) => f.statements);
    expect(statements.slice(-2)).toEqual([
      "DROP TABLE IF EXISTS restricted_reply_recipients ON CLUSTER `spam`",
      "DROP TABLE IF EXISTS restricted_reply_recipients_local ON CLUSTER `spam`",
    ]);
    const store = (await readMigrations(RESTRICTED, { cluster: "spam" })).flatMap((f) => f.statements);
    expect(store.map((s) => s.split("\n")[0])).toEqual([
      "CREATE TABLE IF NOT EXISTS restricted_report_contacts_local ON CLUSTER `spam`",
      "CREATE TABLE IF NOT EXISTS restricted_report_contacts ON CLUSTER `spam` AS restricted_report_contacts_local",
      "CREATE TABLE IF NOT EXISTS restricted_reply_recipients_local ON CLUSTER `spam`",
      "CREATE TABLE IF NOT EXISTS restricted_reply_recipients ON CLUSTER `spam` AS restricted_reply_recipients_local",
    ]);
  });

  it("a statement without a cluster form, a view into a table no migration made, or a bad cluster name is refused", () => {
    expect(() => clusterMigrations(file(["ALTER TABLE verdicts ADD COLUMN x String"]), { cluster: "spam" })).toThrow(/0001_x.sql: no cluster form/);
    expect(() => clusterMigrations(file(["CREATE MATERIALIZED VIEW IF NOT EXISTS m TO nowhere AS SELECT 1 AS x"]), { cluster: "spam" })).toThrow(/writes nowhere/);
    expect(() => clusterMigrations(file([]), { cluster: "spam`; DROP" })).toThrow(/invalid identifier/);
  });
});
