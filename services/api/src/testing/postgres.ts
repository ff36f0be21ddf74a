import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { ensurePgDatabase } from "../db/migrate.js";

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

/**
 * Starts the project-local PostgreSQL (infra/postgres/start.sh: installs,
 * initialises and starts it when needed; a no-op when it runs) and returns the
 * server URL. Tests call this themselves, so `vitest run services/api` works alone.
 */
export async function startLocalPostgres(): Promise<string> {
  if (process.env.TEST_DATABASE_SERVER_URL) return process.env.TEST_DATABASE_SERVER_URL;
  const { stdout } = await run("bash", [`${REPO_ROOT}infra/postgres/start.sh`], { timeout: 300_000 });
  const url = stdout.trim().split("\n").pop() ?? "";
  if (!url.startsWith("postgres://")) throw new Error(`infra/postgres/start.sh printed no URL: ${stdout}`);
  return url;
}

/** A fresh database per test file, named after TEST_RUN_ID so runs never share state. */
export async function createTestDatabase(label: string): Promise<{ url: string; drop(): Promise<void> }> {
  const server = await startLocalPostgres();
  const run_id = (process.env.TEST_RUN_ID ?? `${process.pid}`).toLowerCase().replace(/[^a-z0-9_]/g, "_");
  const name = `t_${run_id}_${label}_${Math.random().toString(36).slice(2, 8)}`.slice(0, 63);
  const url = new URL(server);
  url.pathname = `/${name}`;
  await ensurePgDatabase(pg, url.toString());
  return {
    url: url.toString(),
    async drop() {
      const admin = new pg.Client({ connectionString: server });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
