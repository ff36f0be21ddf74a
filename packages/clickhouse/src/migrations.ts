import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { z } from "zod";
import type { ClickHouse } from "./client.js";
import { raw, sql } from "./sql.js";

export class MigrationError extends Error {
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
export function splitStatements(text: string): string[] {
  const withoutComments = text
    .split("\n")
    .filter((line) => !line.trim().startsWith("--"))
    .join("\n");
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export async function readMigrations(dir: string): Promise<MigrationFile[]> {
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
  return files;
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
export async function runMigrations(ch: ClickHouse, dir: string, logger: Logger): Promise<MigrationResult> {
  await ch.command(
    sql`CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, checksum String, applied_at DateTime) ENGINE = MergeTree ORDER BY version`,
  );
  const files = await readMigrations(dir);
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
