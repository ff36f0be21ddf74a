import type { Logger } from "pino";
import { z } from "zod";
import { createClickHouse, ident, sql } from "@spam/clickhouse";
import { createKafkaClient } from "@spam/kafka";
import type { LocalConfig } from "./config.js";

/**
 * Test runs and benchmarks namespace their topics and databases by a run id; on a broker that
 * stays up (KEEP_INFRA, a developer's `npm start`) they pile up by the thousand and slow the
 * broker down for everyone. These remove one run's artifacts, or every finished run's.
 */
export interface RunArtifacts {
  /** Topics whose names start with this are deleted. */
  readonly topicPrefix: string;
  /** Databases whose names contain this (case-insensitive) are dropped; omitted = none. */
  readonly databaseMarker?: string;
}

const DatabaseRow = z.object({ name: z.string() });

export async function removeRunArtifacts(config: LocalConfig, logger: Logger, run: RunArtifacts): Promise<{ topics: number; databases: number }> {
  if (run.topicPrefix.length < 4) throw new Error(`refusing to delete topics by the short prefix "${run.topicPrefix}"`);
  const marker = run.databaseMarker?.toLowerCase();
  return removeMatching(config, logger, (t) => t.startsWith(run.topicPrefix), (d) => marker !== undefined && marker.length >= 4 && d.toLowerCase().includes(marker));
}

/**
 * Run ids carry their start time in base 36: `t<ms><4 hex>` (tests), `<tool>-<ms>` (benchmarks).
 * Topics start with the run id; database names contain it (with `_` for `-`).
 */
const TOPIC_RUN_ID = /^(?:t([0-9a-z]{8})[0-9a-f]{4}|(?:bench|bench-gw|drain|fuzz|fault)-([0-9a-z]{8}))\./i;
const DATABASE_RUN_ID = /(?:^|_)(?:t([0-9a-z]{8})[0-9a-f]{4}|(?:bench|bench_gw|drain|fuzz|fault)_([0-9a-z]{8}))(?:_|$)/i;

export function runStartedAt(name: string, kind: "topic" | "database"): number | null {
  const m = (kind === "topic" ? TOPIC_RUN_ID : DATABASE_RUN_ID).exec(name);
  const stamp = m?.[1] ?? m?.[2];
  if (!stamp) return null;
  const ms = parseInt(stamp, 36);
  // Plausible start times only (2020 … now): anything else is not one of ours.
  return ms > 1_577_836_800_000 && ms <= Date.now() ? ms : null;
}

/** Removes the topics and databases of every test or benchmark run that started before `olderThanMs` ago. */
export async function removeFinishedRuns(config: LocalConfig, logger: Logger, olderThanMs: number): Promise<{ topics: number; databases: number }> {
  const cutoff = Date.now() - olderThanMs;
  const old = (kind: "topic" | "database") => (name: string) => {
    const at = runStartedAt(name, kind);
    return at !== null && at < cutoff;
  };
  return removeMatching(config, logger, old("topic"), old("database"));
}

async function removeMatching(
  config: LocalConfig,
  logger: Logger,
  topicMatches: (name: string) => boolean,
  databaseMatches: (name: string) => boolean,
): Promise<{ topics: number; databases: number }> {
  const kafka = createKafkaClient({ brokers: config.kafkaBrokers, clientId: "infra-cleanup", logger });
  const admin = kafka.admin();
  await admin.connect();
  let topics: string[] = [];
  try {
    topics = (await admin.listTopics()).filter(topicMatches);
    // In slices: one request naming thousands of topics times out on a small broker.
    for (let i = 0; i < topics.length; i += 200) {
      await admin.deleteTopics({ topics: topics.slice(i, i + 200), timeout: 60_000 });
      logger.info({ deleted: Math.min(topics.length, i + 200), of: topics.length }, "deleting topics");
    }
  } finally {
    await admin.disconnect();
  }
  const ch = createClickHouse({ url: config.adminClickhouseUrl, database: "system", logger });
  let databases: string[] = [];
  try {
    databases = (await ch.query(sql`SELECT name FROM system.databases`, DatabaseRow)).map((r) => r.name).filter(databaseMatches);
    for (const name of databases) await ch.command(sql`DROP DATABASE IF EXISTS ${ident(name)}`);
  } finally {
    await ch.close();
  }
  logger.info({ topics: topics.length, databases: databases.length }, "removed run artifacts");
  return { topics: topics.length, databases: databases.length };
}
