import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { UserStore } from "../../auth/users.js";
import { migratePg } from "../../db/migrate.js";
import { createPool } from "../../db/pool.js";
import { createTestDatabase } from "../../testing/postgres.js";
import { testAppDeps } from "../../testing/app.js";
import { buildApp } from "../app.js";
import type { DeliveryCount, DeliveryCounts } from "./delivery.js";

const logger = pino({ level: "silent" });
const PW = "correct-horse-battery";
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: ReturnType<typeof createPool>;
let app: FastifyInstance;
let token = "";
const asked: Array<{ from: Date; to: Date }> = [];

const COUNTS: DeliveryCount[] = [
  { outcome: "forwarded", reason: "allow", messages: 90 },
  { outcome: "forwarded", reason: "deadline_open", messages: 3 },
  { outcome: "stopped", reason: "block", messages: 6 },
  { outcome: "stopped", reason: "blocklist", messages: 2 },
  { outcome: "deferred", reason: "throttled", messages: 1 },
  { outcome: "late_verdict", reason: "block", messages: 1 },
];
const counts: DeliveryCounts = {
  counts: async (range) => {
    asked.push(range);
    return COUNTS;
  },
};

beforeAll(async () => {
  db = await createTestDatabase("delivery");
  pool = createPool(db.url, 5);
  await migratePg(pool, logger);
  const users = new UserStore(pool, 3_600_000);
  await users.createUser({ username: "ana", role: "analyst", password: PW });
  app = await buildApp(testAppDeps(pool, users, { delivery: counts, loginPerMinute: 5 }));
  const res = await app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "ana", password: PW } });
  token = res.json().token;
});

afterAll(async () => {
  await app?.close();
  await pool?.end();
  await db?.drop();
});

const auth = () => ({ authorization: `Bearer ${token}` });

describe("GET /api/delivery/summary: happy", () => {
  it("sums delivered, stopped, deferred and fail-opens from the counts and passes the window on", async () => {
    const res = await app.inject({ url: "/api/delivery/summary?from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z", headers: auth() });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ delivered: 93, stopped: 8, deferred: 1, failOpen: 3, counts: COUNTS });
    expect(asked.at(-1)).toEqual({ from: new Date("2026-12-01"), to: new Date("2026-12-02") });
  });
});

describe("GET /api/delivery/summary: errors", () => {
  it("answers 400 with the closed body for a window that is not an RFC 3339 date-time", async () => {
    for (const q of ["to=1970-01-01", "from=yesterday", "from=2026-13-01T00:00:00Z"]) {
      const res = await app.inject({ url: `/api/delivery/summary?${q}`, headers: auth() });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe("bad_request");
    }
  });

  it("passes a reversed window on as an empty one, as the document says", async () => {
    const res = await app.inject({ url: "/api/delivery/summary?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", headers: auth() });
    expect(res.statusCode).toBe(200);
    const range = asked.at(-1)!;
    expect(range.from.getTime()).toBe(range.to.getTime());
  });
});

describe("GET /api/delivery/summary: security", () => {
  it("answers 401 without a session and never carries numbers or texts", async () => {
    expect((await app.inject({ url: "/api/delivery/summary" })).statusCode).toBe(401);
    const body = (await app.inject({ url: "/api/delivery/summary", headers: auth() })).body;
    expect(body).not.toMatch(/\d{7,}/);
  });
});
