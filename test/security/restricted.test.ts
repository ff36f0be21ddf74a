import { randomBytes, randomInt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { CaseStore, createPool, ensurePgDatabase, ingestReports, migratePg, OutboxRelay, UserStore, type PublishMessage } from "@spam/api-service";
import { parsedReport } from "@spam/api-service/testing";
import { createClickHouse, ident, restrictedDatabase, RESTRICTED_TABLES, sql, v, type ClickHouse } from "@spam/clickhouse";
import { topicNames, type OutboundReply, type Report } from "@spam/contracts";
import { BatchingProducer, createKafkaClient, ensureTopics } from "@spam/kafka";
import { freePort, loadLocalConfig, migrate, startClickHouse, stopServer, type LocalConfig } from "@spam/infra-local";
import { eventually, startServiceProcess, testPgDatabase, type ServiceProcess } from "../support/index.js";

/**
 * Finding 9: reporters' numbers outside the restricted store. The restricted contact tables live in a
 * database of their own that the platform's ClickHouse user cannot read; after a report, its reply and
 * a dead letter went through the real sink, no other table holds the reporter's number; PostgreSQL
 * holds none either, and the outbox is empty once relayed.
 *
 * ClickHouse here is a private server started from the repository's own config and users templates
 * (the shared test server may run with other users), on the shared Kafka broker.
 */
const logger = pino({ level: "error" });
const runId = process.env.TEST_RUN_ID ?? `t${Date.now().toString(36)}`;
const database = `restricted_${runId}`.replace(/[^A-Za-z0-9_]/g, "_");
const restricted = restrictedDatabase(database);
/** A reporter's number no fixture uses: found anywhere means it leaked. */
const reporter = `139${String(randomInt(10_000_000, 99_999_999))}`;

const NameRow = z.object({ name: z.string() });
const ColumnRow = z.object({ table: z.string(), name: z.string(), type: z.string() });

describe("reporters' numbers only in the restricted store (finding 9)", () => {
  let dir: string;
  let config: LocalConfig;
  let admin: ClickHouse;
  let sink: ServiceProcess | null = null;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "restricted-ch-"));
    const env: NodeJS.ProcessEnv = { ...process.env, LOCAL_DIR: dir, CLICKHOUSE_DATABASE: database, CLICKHOUSE_HTTP_PORT: String(await freePort()), CLICKHOUSE_TCP_PORT: String(await freePort()) };
    delete env.CLICKHOUSE_USERS_CONFIG;
    config = loadLocalConfig(env);
    await startClickHouse(config, logger);
    await migrate(config, logger, database);
    admin = createClickHouse({ url: config.adminClickhouseUrl, database, logger });
  });
  afterAll(async () => {
    await sink?.stop();
    await admin?.close();
    if (config) await stopServer(config, "clickhouse");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the platform's ClickHouse user gets an access error on the restricted contact tables; only the restricted user reads them", async () => {
    const app = createClickHouse({ url: config.appClickhouseUrl, database, logger });
    const store = createClickHouse({ url: config.restrictedClickhouseUrl, database: restricted, logger });
    try {
      for (const table of RESTRICTED_TABLES) {
        await expect(app.query(sql`SELECT count() AS n FROM ${ident(restricted)}.${ident(table)}`, z.unknown())).rejects.toThrow(/Access denied/i);
        expect(await store.query(sql`SELECT count() AS n FROM ${ident(table)}`, z.object({ n: z.coerce.number() }))).toEqual([{ n: 0 }]);
      }
      // None of them is left in the platform's database either.
      const left = await admin.query(sql`SELECT name FROM system.tables WHERE database = ${v.string(database)} AND name LIKE 'restricted%'`, NameRow);
      expect(left).toEqual([]);
      // Nor can the restricted user read the platform's tables.
      await expect(store.query(sql`SELECT count() AS n FROM ${ident(database)}.reports`, z.unknown())).rejects.toThrow(/Access denied/i);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it("after a report, its reply and a dead letter went through the sink, no table outside the restricted database holds the reporter's number", async () => {
    const brokers = process.env.KAFKA_BROKERS!;
    const prefix = `${runId}.restricted.`;
    const topics = topicNames(prefix);
    const kafka = createKafkaClient({ brokers: brokers.split(","), clientId: "restricted-test", logger });
    await ensureTopics({ kafka, names: topics, partitions: 1, logger });
    sink = startServiceProcess("sink", {
      KAFKA_BROKERS: brokers,
      TOPIC_PREFIX: prefix,
      CLICKHOUSE_URL: config.appClickhouseUrl,
      CLICKHOUSE_RESTRICTED_URL: config.restrictedClickhouseUrl,
      CLICKHOUSE_DATABASE: database,
      SINK_LINGER_MS: "20",
    });
    await sink.waitForLog((e) => e["msg"] === "sink consuming");

    const now = Date.now();
    const report: Report = {
      v: 1,
      id: `rp-${randomBytes(4).toString("hex")}`,
      messageId: `m-${randomBytes(4).toString("hex")}`,
      receivedAt: now,
      gatewayId: "gw1",
      shortCode: "10086999",
      reporterMsisdn: reporter,
      reporterHash: randomBytes(16).toString("hex"),
      reportedNumber: "13512345678",
      content: "恭喜中奖，点击领取",
      rawText: "13512345678*恭喜中奖，点击领取",
      status: "parsed",
      parseError: null,
      allowListed: false,
    };
    const reply: OutboundReply = { v: 1, id: `rep-${report.id}`, reportId: report.id, to: reporter, from: "10086999", kind: "ack", text: "已收到您的举报", createdAt: now };
    const producer = new BatchingProducer({ kafka, logger, lingerMs: 1 });
    await producer.connect();
    try {
      await producer.sendMany([
        { topic: topics.reports, key: report.reporterHash, value: report },
        { topic: topics.repliesOutbound, key: reporter, value: reply },
        // A record the contract refuses, keyed and filled with the number: it becomes a dead letter.
        { topic: topics.reports, key: reporter, value: { v: 1, id: "broken", reporterMsisdn: reporter, rawText: `${reporter}*?` } },
      ]);
    } finally {
      await producer.disconnect();
    }

    const count = async (ch: ClickHouse, q: ReturnType<typeof sql>) => (await ch.query(q, z.object({ n: z.coerce.number() })))[0]?.n ?? 0;
    await eventually(async () => {
      expect(await count(admin, sql`SELECT count() AS n FROM ${ident(restricted)}.restricted_report_contacts WHERE reporter_msisdn = ${v.string(reporter)}`)).toBe(1);
      expect(await count(admin, sql`SELECT count() AS n FROM ${ident(restricted)}.restricted_reply_recipients WHERE recipient = ${v.string(reporter)}`)).toBe(1);
      expect(await count(admin, sql`SELECT count() AS n FROM reports WHERE id = ${v.string(report.id)}`)).toBe(1);
      expect(await count(admin, sql`SELECT count() AS n FROM reply_log WHERE id = ${v.string(reply.id)}`)).toBe(1);
      expect(await count(admin, sql`SELECT count() AS n FROM dead_letters`)).toBeGreaterThanOrEqual(1);
      return true;
    }, 30_000);

    // Every text column of every table of the platform's database; dead letters' values decoded too.
    const columns = await admin.query(
      sql`SELECT table, name, type FROM system.columns WHERE database = ${v.string(database)} AND type LIKE '%String%' AND type NOT LIKE 'AggregateFunction%'`,
      ColumnRow,
    );
    expect(columns.length).toBeGreaterThan(20);
    const leaks: string[] = [];
    for (const c of columns) {
      const Value = z.object({ x: z.unknown() });
      const rows = await admin.query(sql`SELECT ${ident(c.name)} AS x FROM ${ident(c.table)}`, Value);
      for (const { x } of rows) {
        const text = JSON.stringify(x);
        const decoded = c.name === "value_base64" && typeof x === "string" ? Buffer.from(x, "base64").toString("utf8") : "";
        if (text.includes(reporter) || decoded.includes(reporter)) leaks.push(`${c.table}.${c.name}`);
      }
    }
    expect(leaks).toEqual([]);
  });

  it("PostgreSQL keeps no reporter's number, and the outbox is empty once relayed", async () => {
    const db = testPgDatabase("restricted");
    await ensurePgDatabase(pg, db.url);
    const pool = createPool(db.url, 4);
    try {
      await migratePg(pool, logger);
      const columns = await pool.query<{ column_name: string }>("SELECT column_name FROM information_schema.columns WHERE table_name = 'case_reports'");
      expect(columns.rows.map((r) => r.column_name)).not.toContain("reporter_msisdn");

      const users = new UserStore(pool, 3_600_000);
      const reviewer = await users.createUser({ username: "rev", role: "reviewer", password: "long-enough-password" });
      const cases = new CaseStore(pool, { slaHours: 48, claimTtlMinutes: 15, effects: { blockTtlMs: 86_400_000, shortCode: "10086999" } });
      const r = parsedReport({ reporterMsisdn: reporter, reportedNumber: "13512345678" });
      await ingestReports(cases, [r]);
      const caseId = (await pool.query<{ case_id: string }>("SELECT case_id FROM case_reports WHERE report_id = $1", [r.id])).rows[0]!.case_id;
      await cases.claim(caseId, reviewer);
      await cases.decide(caseId, reviewer, { label: "spam", category: "FR_Other", comment: "中奖诈骗", wholeCampaign: false });

      const published: PublishMessage[] = [];
      const relay = new OutboxRelay(pool, { publish: async (m) => void published.push(...m) }, logger);
      expect(await relay.drain()).toBeGreaterThan(0);
      expect((await pool.query("SELECT count(*)::int AS n FROM outbox")).rows[0].n).toBe(0);
      expect(JSON.stringify(published)).not.toContain(reporter);

      // Every text-like column of every table.
      const text = await pool.query<{ table_name: string; column_name: string }>(
        `SELECT table_name, column_name FROM information_schema.columns
          WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json')`,
      );
      const leaks: string[] = [];
      for (const c of text.rows) {
        const hit = await pool.query(`SELECT 1 FROM "${c.table_name}" WHERE "${c.column_name}"::text LIKE $1 LIMIT 1`, [`%${reporter}%`]);
        if (hit.rowCount) leaks.push(`${c.table_name}.${c.column_name}`);
      }
      expect(leaks).toEqual([]);
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
