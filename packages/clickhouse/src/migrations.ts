import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Logger } from "pino";
import { z } from "zod";
import { createClickHouse, ensureDatabase, restrictedDatabase, type ClickHouse, type ClickHouseOptions } from "./client.js";
import { clusterMigrations, type ClusterOptions } from "./cluster.js";
import { ident, join as joinSql, raw, sql, v } from "./sql.js";

class MigrationError extends Error {
  override readonly name = "MigrationError";
}

export interface MigrationFile {
  readonly version: number;
  readonly name: string;
  readonly checksum: string;
  readonly statements: readonly string[];
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Splits a file on `;` at line ends; `--` comment lines are dropped. */
function splitStatements(text: string): string[] {
  const withoutComments = text
    .split("\n")
    .filter((line) => !line.trim().startsWith("--"))
    .join("\n");
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** `cluster`: the statements of the cluster variant (./cluster.ts); checksums stay those of the files. */
export async function readMigrations(dir: string, cluster?: ClusterOptions): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith(".sql")).sort();
  const files: MigrationFile[] = [];
  for (const name of names) {
    const match = FILE_NAME.exec(name);
    if (!match) throw new MigrationError(`migration file name must look like 0001_name.sql: ${name}`);
    const text = await readFile(join(dir, name), "utf8");
    files.push({
      version: Number(match[1]),
      name,
      checksum: createHash("sha256").update(text).digest("hex"),
      statements: splitStatements(text),
    });
  }
  const versions = files.map((f) => f.version);
  if (new Set(versions).size !== versions.length) throw new MigrationError(`duplicate migration versions in ${dir}`);
  if (!cluster) return files;
  try {
    return clusterMigrations(files, cluster);
  } catch (cause) {
    throw new MigrationError((cause as Error).message);
  }
}

const AppliedRow = z.object({ version: z.coerce.number(), name: z.string(), checksum: z.string() });

export interface MigrationResult {
  readonly applied: readonly string[];
  readonly skipped: number;
}

/**
 * Applies pending migrations in order and records each in `schema_migrations`.
 * Refuses to run when a file that was already applied has changed: schema
 * history is append-only, a change goes into a new file.
 */
export async function runMigrations(ch: ClickHouse, dir: string, logger: Logger, cluster?: ClusterOptions): Promise<MigrationResult> {
  await ch.command(
    sql`CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, checksum String, applied_at DateTime) ENGINE = MergeTree ORDER BY version`,
  );
  const files = await readMigrations(dir, cluster);
  const applied = new Map((await ch.query(sql`SELECT version, name, checksum FROM schema_migrations`, AppliedRow)).map((r) => [r.version, r]));
  for (const file of files) {
    const done = applied.get(file.version);
    if (done && done.checksum !== file.checksum) {
      throw new MigrationError(
        `migration ${file.name} was applied with checksum ${done.checksum.slice(0, 12)} but the file now has ${file.checksum.slice(0, 12)}: never edit an applied migration, add a new one`,
      );
    }
  }
  const result: string[] = [];
  for (const file of files) {
    if (applied.has(file.version)) continue;
    logger.info({ migration: file.name, statements: file.statements.length }, "applying migration");
    for (const statement of file.statements) {
      try {
        await ch.command(raw(statement));
      } catch (cause) {
        throw new MigrationError(`migration ${file.name} failed: ${(cause as Error).message}\n--- statement:\n${statement}`);
      }
    }
    await ch.insert("schema_migrations", [
      { version: file.version, name: file.name, checksum: file.checksum, applied_at: Math.floor(Date.now() / 1000) },
    ]);
    result.push(file.name);
  }
  return { applied: result, skipped: files.length - result.length };
}

/** The restricted contact store's tables: their DDL is in `restricted/` next to the migrations directory. */
export const RESTRICTED_TABLES = ["restricted_report_contacts", "restricted_reply_recipients"] as const;

/**
 * Creates a platform database and its restricted contact store (`<database>_restricted`) and applies
 * the pending migrations of both: `migrationsDir` for the platform, its sibling `restricted/` for the
 * store. Contact rows still in the platform's database (before migration 0004) are copied to the
 * store first; 0004 then drops them there. Idempotent (the tables dedupe by id). `options`: an
 * administrator's connection. `cluster`: the cluster variant (./cluster.ts), run from one node, whose
 * `schema_migrations` records what was applied: migrate from that node each time.
 */
export async function migrateDatabase(options: Omit<ClickHouseOptions, "database">, database: string, migrationsDir: string, cluster?: ClusterOptions): Promise<MigrationResult> {
  const restricted = restrictedDatabase(database);
  await ensureDatabase(options, database, cluster?.cluster);
  await ensureDatabase(options, restricted, cluster?.cluster);
  const ch = createClickHouse({ ...options, database });
  const store = createClickHouse({ ...options, database: restricted });
  try {
    const r = await runMigrations(store, join(dirname(migrationsDir.replace(/\/+$/, "")), "restricted"), options.logger, cluster);
    const present = await ch.query(
      sql`SELECT name FROM system.tables WHERE database = ${v.string(database)} AND name IN (${joinSql(RESTRICTED_TABLES.map((t) => v.string(t)), ", ")})`,
      z.object({ name: z.string() }),
    );
    for (const { name } of present) {
      await ch.command(sql`INSERT INTO ${ident(restricted)}.${ident(name)} SELECT * FROM ${ident(database)}.${ident(name)}`);
      options.logger.info({ table: name, from: database, to: restricted }, "contact rows copied to the restricted store");
    }
    const p = await runMigrations(ch, migrationsDir, options.logger, cluster);
    return { applied: [...r.applied, ...p.applied], skipped: r.skipped + p.skipped };
  } finally {
    await ch.close();
    await store.close();
  }
}
