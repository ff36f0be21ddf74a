import { fileURLToPath } from "node:url";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClickHouse, ident, migrateDatabase, restrictedDatabase, sql, type ClickHouse } from "@spam/clickhouse";
import { ClickHouseDeliveryCounts } from "./delivery.js";

/** The relay counts query on the real ClickHouse and the project's migrations (0006 delivery_records). */
const url = process.env.CLICKHOUSE_URL ?? "";
const logger = pino({ level: "warn" });
const MIGRATIONS = fileURLToPath(new URL("../../../../../infra/clickhouse/migrations/", import.meta.url));
const database = `api_delivery_${(process.env.TEST_RUN_ID ?? `p${process.pid}`).toLowerCase().replace(/[^a-z0-9_]/g, "_")}`;
let ch: ClickHouse;
const NOW = Math.floor(Date.now() / 1000) * 1000;
const sec = (ms: number) => Math.floor(ms / 1000);

function row(id: string, outcome: string, reason: string, at: number) {
  return {
    id, message_id: id.split(":")[0], received_at: sec(at), at: sec(at), gateway_id: "gw", account: "a2p", route: "main", smsc: null,
    source: "13800000001", destination: "13900000001", parts: 1, outcome, reason, verdict_action: null, decision_ms: 12, downstream_ids: [],
  };
}

describe.skipIf(!url)("delivery counts on ClickHouse", () => {
  beforeAll(async () => {
    await migrateDatabase({ url, logger }, database, MIGRATIONS);
    ch = createClickHouse({ url, database, logger });
    await ch.insert("delivery_records", [
      row("m1:forwarded", "forwarded", "allow", NOW - 60_000),
      row("m1:forwarded", "forwarded", "allow", NOW - 60_000), // redelivered: counted once
      row("m2:forwarded", "forwarded", "deadline_open", NOW - 60_000),
      row("m3:stopped", "stopped", "block", NOW - 60_000),
      row("m4:stopped", "stopped", "blocklist", NOW - 40 * 86_400_000), // outside the window
    ]);
  }, 60_000);

  afterAll(async () => {
    await ch?.command(sql`DROP DATABASE IF EXISTS ${ident(restrictedDatabase(database))}`);
    await ch?.command(sql`DROP DATABASE IF EXISTS ${ident(database)}`);
    await ch?.close();
  });

  it("counts each record once per outcome and reason, inside the window only", async () => {
    const counts = await new ClickHouseDeliveryCounts(ch).counts({ from: new Date(NOW - 86_400_000), to: new Date(NOW + 60_000) });
    expect(counts).toEqual([
      { outcome: "forwarded", reason: "allow", messages: 1 },
      { outcome: "forwarded", reason: "deadline_open", messages: 1 },
      { outcome: "stopped", reason: "block", messages: 1 },
    ]);
  });
});
