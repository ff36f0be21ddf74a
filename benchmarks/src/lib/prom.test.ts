import { describe, expect, it } from "vitest";
import { counterValue, gcSince, gcSummary, stageQuantiles } from "./prom.js";

// Prometheus text as prom-client writes it (cumulative buckets, then sum and count).
const stages = [
  'spam_stage_latency_seconds_bucket{le="0.005",stage="kafka_to_scored",service="scorer"} 50',
  'spam_stage_latency_seconds_bucket{le="0.01",stage="kafka_to_scored",service="scorer"} 90',
  'spam_stage_latency_seconds_bucket{le="0.05",stage="kafka_to_scored",service="scorer"} 99',
  'spam_stage_latency_seconds_bucket{le="0.1",stage="kafka_to_scored",service="scorer"} 100',
  'spam_stage_latency_seconds_bucket{le="+Inf",stage="kafka_to_scored",service="scorer"} 100',
  'spam_stage_latency_seconds_bucket{le="0.005",stage="scored_to_verdict_published",service="scorer"} 0',
  'spam_stage_latency_seconds_bucket{le="+Inf",stage="scored_to_verdict_published",service="scorer"} 0',
  'spam_messages_out_total{topic="sms.verdicts",service="scorer"} 120',
  'spam_messages_out_total{topic="run1.sms.verdicts",service="scorer"} 30',
  'spam_messages_out_total{topic="sms.deadletter",service="scorer"} 7',
].join("\n");

describe("stageQuantiles", () => {
  it("gives each quantile as the upper bound of the first bucket that reaches it, in ms", () => {
    expect(stageQuantiles(stages, "kafka_to_scored")).toEqual({ count: 100, p50: 5, p90: 10, p99: 50 });
  });

  it("is null for a stage with no observations or no buckets", () => {
    expect(stageQuantiles(stages, "scored_to_verdict_published")).toBeNull();
    expect(stageQuantiles(stages, "nowhere")).toBeNull();
  });

  it("reports Infinity when a quantile falls in the +Inf bucket", () => {
    const text = ['spam_stage_latency_seconds_bucket{le="0.1",stage="s"} 1', 'spam_stage_latency_seconds_bucket{le="+Inf",stage="s"} 4'].join("\n");
    expect(stageQuantiles(text, "s")).toEqual({ count: 4, p50: Infinity, p90: Infinity, p99: Infinity });
  });
});

describe("counterValue", () => {
  it("sums the series of a counter whose labels match", () => {
    expect(counterValue(stages, "spam_messages_out_total", 'sms.verdicts"')).toBe(150);
    expect(counterValue(stages, "spam_messages_out_total", "deadletter")).toBe(7);
    expect(counterValue(stages, "spam_messages_in_total", "")).toBe(0);
  });
});

const gc = (minor: [number, number, number], major: [number, number, number]) =>
  [
    // kind, bucket ≤ 1 ms, ≤ 10 ms, count; sum in seconds
    `nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} ${minor[0]}`,
    `nodejs_gc_duration_seconds_bucket{le="0.01",kind="minor"} ${minor[1]}`,
    `nodejs_gc_duration_seconds_bucket{le="+Inf",kind="minor"} ${minor[2]}`,
    `nodejs_gc_duration_seconds_sum{kind="minor"} ${minor[2] * 0.002}`,
    `nodejs_gc_duration_seconds_count{kind="minor"} ${minor[2]}`,
    `scorer_nodejs_gc_duration_seconds_bucket{le="0.001",kind="major"} ${major[0]}`,
    `scorer_nodejs_gc_duration_seconds_bucket{le="0.01",kind="major"} ${major[1]}`,
    `scorer_nodejs_gc_duration_seconds_bucket{le="+Inf",kind="major"} ${major[2]}`,
    `scorer_nodejs_gc_duration_seconds_sum{kind="major"} ${major[2] * 0.02}`,
    `scorer_nodejs_gc_duration_seconds_count{kind="major"} ${major[2]}`,
  ].join("\n");

describe("gcSummary and gcSince", () => {
  it("reads count, seconds and the pauses of 10 ms or more per GC kind (prefixed metric names too)", () => {
    const s = gcSummary(gc([10, 18, 20], [0, 2, 5]));
    expect(s.minor).toEqual({ count: 20, seconds: 0.04, atLeast10ms: 2 });
    expect(s.major).toEqual({ count: 5, seconds: 0.1, atLeast10ms: 3 });
  });

  it("subtracts an earlier summary of the same process; kinds first seen later count from zero", () => {
    const before = gcSummary(gc([10, 18, 20], [0, 0, 0]).split("\n").filter((l) => l.includes("minor")).join("\n"));
    const after = gcSummary(gc([30, 47, 50], [0, 2, 5]));
    const d = gcSince(before, after);
    expect(d.minor!.count).toBe(30);
    expect(d.minor!.atLeast10ms).toBe(1);
    expect(d.minor!.seconds).toBeCloseTo(0.06, 10);
    expect(d.major).toEqual({ count: 5, seconds: 0.1, atLeast10ms: 3 });
  });
});
