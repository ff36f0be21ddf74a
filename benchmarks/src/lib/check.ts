import pino from "pino";
import { z } from "zod";
import { createClickHouse, sql, v, join } from "@spam/clickhouse";

export interface VerdictCheck {
  readonly expected: number;
  /** Ids with at least one verdict row. */
  readonly withVerdict: number;
  readonly missing: number;
  /** Ids with more than one raw row (harmless if the deduplicated view has one). */
  readonly duplicatedRaw: number;
  /** Ids with more than one row in the deduplicated view (FINAL): must be 0. */
  readonly duplicatedDedup: number;
  /** Ids with more than one distinct verdict id (two different decisions): must be 0. */
  readonly conflicting: number;
  readonly sampleMissing: string[];
}

const Row = z.object({ message_id: z.string(), c: z.coerce.number(), d: z.coerce.number() });
const IdRow = z.object({ message_id: z.string() });

/** The ids among `ids` with no verdict row yet: a cheap query (no FINAL) to poll while the sink catches up. */
export async function missingVerdicts(url: string, database: string, ids: readonly string[]): Promise<string[]> {
  const ch = createClickHouse({ url, database, logger: pino({ level: "warn" }) });
  try {
    const seen = new Set<string>();
    for (let i = 0; i < ids.length; i += 5_000) {
      const list = join(ids.slice(i, i + 5_000).map((id) => v.string(id)), ", ");
      for (const r of await ch.query(sql`SELECT DISTINCT message_id FROM verdicts WHERE message_id IN (${list})`, IdRow)) seen.add(r.message_id);
    }
    return ids.filter((id) => !seen.has(id));
  } finally {
    await ch.close();
  }
}

/** Counts verdict rows per accepted message id, raw and in the deduplicated view. */
export async function checkVerdicts(url: string, database: string, ids: readonly string[]): Promise<VerdictCheck> {
  const ch = createClickHouse({ url, database, logger: pino({ level: "warn" }) });
  try {
    const raw = new Map<string, number>();
    let conflicting = 0;
    const dedup = new Map<string, number>();
    for (let i = 0; i < ids.length; i += 2_000) {
      const chunk = ids.slice(i, i + 2_000);
      const list = join(chunk.map((id) => v.string(id)), ", ");
      for (const r of await ch.query(sql`SELECT message_id, count() AS c, uniqExact(id) AS d FROM verdicts WHERE message_id IN (${list}) GROUP BY message_id`, Row)) {
        raw.set(r.message_id, r.c);
        if (r.d > 1) conflicting++;
      }
      for (const r of await ch.query(sql`SELECT message_id, count() AS c, uniqExact(id) AS d FROM verdicts FINAL WHERE message_id IN (${list}) GROUP BY message_id`, Row)) dedup.set(r.message_id, r.c);
    }
    const missing = ids.filter((id) => !raw.has(id));
    return {
      expected: ids.length,
      withVerdict: ids.length - missing.length,
      missing: missing.length,
      duplicatedRaw: [...raw.values()].filter((c) => c > 1).length,
      duplicatedDedup: [...dedup.values()].filter((c) => c > 1).length,
      conflicting,
      sampleMissing: missing.slice(0, 5),
    };
  } finally {
    await ch.close();
  }
}

export interface ReportCheck {
  /** Reports with a number to decide on (parsed, or completed in a second message). */
  readonly decidable: number;
  /** Of those, reports without an assessment by the decider yet. */
  readonly unassessed: number;
  readonly sampleUnassessed: string[];
}

const ReportCountsRow = z.object({ decidable: z.coerce.number(), unassessed: z.coerce.number() });
const ReportIdRow = z.object({ id: z.string() });

/** Every report the decider should have decided, against its assessments as the sink stored them. */
export async function checkReportAssessments(url: string, database: string): Promise<ReportCheck> {
  const ch = createClickHouse({ url, database, logger: pino({ level: "warn" }) });
  try {
    const decidable = sql`SELECT DISTINCT id FROM reports WHERE status IN ('parsed', 'completed_two_step') AND isNotNull(reported_number)`;
    const assessed = sql`SELECT report_id FROM report_assessments`;
    const counts = (await ch.query(sql`SELECT count() AS decidable, countIf(id NOT IN (${assessed})) AS unassessed FROM (${decidable})`, ReportCountsRow))[0];
    const unassessed = counts?.unassessed ?? 0;
    const sample = unassessed > 0 ? (await ch.query(sql`SELECT id FROM (${decidable}) WHERE id NOT IN (${assessed}) LIMIT 5`, ReportIdRow)).map((r) => r.id) : [];
    return { decidable: counts?.decidable ?? 0, unassessed, sampleUnassessed: sample };
  } finally {
    await ch.close();
  }
}
