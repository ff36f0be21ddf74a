import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { createChdbConnection } from "chdb/connection";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { repoPath } from "@spam/repo-paths";
import { createClickHouse, ensureDatabase, migrateDatabase, raw, readMigrations, restrictedDatabase, runMigrations, sql, ident, v, type ClickHouse, type ClickHouseOptions } from "@spam/clickhouse";
import type { BlockListEntry, RawMessage } from "@spam/contracts";
import { ClickHouseReportAnalytics, ClickHouseSenderHistory, ClickHouseTrafficAnalytics } from "@spam/api-service";
import { deciderCase, flaggedVerdict, parsedReport, reportAssessed } from "@spam/api-service/testing";
import { clickHouseTrafficLookup, DeciderCore, defaultPolicyPath, loadPolicy, queryCampaignCounts, rebuildFromClickHouse } from "@spam/decider-service";
import { exportDataset, runBacktest, shadowReport } from "@spam/learning";
import { loadRuleSet } from "@spam/rules";
import { blockListRows, deadLetterRows, decisionRows, deliveryRows, enforcementRows, replyRows, reportRows, reviewLabelRows, rowsForInsert, trafficRows, verdictRows, type TableRow } from "@spam/sink-service";

// Every migration and the services' statements, on ClickHouse 18.16 (the server the global setup
// runs) and on current ClickHouse (chdb, in-process), with the same rows: both must answer alike.
const clickhouseUrl = process.env.CLICKHOUSE_URL;
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
const MIGRATIONS = repoPath("infra/clickhouse/migrations");
const RESTRICTED = repoPath("infra/clickhouse/restricted");
const RULES = repoPath("rules");
const database = `t_${process.env.TEST_RUN_ID ?? "local"}_sql_${Date.now().toString(36)}`.replace(/[^a-z0-9_]/gi, "_");

const HOUR = 3_600_000;
const NOW = Math.floor(Date.now() / HOUR) * HOUR - HOUR / 2;
const sender = "13800138000";
const recipient = "13900139000";

