import pino from "pino";
import type pg from "pg";
import type { Page } from "playwright-core";
import { createApiService, createPool, parseEnv, UserStore, type ApiService, type ClickHouse } from "@spam/api-service";
import { createTestDatabase, seedClickHouse } from "@spam/api-service/testing";
import { launchChromium } from "./chromium.js";

export const PW = "browser-test-password";

/** The API with the console on loopback, a fresh PostgreSQL database, ClickHouse when the suite has one, and Chromium. */
export interface Harness {
  readonly base: string;
  readonly pool: pg.Pool;
  readonly dbUrl: string;
  readonly ch: ClickHouse | null;
  readonly browser: Awaited<ReturnType<typeof launchChromium>>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Without ClickHouse the analytics pages have no data (default: with it, when the suite has one). */
  readonly clickhouse?: boolean;
  /** More API settings (e.g. LOGIN_RATE_LIMIT_PER_MINUTE for a test that signs in often). */
  readonly env?: Record<string, string>;
}

export async function startHarness(
  name: string,
  users: readonly { username: string; displayName: string; role: "reviewer" | "analyst" | "admin" }[],
  options: HarnessOptions = {},
): Promise<Harness> {
  const logger = pino({ level: process.env.LOG_LEVEL ?? "warn" });
  const browser = await launchChromium();
  const db = await createTestDatabase(name);
  const runId = (process.env.TEST_RUN_ID ?? `${process.pid}`).toLowerCase().replace(/[^a-z0-9_]/g, "_");
  const chDatabase = `api_${name}_${runId}`;
  const ch = options.clickhouse !== false && process.env.CLICKHOUSE_URL ? await seedClickHouse(process.env.CLICKHOUSE_URL, chDatabase, logger) : null;
  const env = parseEnv({
    DATABASE_URL: db.url,
    API_PORT: "0",
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
    CLICKHOUSE_URL: ch ? process.env.CLICKHOUSE_URL : "",
    CLICKHOUSE_DATABASE: chDatabase,
    KAFKA_BROKERS: "",
    ...options.env,
  });
  const service: ApiService = createApiService(env, logger);
  const base = (await service.start()).url;
  const pool = createPool(db.url, 4);
  const store = new UserStore(pool, 3_600_000);
  for (const u of users) await store.createUser({ ...u, password: PW });
  return {
    base, pool, dbUrl: db.url, ch, browser,
    async close() {
      await browser.close();
      await service.stop();
      await pool.end();
      await ch?.close();
      await db.drop();
    },
  };
}

export async function loginAs(page: Page, base: string, username: string): Promise<void> {
  await page.context().clearCookies();
  await page.goto(`${base}/login`);
  await page.fill("#username", username);
  await page.fill("#password", PW);
  await page.click("#login-submit");
  await page.waitForSelector("[data-testid=whoami]:not(:empty)");
}
