import type { FastifyInstance } from "fastify";
import pino from "pino";
import { emptyTrafficAnalytics } from "../analytics/clickhouse.js";
import { PgReviewAnalytics } from "../analytics/pg.js";
import { UserStore, type Role } from "../auth/users.js";
import { migratePg } from "../db/migrate.js";
import { createPool } from "../db/pool.js";
import { buildApp } from "../http/app.js";
import { CaseStore } from "../review/cases.js";
import { createTestDatabase, type PgDatabase } from "./postgres.js";

export const TEST_PASSWORD = "correct-horse-battery";

type AppDeps = Parameters<typeof buildApp>[0];

/**
 * What route tests build the API from: their PostgreSQL pool, no ClickHouse (empty traffic analytics),
 * a 48-hour SLA; `over` replaces any of it (a route's own dependency, another login limit).
 */
export function testAppDeps(pool: ReturnType<typeof createPool>, users: UserStore, over: Partial<AppDeps> & { loginPerMinute?: number } = {}): AppDeps {
  const { loginPerMinute = 1000, ...rest } = over;
  return {
    logger: pino({ level: "silent" }),
    pool,
    users,
    cases: new CaseStore(pool, { slaHours: 48, claimTtlMinutes: 15, revealsPerHour: 20, effects: { blockTtlMs: 86_400_000, shortCode: "10086999" } }),
    traffic: emptyTrafficAnalytics,
    review: new PgReviewAnalytics(pool),
    config: { slaHours: 48, cookieSecure: false, loginPerMinute },
    ...rest,
  };
}

export interface TestApp {
  readonly app: FastifyInstance;
  readonly pool: ReturnType<typeof createPool>;
  readonly cases: CaseStore;
  readonly users: UserStore;
  /** Bearer header of a signed-in user (signed in at start). */
  as(username: string): { authorization: string };
  close(): Promise<void>;
}

/** The API in-process on its own PostgreSQL database, with these users signed in: for route tests. */
export async function startTestApp(label: string, accounts: Record<string, Role>, options: { loginPerMinute?: number } = {}): Promise<TestApp> {
  const logger = pino({ level: "silent" });
  const db: PgDatabase = await createTestDatabase(label);
  const pool = createPool(db.url, 5);
  await migratePg(pool, logger);
  const users = new UserStore(pool, 3_600_000);
  const deps = testAppDeps(pool, users, options);
  const cases = deps.cases;
  const app = await buildApp(deps);
  const tokens: Record<string, string> = {};
  for (const [username, role] of Object.entries(accounts)) {
    await users.createUser({ username, role, password: TEST_PASSWORD });
    const res = await app.inject({ method: "POST", url: "/api/auth/login", payload: { username, password: TEST_PASSWORD } });
    tokens[username] = (res.json() as { token: string }).token;
  }
  return {
    app,
    pool,
    cases,
    users,
    as: (username) => ({ authorization: `Bearer ${tokens[username]}` }),
    async close() {
      await app.close();
      await pool.end();
      await db.drop();
    },
  };
}
