import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../../testing/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp("routes_analytics", { rev: "reviewer", ana: "analyst", boss: "admin" });
});
afterAll(async () => {
  await t?.close();
});

const ROUTES = ["/api/analytics/spam-volume", "/api/analytics/reports", "/api/analytics/top-reported", "/api/analytics/report-outcome", "/api/analytics/rules", "/api/analytics/throughput"];

describe("analytics routes: happy", () => {
  it("answer any RFC 3339 window, offsets included, and the default one", async () => {
    for (const url of ROUTES) {
      expect((await t.app.inject({ url, headers: t.as("ana") })).statusCode, url).toBe(200);
      expect((await t.app.inject({ url: `${url}?from=2025-01-01T00:00:00%2B08:00&to=2025-03-01T00:00:00.123Z`, headers: t.as("ana") })).statusCode, url).toBe(200);
    }
  });

  it("the regulator export is CSV, named after the window's first day", async () => {
    const res = await t.app.inject({ url: "/api/export/fraud-cases.csv?from=2025-01-05T00:00:00Z&to=2025-02-01T00:00:00Z", headers: t.as("boss") });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/csv");
    expect(res.headers["content-disposition"]).toContain("fraud-cases-2025-01-05.csv");
  });
});

describe("analytics routes: error", () => {
  it("refuse a date without a time, an empty value and an unknown bucket with 400 naming the field", async () => {
    for (const [url, field] of [
      ["/api/analytics/reports?from=2025-01-01", "querystring.from"],
      ["/api/analytics/rules?to=", "querystring.to"],
      ["/api/analytics/spam-volume?bucket=week", "querystring.bucket"],
      ["/api/analytics/top-reported?limit=101", "querystring.limit"],
    ] as const) {
      const res = await t.app.inject({ url, headers: t.as("ana") });
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.fields[0].path, url).toBe(field);
    }
  });
});

describe("analytics routes: security", () => {
  it("need a session; the regulator export is for analysts and admins only", async () => {
    for (const url of ROUTES) expect((await t.app.inject({ url })).statusCode, url).toBe(401);
    const rev = await t.app.inject({ url: "/api/export/fraud-cases.csv", headers: t.as("rev") });
    expect(rev.statusCode).toBe(403);
    expect(rev.headers["content-type"]).toContain("application/json");
  });
});