function fixtureRows(): TableRow[] {
  const rows: TableRow[] = [];
  const traffic = (n: number): RawMessage => ({
    v: 1, id: `m-${n}`, receivedAt: NOW - n * 60_000, gatewayId: "gw1", account: "acc", source: sender, destination: recipient,
    text: `您的快递丢失，请联系客服 ${n}`, dataCoding: 8, parts: 1, partial: false,
  });
  for (let n = 0; n < 6; n++) rows.push(...trafficRows(traffic(n)));
  // A redelivered message: its row twice (18.16 keeps both until a merge, current ClickHouse collapses them).
  rows.push(...trafficRows(traffic(2)));
  // Other pairs, for lookups of several reports at once: another sender (written with +86), another recipient.
  rows.push(...trafficRows({ ...traffic(1), id: "m-other-sender", source: "+8613700137000" }));
  rows.push(...trafficRows({ ...traffic(1), id: "m-other-recipient", destination: "13900139111" }));
  for (let n = 0; n < 6; n++) {
    rows.push(...verdictRows(flaggedVerdict({
      id: `v-${n}`, messageId: `m-${n}`, receivedAt: NOW - n * 60_000, scoredAt: NOW - n * 60_000 + 5,
      source: n % 2 === 0 ? sender : `1380013800${n}`, destination: `1390013900${n}`, label: n % 3 === 0 ? "spam" : "suspect",
      campaignId: n < 4 ? "camp-1" : null, score: 0.5 + n / 20,
    })));
  }
  for (let n = 0; n < 4; n++) {
    const report = parsedReport({ id: `r-${n}`, messageId: `rm-${n}`, receivedAt: NOW - n * HOUR, reporterHash: `h-${n % 2}`, reportedNumber: sender });
    rows.push(...reportRows(report));
    rows.push(...decisionRows(reportAssessed({ id: `ra-${n}`, reportId: `r-${n}`, reporterHash: `h-${n % 2}`, reportReceivedAt: NOW - n * HOUR, assessedAt: NOW, campaignId: "camp-1" })));
  }
  rows.push(...decisionRows(deciderCase({ caseId: "case-1", openedAt: NOW, updatedAt: NOW, slaDueAt: NOW + 48 * HOUR })));
  rows.push(...decisionRows(deciderCase({ id: "case-2-v1", caseId: "case-2", openedAt: NOW - HOUR, updatedAt: NOW - HOUR, slaDueAt: NOW + 47 * HOUR })));
  rows.push(...decisionRows(deciderCase({ id: "case-2-v2", caseId: "case-2", version: 2, state: "decided", decision: "blocked", decidedBy: "reviewer:ann", openedAt: NOW - HOUR, updatedAt: NOW, decidedAt: NOW, slaDueAt: NOW + 47 * HOUR })));
  rows.push(...decisionRows({ v: 1, type: "report_outcome", id: "ro-1", reportId: "r-1", caseId: "case-2", outcome: "blocked", decidedBy: "reviewer:ann", reporterHash: "h-1", reportReceivedAt: NOW - HOUR, decidedAt: NOW }));
  rows.push(...decisionRows({ v: 1, type: "audit", id: "au-1", at: NOW, actor: "reviewer:ann", action: "case_decided", subjectKind: "sender", subject: sender, reason: "spam", detail: "{}" }));
  const block: BlockListEntry = { v: 1, kind: "sender", value: sender, state: "active", reason: "verified reports", evidence: { reportIds: ["r-1"], verdictIds: ["v-0"] }, createdBy: "decider", createdAt: NOW, expiresAt: NOW + 24 * HOUR, version: 1 };
  rows.push(...blockListRows(block, NOW), ...blockListRows({ ...block, state: "lifted", version: 2, createdBy: "reviewer:ann" }, NOW + 1000));
  rows.push(...replyRows({ v: 1, id: "rp-1", reportId: "r-1", to: "13700137000", from: "10086999", kind: "outcome_blocked", text: "blocked", createdAt: NOW }));
  rows.push(...reviewLabelRows({ v: 1, id: "rl-1", caseId: "case-2", messageId: "m-0", label: "spam", category: "fraud", reviewer: "reviewer:ann", decidedAt: NOW, comment: "" }));
  for (const [n, kind] of (["sender", "domain", "fingerprint"] as const).entries()) {
    rows.push(...enforcementRows({ v: 1, id: `en-${n}`, messageId: `m-${n}`, at: NOW - n * 60_000, gatewayId: "gw1", kind, value: kind === "domain" ? "spam.example" : sender, policy: "reject", source: sender, destination: recipient }));
  }
  for (const [n, outcome] of (["forwarded", "stopped"] as const).entries()) {
    rows.push(...deliveryRows({
      v: 1, id: `m-${n}:${outcome}`, messageId: `m-${n}`, receivedAt: NOW - n * 60_000, at: NOW - n * 60_000 + 20, gatewayId: "gw1", account: "acc", route: outcome === "forwarded" ? "main" : null,
      smsc: outcome === "forwarded" ? "smsc-1" : null, source: sender, destination: recipient, parts: 1, outcome, reason: outcome === "forwarded" ? "allow" : "block",
      verdictAction: outcome === "forwarded" ? "allow" : "block", decisionMs: 20, downstreamIds: outcome === "forwarded" ? ["d-1"] : [],
    }));
  }
  rows.push(...deadLetterRows({ v: 1, sourceTopic: "verdicts", partition: 0, offset: "7", key: null, valueBase64: "e30=", error: "bad", service: "sink", failedAt: NOW }));
  rows.push(...verdictRows({ ...flaggedVerdict({ id: "v-shadow", messageId: "m-shadow", receivedAt: NOW - 2 * 60_000, scoredAt: NOW - 2 * 60_000, label: "ham", action: "allow", score: 0.1 }), shadow: { modelVersion: "0123456789abcdef", rulesetVersion: "cand-rules", score: 0.9, label: "spam", action: "block" } }));
  // With what a shadow model would have decided (0007's columns).
  rows.push(...verdictRows({ ...flaggedVerdict({ id: "v-report-1", messageId: "rm-1", kind: "report", receivedAt: NOW - HOUR, scoredAt: NOW - HOUR, campaignId: "camp-1" }), shadow: { modelVersion: "0123456789abcdef", score: 0.25, label: "ham", action: "allow" } }));
  // A redelivered record: the same rows twice in one insert (current ClickHouse collapses them at insert).
  rows.push(...verdictRows(flaggedVerdict({ id: "v-0", messageId: "m-0", receivedAt: NOW, scoredAt: NOW + 5, source: sender, destination: "13900139000", label: "spam", campaignId: "camp-1", score: 0.5 })));
  return rows;
}

