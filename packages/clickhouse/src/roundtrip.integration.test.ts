import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createClickHouse, ensureDatabase, type ClickHouse } from "./client.js";
import { ident, sql, v } from "./sql.js";

// Against the real ClickHouse server started by the global setup (18.16 locally).
const url = process.env.CLICKHOUSE_URL;
const logger = pino({ level: "silent" });
const database = `enc_${process.env.TEST_RUN_ID ?? "local"}`;

const HOSTILE = [
  "",
  "plain",
  "it's",
  "''",
  "\\",
  "\\'",
  "back\\slash\\\\n",
  "nul\0byte",
  "line\nbreak\r\n",
  "tab\there",
  "bell\x07 and del\x7f",
  "emoji 😀🚫📱 and flags 🇨🇳",
  "中文：您的验证码是123456【银行】",
  "'); DROP TABLE strings; --",
  "' OR '1'='1",
  "`backtick` \"double\" $dollar {brace}",
  "\u200b zero width \u200d joiner \ufeff",
  "surrogate 𠀀 rare CJK",
];

describe.skipIf(!url)("SQL encoder round trip through the real ClickHouse", () => {
  let ch: ClickHouse;

  beforeAll(async () => {
    await ensureDatabase({ url: url!, logger }, database);
    ch = createClickHouse({ url: url!, database, logger });
    await ch.command(sql`DROP TABLE IF EXISTS ${ident("strings")}`);
    await ch.command(
      sql`CREATE TABLE strings (i UInt32, s String, n Nullable(String), a Array(String), big UInt64, neg Int64, f Float64, t DateTime, d Date) ENGINE = MergeTree ORDER BY i`,
    );
  });

  afterAll(async () => {
    await ch.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`);
    await ch.close();
  });

  it("stores and returns every hostile string exactly, and finds it by equality", async () => {
    for (const [i, s] of HOSTILE.entries()) {
      await ch.command(
        sql`INSERT INTO strings (i, s, n, a, big, neg, f, t, d) VALUES (${v.uint32(i)}, ${v.string(s)}, ${v.nullable(v.string)(i % 2 ? s : null)}, ${v.array(v.string, "String")(i % 3 ? [s, s] : [])}, ${v.uint64(18_446_744_073_709_551_615n)}, ${v.int64(-9_007_199_254_740_991)}, ${v.float64(-1.5)}, ${v.dateTime(Date.UTC(2026, 10, 23, 12, 0, 1))}, ${v.date(Date.UTC(2026, 10, 23))})`,
      );
    }
    // The table still exists after the DROP TABLE attempt.
    const Row = z.object({
      i: z.number(),
      s: z.string(),
      n: z.string().nullable(),
      a: z.array(z.string()),
      big: z.string(),
      neg: z.string(),
      f: z.number(),
      t: z.string(),
      d: z.string(),
    });
    const rows = await ch.query(sql`SELECT i, s, n, a, big, neg, f, t, d FROM strings ORDER BY i`, Row);
    expect(rows).toHaveLength(HOSTILE.length);
    for (const row of rows) {
      const s = HOSTILE[row.i]!;
      expect(row.s).toBe(s);
      expect(row.n).toBe(row.i % 2 ? s : null);
      expect(row.a).toEqual(row.i % 3 ? [s, s] : []);
      expect(row.big).toBe("18446744073709551615");
      expect(row.neg).toBe("-9007199254740991");
      expect(row.f).toBe(-1.5);
      expect(row.t).toBe("2026-11-23 12:00:01");
      expect(row.d).toBe("2026-11-23");
    }
    for (const [i, s] of HOSTILE.entries()) {
      const found = await ch.query(sql`SELECT i FROM strings WHERE s = ${v.string(s)} AND has(${v.array(v.string, "String")([s])}, s) ORDER BY i LIMIT 1`, z.object({ i: z.number() }));
      expect(found[0]?.i).toBe(i);
    }
  });

  it("inserts rows as JSONEachRow with the same strings intact", async () => {
    await ch.command(sql`CREATE TABLE IF NOT EXISTS json_rows (i UInt32, s String) ENGINE = MergeTree ORDER BY i`);
    await ch.insert("json_rows", HOSTILE.map((s, i) => ({ i, s })));
    const rows = await ch.query(sql`SELECT i, s FROM json_rows ORDER BY i`, z.object({ i: z.number(), s: z.string() }));
    expect(rows.map((r) => r.s)).toEqual(HOSTILE);
  });
});
