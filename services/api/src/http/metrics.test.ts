import pino from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { createServiceMetrics } from "@spam/observability";
import { emptyTrafficAnalytics } from "../analytics/clickhouse.js";
import { PgReviewAnalytics } from "../analytics/pg.js";
import { UserStore } from "../auth/users.js";
import { createPool } from "../db/pool.js";
import { CaseStore } from "../review/cases.js";
import { buildApp } from "./app.js";

// Nothing listens on port 1: every query fails at once, which is the 5xx this test needs.
const pool = createPool("postgres://u:p@127.0.0.1:1/none", 2, () => undefined);
afterAll(() => pool.end());

describe("/metrics", () => {
  it("serves Prometheus text without a session and counts 5xx answers as errors", async () => {
    const metrics = createServiceMetrics({ service: "api", collectDefault: false });
    const app = await buildApp({
      logger: pino({ level: "silent" }),
      pool,
      users: new UserStore(pool, 3_600_000),
      cases: new CaseStore(pool, { slaHours: 48, claimTtlMinutes: 15, effects: { blockTtlMs: 1, shortCode: "10086999" } }),
      traffic: emptyTrafficAnalytics,
      review: new PgReviewAnalytics(pool),
      config: { slaHours: 48, cookieSecure: false, loginPerMinute: 5 },
      metrics,
    });
    try {
      const failed = await app.inject({ url: "/api/auth/me", headers: { authorization: "Bearer some-token" } });
      expect(failed.statusCode).toBe(500);
      const res = await app.inject("/metrics");
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toContain("text/plain");
      expect(res.body).toMatch(/spam_errors_total\{kind="http_5xx",service="api"\} 1/);
      expect(res.body).toContain("spam_stage_latency_seconds_bucket");
    } finally {
      await app.close();
    }
  });
});
