import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { pgDatabaseOn, type PgDatabase } from "@spam/api-service/testing";
import { REPO_ROOT } from "@spam/repo-paths";

const run = promisify(execFile);

/**
 * A private PostgreSQL database name on the server the vitest global setup
 * started (infra/postgres/vitest-global-setup.mjs exports TEST_DATABASE_SERVER_URL).
 * The API and its admin CLI create and migrate it themselves.
 */
export function testPgDatabase(name: string): PgDatabase {
  const server = process.env.TEST_DATABASE_SERVER_URL;
  if (!server) throw new Error("TEST_DATABASE_SERVER_URL must be set (infra/postgres/vitest-global-setup.mjs does this)");
  const runId = (process.env.TEST_RUN_ID ?? `${process.pid}`).toLowerCase();
  return pgDatabaseOn(server, `${name}_${runId}`.toLowerCase().replace(/[^a-z0-9_]/g, "_").slice(0, 63));
}

/** Creates a user with the API's admin CLI (`services/api/dist/cli/admin.js`), as an operator would. */
export async function createApiUser(databaseUrl: string, username: string, role: "reviewer" | "analyst" | "admin", password: string): Promise<void> {
  const { stdout } = await run(process.execPath, [resolve(REPO_ROOT, "services/api/dist/cli/admin.js"), "create-user", "--username", username, "--role", role], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, API_ADMIN_PASSWORD: password },
    timeout: 60_000,
  });
  if (!stdout.includes(`created ${role} ${username}`)) throw new Error(`admin CLI did not create ${username}: ${stdout}`);
}
