import { describe, expect, it } from "vitest";
import { fmt, LatencyHistogram, procUsage, table } from "./stats.js";

describe("LatencyHistogram", () => {
  it("summarises recorded milliseconds within the histogram's precision", () => {
    const h = new LatencyHistogram();
    for (let ms = 1; ms <= 100; ms++) h.recordMs(ms);
    const s = h.summaryMs();
    expect(s.count).toBe(100);
    expect(s.p50).toBeCloseTo(50, 0);
    expect(s.p90).toBeCloseTo(90, 0);
    expect(s.p99).toBeCloseTo(99, 0);
    expect(s.max).toBeCloseTo(100, 0);
  });

  it("is all zeros when empty, and keeps sub-millisecond values", () => {
    expect(new LatencyHistogram().summaryMs()).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, max: 0 });
    const h = new LatencyHistogram();
    h.recordMs(0.25);
    expect(h.summaryMs().max).toBeCloseTo(0.25, 3);
  });
});

describe("procUsage", () => {
  it("turns two /proc samples into cores (USER_HZ ticks per second) and MiB", () => {
    const a = { pid: 7, cpuTicks: 1_000, rssBytes: 0, hwmBytes: 0, at: 10_000 };
    const b = { pid: 7, cpuTicks: 1_300, rssBytes: 100 * 1_048_576, hwmBytes: 150 * 1_048_576, at: 12_000 };
    expect(procUsage("scorer-1", a, b)).toEqual({ name: "scorer-1", pid: 7, cpuCores: 1.5, rssMb: 100, peakRssMb: 150 });
  });
});

describe("fmt and table", () => {
  it("prints integers as they are and fewer decimals for larger numbers", () => {
    expect([fmt(42), fmt(1234.567), fmt(12.345), fmt(1.23456), fmt(-0.5)]).toEqual(["42", "1235", "12.3", "1.23", "-0.50"]);
  });

  it("pads the first column left-aligned and the others right-aligned under a rule", () => {
    expect(table(["figure", "value"], [["messages/s", 8890], ["p99 ms", 33.4]])).toBe(
      ["figure      value", "----------  -----", "messages/s   8890", "p99 ms       33.4"].join("\n"),
    );
  });
});
