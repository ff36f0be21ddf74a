import { copyFileSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS_DIR, migratePg } from "../db/migrate.js";
import { createPool } from "../db/pool.js";
import { createTestDatabase } from "../testing/postgres.js";

const logger = pino({ level: "silent" });
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: ReturnType<typeof createPool>;

beforeAll(async () => {
  db = await createTestDatabase("one_case_migration");
  pool = createPool(db.url, 4);
  // The schema as it was before one case per subject.
  const before = mkdtempSync(join(tmpdir(), "pg-migrations-"));
  for (const f of readdirSync(MIGRATIONS_DIR).filter((f) => /^00[1-5]_.*\.sql$/.test(f))) copyFileSync(join(MIGRATIONS_DIR, f), join(before, f));
  await migratePg(pool, logger, before);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

const insertCase = (id: string, kind: string, source: string, over: Record<string, unknown> = {}) => {
  const row: Record<string, unknown> = { id, kind, source, sender: "13912340000", opened_at: new Date(Date.now() - 3_600_000), ...over };
  const cols = Object.keys(row);
  return pool.query(`INSERT INTO review_cases (${cols.join(", ")}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(", ")})`, Object.values(row));
};

describe("migration 006: one case per subject", () => {
  it("merges the open cases of one sender into the decider's case with their evidence, leaves decided cases and campaigns alone", async () => {
    await insertCase("msg:m1", "message", "classifier", { message_id: "m1", verdict_id: "v1", campaign_id: "fp1", score: 0.7, text: "点击 http://a.top", contributions: '[{"source":"rule","id":"r1","score":0.3,"category":"fraud","detail":null}]' });
    await insertCase("msg:m2", "message", "classifier", { message_id: "m2", verdict_id: "v2", score: 0.6, text: "点击 http://b.top" });
    await insertCase("c_apireportaaaaaaaaaaa", "report", "report", { report_count: 1, first_report_at: new Date(Date.now() - 1_800_000) });
    await insertCase("c_deciderbbbbbbbbbbbbb", "report", "report", { owner: "decider", ext_version: 3, report_count: 2 });
    await insertCase("msg:old", "message", "classifier", { message_id: "old", status: "decided", decision: "ham" });
    await insertCase("cmp:fp1", "campaign", "campaign", { campaign_id: "fp1", recipients: 3 });
    await pool.query("INSERT INTO campaign_members (campaign_id, message_id) VALUES ('fp1', 'm1'), ('fp1', 'mx')");
    for (const [report, caseId] of [["r1", "c_apireportaaaaaaaaaaa"], ["r2", "c_deciderbbbbbbbbbbbbb"], ["r3", "c_deciderbbbbbbbbbbbbb"]] as const) {
      await pool.query(
        "INSERT INTO case_reports (report_id, case_id, reporter_hash, reported_number, status, received_at) VALUES ($1, $2, 'h', '13912340000', 'parsed', now())",
        [report, caseId],
      );
    }

    // 006 and whatever came after it.
    expect((await migratePg(pool, logger))[0]).toBe("006_one_case_per_subject");

    const open = await pool.query("SELECT * FROM review_cases WHERE status <> 'decided' ORDER BY id");
    expect(open.rows.map((r: { id: string; subject_kind: string; subject: string }) => [r.id, r.subject_kind, r.subject])).toEqual([
      ["c_deciderbbbbbbbbbbbbb", "sender", "13912340000"],
      ["cmp:fp1", "campaign", "fp1"],
    ]);
    const merged = open.rows[0] as Record<string, unknown>;
    expect(merged).toMatchObject({ decider_case_id: "c_deciderbbbbbbbbbbbbb", report_count: 3, score: 0.7, text: "点击 http://b.top", campaign_id: "fp1" });
    expect((merged["contributions"] as unknown[]).length).toBe(1);
    const reports = await pool.query("SELECT report_id FROM case_reports WHERE case_id = 'c_deciderbbbbbbbbbbbbb' ORDER BY report_id");
    expect(reports.rows.map((r: { report_id: string }) => r.report_id)).toEqual(["r1", "r2", "r3"]);
    const messages = await pool.query("SELECT message_id, verdict_id FROM case_messages WHERE case_id = 'c_deciderbbbbbbbbbbbbb' ORDER BY message_id");
    expect(messages.rows).toEqual([{ message_id: "m1", verdict_id: "v1" }, { message_id: "m2", verdict_id: "v2" }]);
    const members = await pool.query("SELECT message_id, sender FROM campaign_members ORDER BY message_id");
    expect(members.rows).toEqual([{ message_id: "m1", sender: "13912340000" }, { message_id: "mx", sender: null }]);
    expect((await pool.query("SELECT status FROM review_cases WHERE id = 'msg:old'")).rows[0]).toEqual({ status: "decided" });

    // From now on the database itself refuses a second open case of one subject.
    await expect(insertCase("msg:m9", "message", "classifier", { subject_kind: "sender", subject: "13912340000" })).rejects.toThrow(/review_cases_one_open/);
  });
});
