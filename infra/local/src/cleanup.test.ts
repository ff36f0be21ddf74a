import { describe, expect, it } from "vitest";
import { runStartedAt } from "./cleanup.js";

describe("runStartedAt", () => {
  const at = 1_795_468_676_719;
  const id = at.toString(36);

  it("reads the start time from test and benchmark topic prefixes", () => {
    expect(runStartedAt(`t${id}a1aa.kafka.3f2e1d0c.sms.verdicts`, "topic")).toBe(at);
    expect(runStartedAt(`bench-${id}.sms.traffic.raw`, "topic")).toBe(at);
    expect(runStartedAt(`bench-gw-${id}.sms.reports`, "topic")).toBe(at);
    expect(runStartedAt(`drain-${id}.sms.verdicts`, "topic")).toBe(at);
  });

  it("reads it from database names that contain the run id", () => {
    expect(runStartedAt(`enc_t${id}a1aa`, "database")).toBe(at);
    expect(runStartedAt(`decider_metrics_t${id}a1aa_3f2e1d0c`, "database")).toBe(at);
    expect(runStartedAt(`bench_${id}`, "database")).toBe(at);
  });

  it("leaves everything else alone: the product's own topics and databases, look-alikes", () => {
    for (const name of ["sms.traffic.raw", "spam", "system", "default", "__consumer_offsets", `tea${id}.x`, `t${id}a1aa`, "bench-zzzzzzzz.sms.verdicts"]) {
      expect(runStartedAt(name, "topic"), name).toBeNull();
    }
    for (const name of ["spam", "system", "default", `myt${id}a1aa`, "bench_zzzzzzzz"]) {
      expect(runStartedAt(name, "database"), name).toBeNull();
    }
  });
});
