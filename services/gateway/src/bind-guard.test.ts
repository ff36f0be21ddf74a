import { describe, expect, it } from "vitest";
import { BindGuard } from "./bind-guard.js";

function guard(over: Partial<ConstructorParameters<typeof BindGuard>[0]> = {}) {
  const clock = { t: 1_000_000 };
  const g = new BindGuard({ failuresBeforeBackoff: 3, baseMs: 1_000, maxMs: 8_000, maxAddresses: 100, now: () => clock.t, ...over });
  return { g, clock };
}

describe("failed-bind backoff", () => {
  it("refuses an address after the threshold, doubling the period up to the max, and forgives after a success", () => {
    const { g, clock } = guard();
    for (let i = 0; i < 2; i++) g.failed("10.0.0.1", "mo", true);
    expect(g.refusedFor("10.0.0.1", "other", false)).toBe(0);
    g.failed("10.0.0.1", "mo", true);
    expect(g.refusedFor("10.0.0.1", "other", false)).toBe(1_000);
    clock.t += 1_000;
    g.failed("10.0.0.1", "mo", true);
    expect(g.refusedFor("10.0.0.1", "other", false)).toBe(2_000);
    for (let i = 0; i < 10; i++) g.failed("10.0.0.1", "mo", true);
    expect(g.refusedFor("10.0.0.1", "other", false)).toBe(8_000);
    clock.t += 8_000;
    expect(g.refusedFor("10.0.0.1", "other", false)).toBe(0);
    g.succeeded("10.0.0.1", "mo");
    g.failed("10.0.0.1", "mo", true);
    expect(g.refusedFor("10.0.0.1", "mo", true)).toBe(0);
  });

  it("locks a configured system_id for every address but those that bound it before", () => {
    const { g } = guard();
    g.succeeded("10.0.0.9", "mo");
    for (const a of ["10.0.0.1", "10.0.0.2", "10.0.0.3"]) g.failed(a, "mo", true);
    expect(g.refusedFor("10.0.0.4", "mo", true)).toBe(1_000);
    expect(g.refusedFor("10.0.0.9", "mo", true)).toBe(0);
    // Unknown system_ids are not tracked (memory stays bounded by the configured accounts).
    for (const a of ["10.0.1.1", "10.0.1.2", "10.0.1.3"]) g.failed(a, "nobody", false);
    expect(g.refusedFor("10.0.1.4", "nobody", false)).toBe(0);
  });

  it("remembers at most maxAddresses addresses", () => {
    const { g } = guard({ maxAddresses: 10 });
    for (let i = 0; i < 1_000; i++) g.failed(`10.1.${i >> 8}.${i & 255}`, "x", false);
    expect(g.trackedAddresses).toBe(10);
  });
});
