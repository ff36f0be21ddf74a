import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { UserStore } from "../auth/users.js";
import { migratePg } from "../db/migrate.js";
import { createPool } from "../db/pool.js";
import { createTestDatabase } from "../testing/postgres.js";
import { testAppDeps } from "../testing/app.js";
import { buildApp } from "./app.js";

// Inputs HTTP fuzzing (benchmarks/src/fuzz-http.ts) answered with 500: each must be a 4xx.
const logger = pino({ level: "silent" });
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: ReturnType<typeof createPool>;
let app: FastifyInstance;
let auth: { authorization: string };

beforeAll(async () => {
  db = await createTestDatabase("bounds");
  pool = createPool(db.url, 5);
  await migratePg(pool, logger);
  const users = new UserStore(pool, 3_600_000);
  await users.createUser({ username: "admin", role: "admin", password: "correct-horse-battery" });
  app = await buildApp(testAppDeps(pool, users, { loginPerMinute: 100 }));
  const login = await app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "admin", password: "correct-horse-battery" } });
  auth = { authorization: `Bearer ${login.json().token}` };
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await db?.drop();
});

describe("input PostgreSQL cannot take is a 400, not a 500", () => {
  it.each([
    "/api/queue?offset=1e%2B21",
    "/api/queue?offset=9223372036854776000",
    "/api/admin/audit?before=1e%2B21",
    "/api/queue?minAgeHours=1e300",
    "/api/queue?maxAgeHours=1e300",
  ])("%s", async (url) => {
    const res = await app.inject({ url, headers: auth });
    expect(res.statusCode).toBeGreaterThanOrEqual(200);
    expect(res.statusCode).toBeLessThan(500);
  });

  it("a login name with NUL", async () => {
    const res = await app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "a\u0000b", password: "x" } });
    expect(res.statusCode).toBe(400);
  });
});
