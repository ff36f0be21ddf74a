import { describe, expect, it } from "vitest";
import { RangeQuery } from "./analytics.js";

describe("analytics range query", () => {
  it("cuts windows to what ClickHouse DateTime holds instead of failing in the SQL encoder", () => {
    // to=1970-01-01 puts the default 30-day `from` before the epoch (was a 500, found by fuzz-http); any
    // date-time is valid by the document, so the window is cut, not refused (issue 19).
    const early = RangeQuery.parse({ to: "1970-01-01T00:00:00Z" });
    expect(early.from.getTime()).toBe(0);
    expect(early.to.getTime()).toBe(0);
    const late = RangeQuery.parse({ from: "2106-03-01T00:00:00Z", to: "2106-03-02T00:00:00Z" });
    expect(late.to.getTime()).toBeLessThan(2 ** 32 * 1000);
    expect(late.from.getTime()).toBeLessThanOrEqual(late.to.getTime());
  });

  it("accepts ordinary windows, defaults to the last 30 days, cuts to 400 days and empties reversed ones", () => {
    const r = RangeQuery.parse({ from: "2025-01-01T00:00:00Z", to: "2025-02-01T08:00:00+08:00" });
    expect(r.from.toISOString()).toBe("2025-01-01T00:00:00.000Z");
    expect(r.to.toISOString()).toBe("2025-02-01T00:00:00.000Z");
    const d = RangeQuery.parse({});
    expect(d.to.getTime() - d.from.getTime()).toBe(30 * 86_400_000);
    const long = RangeQuery.parse({ from: "2000-01-01T00:00:00Z", to: "2025-01-01T00:00:00Z" });
    expect(long.to.getTime() - long.from.getTime()).toBe(400 * 86_400_000);
    const reversed = RangeQuery.parse({ from: "2025-02-01T00:00:00Z", to: "2025-01-01T00:00:00Z" });
    expect(reversed.from.getTime()).toBe(reversed.to.getTime());
  });

  it("refuses what is not an RFC 3339 date-time", () => {
    for (const bad of ["", "2025-01-01", "yesterday", "2025-13-01T00:00:00Z"]) expect(RangeQuery.safeParse({ from: bad }).success, bad).toBe(false);
  });
});
