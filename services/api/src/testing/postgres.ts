import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pg from "pg";
import { repoPath } from "@spam/repo-paths";
import { ensurePgDatabase } from "../db/migrate.js";

const run = promisify(execFile);

/**
 * Starts the project-local PostgreSQL (infra/postgres/start.sh: installs,
 * initialises and starts it when needed; a no-op when it runs) and returns the
 * server URL. Tests call this themselves, so `vitest run services/api` works alone.
 */
async function startLocalPostgres(): Promise<string> {
  if (process.env.TEST_DATABASE_SERVER_URL) return process.env.TEST_DATABASE_SERVER_URL;
  const { stdout } = await run("bash", [repoPath("infra", "postgres", "start.sh")], { timeout: 300_000 });
  const url = stdout.trim().split("\n").pop() ?? "";
  if (!url.startsWith("postgres://")) throw new Error(`infra/postgres/start.sh printed no URL: ${stdout}`);
  return url;
}

export interface PgDatabase {
  readonly url: string;
  /** Drops the database, ending its sessions first (PostgreSQL ≥ 13). */
  drop(): Promise<void>;
}

/**
 * A database named `name` on the PostgreSQL server at `serverUrl`, for tests: its URL and how to drop
 * it. Nothing is created here: the API creates and migrates its database on first use.
 */
export function pgDatabaseOn(serverUrl: string, name: string): PgDatabase {
  if (!/^[a-z0-9_]{1,63}$/.test(name)) throw new Error(`not a plain database name: "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      try {
        // The name was checked above: an identifier cannot be a query parameter.
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** A fresh database per test file, named after TEST_RUN_ID so runs never share state. */
export async function createTestDatabase(label: string): Promise<PgDatabase> {
  const server = await startLocalPostgres();
  const run_id = (process.env.TEST_RUN_ID ?? `${process.pid}`).toLowerCase().replace(/[^a-z0-9_]/g, "_");
  const name = `t_${run_id}_${label}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase().replace(/[^a-z0-9_]/g, "_").slice(0, 63);
  const db = pgDatabaseOn(server, name);
  await ensurePgDatabase(pg, db.url);
  return db;
}
