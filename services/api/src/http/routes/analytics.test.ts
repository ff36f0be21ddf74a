import { describe, expect, it } from "vitest";
import { RangeQuery } from "./analytics.js";

describe("analytics range query", () => {
  it("rejects windows ClickHouse DateTime cannot hold instead of failing in the SQL encoder", () => {
    // to=1970-01-01 puts the default 30-day `from` before the epoch (was a 500, found by fuzz-http).
    const early = RangeQuery.safeParse({ to: "1970-01-01" });
    expect(early.success).toBe(false);
    expect(early.error?.issues.map((i) => i.path.join("."))).toContain("from");
    expect(RangeQuery.safeParse({ from: "2106-03-01", to: "2106-03-02" }).success).toBe(false);
  });

  it("accepts ordinary windows and defaults to the last 30 days", () => {
    const r = RangeQuery.parse({ from: "2025-01-01", to: "2025-02-01" });
    expect(r.from.toISOString()).toBe("2025-01-01T00:00:00.000Z");
    const d = RangeQuery.parse({});
    expect(d.to.getTime() - d.from.getTime()).toBe(30 * 86_400_000);
  });
});