interface Engine {
  readonly name: string;
  readonly options: Omit<ClickHouseOptions, "database">;
  readonly ch: ClickHouse;
  readonly store: ClickHouse;
  readonly migrate: () => Promise<unknown>;
}

const Row = z.record(z.unknown());
const TableName = z.object({ name: z.string(), engine: z.string() });

describe.skipIf(!clickhouseUrl)("the SQL on ClickHouse 18.16 and on current ClickHouse (chdb)", () => {
  const url = clickhouseUrl as string;
  const dir = mkdtempSync(join(tmpdir(), "chdb-"));
  const chdb = createChdbConnection({ path: dir });
  // chdb types it against @clickhouse/client-common 1.23.0, the client bundles 1.23.1's copy: same shape.
  const connection = chdb as unknown as NonNullable<ClickHouseOptions["connection"]>;
  const engines: Engine[] = [
    {
      name: "18.16",
      options: { url, logger },
      ch: createClickHouse({ url, database, logger }),
      store: createClickHouse({ url, database: restrictedDatabase(database), logger }),
      migrate: () => migrateDatabase({ url, logger }, database, MIGRATIONS),
    },
    {
      name: "current",
      options: { url, logger, connection },
      ch: createClickHouse({ url, database, logger, connection }),
      store: createClickHouse({ url, database: restrictedDatabase(database), logger, connection }),
      migrate: () => migrateDatabase({ url, logger, connection }, database, MIGRATIONS),
    },
  ];
  const [old, current] = engines as [Engine, Engine];
  const both = async <T>(run: (e: Engine) => Promise<T>): Promise<[T, T]> => [await run(old), await run(current)];

  beforeAll(async () => {
    for (const e of engines) await e.migrate();
    const byTable = new Map<string, Record<string, unknown>[]>();
    for (const r of fixtureRows()) byTable.set(r.table, [...(byTable.get(r.table) ?? []), r.row]);
    for (const e of engines) {
      // As the sink inserts them (services/sink/src/main.ts).
      for (const [table, rows] of byTable) await (table.startsWith("restricted_") ? e.store : e.ch).insert(table, rowsForInsert(rows, NOW));
    }
  }, 120_000);

  afterAll(async () => {
    const admin = createClickHouse({ url, database: "default", logger });
    for (const db of [database, restrictedDatabase(database)]) await admin.command(sql`DROP DATABASE IF EXISTS ${ident(db)}`);
    await admin.close();
    for (const e of engines) {
      await e.ch.close();
      await e.store.close();
    }
    await chdb.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("every migration leaves the same tables and views on both, and a second run applies nothing", async () => {
    const again = await both((e) => e.migrate());
    const files = (await readMigrations(MIGRATIONS)).length + (await readMigrations(RESTRICTED)).length;
    expect(again[0]).toEqual({ applied: [], skipped: files });
    expect(again[1]).toEqual(again[0]);
    const tables = (db: string) => sql`SELECT name, engine FROM system.tables WHERE database = ${v.string(db)} ORDER BY name`;
    const [a, b] = await both((e) => e.ch.query(tables(database), TableName));
    expect(a.length).toBeGreaterThan(30);
    expect(b).toEqual(a);
    const [ra, rb] = await both((e) => e.store.query(tables(restrictedDatabase(database)), TableName));
    expect(ra.map((t) => t.name)).toEqual(["restricted_reply_recipients", "restricted_report_contacts", "schema_migrations"]);
    expect(rb).toEqual(ra);
  });

  // Current ClickHouse merges the rows of one insert into a ReplacingMergeTree as it stores them
  // (optimize_on_insert: a record delivered twice, two versions of a case); 18.16 leaves that to a
  // later merge. Either way a merge may collapse them at any time, so what both must agree on is the
  // merged table (FINAL, the *_dedup and *_current views); unmerged, current stores a subset of 18.16's rows.
  it("every table and view holds the same rows on both once merged, and no row 18.16 lacks before", async () => {
    const tables = await old.ch.query(
      sql`SELECT name, engine FROM system.tables WHERE database = ${v.string(database)} AND name != 'schema_migrations' ORDER BY name`,
      TableName,
    );
    const rowsOf = async (e: Engine, store: ClickHouse, q: ReturnType<typeof sql>) => (await store.query(q, Row)).map((r) => JSON.stringify(r)).sort();
    const differ: string[] = [];
    const compare = async (what: string, q: ReturnType<typeof sql>, store: (e: Engine) => ClickHouse = (e) => e.ch) => {
      const [a, b] = [await rowsOf(old, store(old), q), await rowsOf(current, store(current), q)];
      if (a.length === 0) differ.push(`${what}: no rows to compare`);
      else if (JSON.stringify(a) !== JSON.stringify(b)) differ.push(what);
      expect.soft(b, what).toEqual(a);
    };
    for (const { name, engine } of tables) {
      // Aggregate states are compared through the views that finalise them.
      if (engine === "MaterializedView" || engine.startsWith("Aggregating")) continue;
      if (engine.startsWith("Replacing")) {
        await compare(`${name} FINAL`, sql`SELECT * FROM ${ident(name)} FINAL`);
        const [a, b] = await both((e) => rowsOf(e, e.ch, sql`SELECT * FROM ${ident(name)}`));
        expect(b.filter((row) => !a.includes(row)), `${name}: rows only current ClickHouse stored`).toEqual([]);
      } else {
        await compare(name, sql`SELECT * FROM ${ident(name)}`);
      }
    }
    for (const name of ["restricted_report_contacts", "restricted_reply_recipients"]) {
      await compare(`${name} FINAL`, sql`SELECT * FROM ${ident(name)} FINAL`, (e) => e.store);
    }
    expect(differ).toEqual([]);
  });

  it("the decider's lookups for reports handled at once give each report what its own lookup gives", async () => {
    const asked: [string, string, number, number][] = [
      [sender, recipient, NOW - 2 * HOUR, NOW + HOUR],
      ["13700137000", recipient, NOW - 2 * HOUR, NOW + HOUR],
      [sender, "13900139111", NOW - 2 * HOUR, NOW + HOUR],
      [sender, recipient, NOW - 3 * 60_000 - 1, NOW],
      ["13600136000", recipient, NOW - 2 * HOUR, NOW + HOUR],
    ];
    const verdictsAsked: [string, number][] = [["m-0", NOW], ["m-2", NOW - 2 * 60_000], ["m-missing", NOW]];
    const [a, b] = await both(async (e) => {
      const l = clickHouseTrafficLookup(e.ch);
      const alone = [];
      for (const q of asked) alone.push(await l.delivered(...q));
      for (const q of verdictsAsked) alone.push(await l.verdictFor(...q));
      const together = await Promise.all([...asked.map((q) => l.delivered(...q)), ...verdictsAsked.map((q) => l.verdictFor(...q))]);
      expect(together).toEqual(alone);
      return together;
    });
    expect(b).toEqual(a);
    const ids = (x: unknown) => (x as { id: string }[]).map((m) => m.id);
    expect(a.slice(0, 5).map(ids)).toEqual([
      ["m-0", "m-1", "m-2", "m-3", "m-4", "m-5"],
      ["m-other-sender"],
      ["m-other-recipient"],
      ["m-0", "m-1", "m-2", "m-3"],
      [],
    ]);
    expect(a.slice(5).map((x) => (x as { verdictId: string } | null)?.verdictId ?? null)).toEqual(["v-0", "v-2", null]);
  });

  it("the decider's statements give the same answers", async () => {
    const lookup = await both(async (e) => {
      const l = clickHouseTrafficLookup(e.ch);
      return [await l.delivered(sender, recipient, NOW - 2 * HOUR, NOW + HOUR), await l.verdictFor("m-0", NOW)];
    });
    expect((lookup[0][0] as unknown[]).length).toBe(6);
    expect(lookup[1]).toEqual(lookup[0]);
    const w = { windowMs: 24 * HOUR, minSenders: 1, maxCampaigns: 10 };
    for (const scope of [{ from: NOW - 24 * HOUR }, { keys: ["camp-1", "missing"] }]) {
      for (const full of [true, false]) {
        const [a, b] = await both((e) => queryCampaignCounts(e.ch, NOW + HOUR, w, scope, full));
        expect(a.length).toBeGreaterThan(0);
        expect(b).toEqual(a);
      }
    }
    const policy = loadPolicy(defaultPolicyPath());
    const render = (kind: string) => kind;
    const [ra, rb] = await both((e) => rebuildFromClickHouse(e.ch, new DeciderCore(policy, render), policy, NOW + HOUR, logger, e.store));
    expect(ra.cases).toBe(1);
    expect(rb).toEqual(ra);
  });

  it("the learning loop's statements (rule backtest, dataset export, shadow report) give the same answers", async () => {
    const rules = await loadRuleSet(RULES);
    const [a, b] = await both(async (e) => {
      const { seconds: _seconds, ...backtest } = await runBacktest({ ch: e.ch, rules, days: 2, now: NOW + HOUR, logger });
      return { backtest, dataset: await exportDataset({ ch: e.ch, now: NOW + HOUR }), shadow: await shadowReport(e.ch, { from: new Date(NOW - 24 * HOUR), to: new Date(NOW + HOUR) }) };
    });
    // Six messages to the recipient and one to each other pair; the redelivered one counts once.
    expect(a.backtest.scanned).toBe(8);
    expect(a.shadow.models.map((m) => [m.shadowModelVersion, m.shadowRulesetVersion])).toEqual([["0123456789abcdef", "cand-rules"]]);
    expect(a.shadow.disagreements.map((d) => d.messageId)).toEqual(["m-shadow"]);
    expect(a.dataset.labelled).toBe(1);
    expect(b).toEqual(a);
  });

  it("the analytics and the sender history give the same answers", async () => {
    const range = { from: new Date(NOW - 2 * 24 * HOUR), to: new Date(NOW + HOUR) };
    const [a, b] = await both(async (e) => {
      const traffic = new ClickHouseTrafficAnalytics(e.ch);
      const reports = new ClickHouseReportAnalytics(e.ch);
      return {
        volume: await Promise.all((["hour", "day", "month"] as const).map((bucket) => traffic.spamVolume(range, bucket))),
        rules: await traffic.ruleHits(range),
        perDay: await reports.reportsPerDay(range),
        top: await Promise.all((["sender", "domain", "campaign"] as const).map((k) => reports.topReported(k, range, 10))),
        outcome: await reports.reportOutcome(range, 48),
        history: await new ClickHouseSenderHistory(e.ch).senderTraffic(sender),
      };
    });
    expect(a.volume[0]?.length).toBeGreaterThan(0);
    expect(a.perDay.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });

  // A database from before 0003 and 0004: the report-campaign backfill (INSERT … SELECT) and the
  // contact rows copied to the restricted store (INSERT INTO store.t SELECT * FROM db.t), then the
  // cleanup's statements (infra/local/src/cleanup.ts: list the databases, drop them).
  it("upgrading a database made before 0003 gives the same backfill and the same restricted store on both", async () => {
    const upgraded = `${database}_up`;
    const early = join(dir, "early-migrations");
    mkdirSync(early, { recursive: true });
    for (const f of ["0001_verdicts.sql", "0002_records_and_analytics.sql"]) copyFileSync(join(MIGRATIONS, f), join(early, f));
    // Columns (0007) and tables (0006) of later migrations did not exist then.
    const rows = fixtureRows().filter((r) => r.table !== "delivery_records").map((r) => ({ ...r, row: Object.fromEntries(Object.entries(r.row).filter(([k]) => !k.startsWith("shadow_"))) }));
    const answers = await both(async (e) => {
      await ensureDatabase(e.options, upgraded);
      const ch = createClickHouse({ ...e.options, database: upgraded });
      await runMigrations(ch, early, logger);
      const byTable = new Map<string, Record<string, unknown>[]>();
      for (const r of rows) byTable.set(r.table, [...(byTable.get(r.table) ?? []), r.row]);
      for (const [table, list] of byTable) await ch.insert(table, rowsForInsert(list, NOW));
      const result = await migrateDatabase(e.options, upgraded, MIGRATIONS);
      const store = createClickHouse({ ...e.options, database: restrictedDatabase(upgraded) });
      const answer = {
        result,
        campaignReports: await ch.query(sql`SELECT campaign_key, toString(hour) AS hour, uniqExactMerge(reports) AS n FROM campaign_reports_agg GROUP BY campaign_key, hour ORDER BY campaign_key, hour`, Row),
        platformTables: await ch.query(sql`SELECT name FROM system.tables WHERE database = ${v.string(upgraded)} AND name LIKE 'restricted%'`, Row),
        contacts: await store.query(sql`SELECT * FROM restricted_report_contacts FINAL ORDER BY report_id`, Row),
        recipients: await store.query(sql`SELECT * FROM restricted_reply_recipients FINAL ORDER BY reply_id`, Row),
      };
      await ch.close();
      await store.close();
      const admin = createClickHouse({ ...e.options, database: "system" });
      const listed = async () => (await admin.query(sql`SELECT name FROM system.databases`, z.object({ name: z.string() }))).map((r) => r.name);
      const before = (await listed()).filter((n) => n.startsWith(upgraded));
      for (const name of before) await admin.command(sql`DROP DATABASE IF EXISTS ${ident(name)}`);
      const after = (await listed()).filter((n) => n.startsWith(upgraded));
      await admin.close();
      return { ...answer, before: before.sort(), after };
    });
    const [a, b] = answers;
    // The restricted store's first file, then every platform file after the two applied by hand.
    const later = (await readMigrations(MIGRATIONS)).map((f) => f.name).filter((n) => n >= "0003");
    expect(a.result.applied).toEqual(["0001_contacts.sql", ...later]);
    expect(later.slice(0, 2)).toEqual(["0003_campaign_reports.sql", "0004_restricted_store_moved.sql"]);
    expect(a.campaignReports).toEqual([expect.objectContaining({ campaign_key: "camp-1", n: "1" })]);
    expect(a.platformTables).toEqual([]);
    expect(a.contacts).toHaveLength(4);
    expect(a.recipients).toHaveLength(1);
    expect(a.before).toEqual([upgraded, restrictedDatabase(upgraded)]);
    expect(a.after).toEqual([]);
    expect(b).toEqual(a);
  });

  // No cluster (nor Keeper) runs here: the current engine parses every statement of the variant.
  it("the cluster variant of every migration (packages/clickhouse/src/cluster.ts) parses on current ClickHouse", async () => {
    const statements = [...(await readMigrations(MIGRATIONS, { cluster: "spam" })), ...(await readMigrations(RESTRICTED, { cluster: "spam" }))].flatMap((f) => f.statements);
    expect(statements.length).toBeGreaterThan(60);
    const refused: string[] = [];
    for (const statement of statements) {
      await current.ch.query(raw(`EXPLAIN AST ${statement}`), z.unknown()).catch((e: Error) => refused.push(`${e.message}\n${statement}`));
    }
    expect(refused).toEqual([]);
  });

  // Users who run the compose file get the engine these statements were proven on, not an older one.
  it("the compose file runs the ClickHouse release the current engine here is", async () => {
    const compose = readFileSync(repoPath("infra/compose/docker-compose.yml"), "utf8");
    const image = /image:\s*clickhouse\/clickhouse-server:(\d+\.\d+)/.exec(compose)?.[1];
    const [{ version }] = (await current.ch.query(raw("SELECT version() AS version"), z.object({ version: z.string() }))) as [{ version: string }];
    expect(image).toBeDefined();
    expect(version.split(".").slice(0, 2).join(".")).toBe(image);
  });
});
