import { afterEach, describe, expect, it } from "vitest";
import pino from "pino";
import { ServiceMetrics } from "./metrics.js";
import { ObservabilityServer } from "./server.js";
import { batchCommittedRecorder, instrumentConsumer, type ConsumerHooks, type ObservableConsumer } from "./consumer.js";

const logger = pino({ level: "silent" });

/** Value of the sample `name{labels}` in Prometheus text, whatever order the labels are printed in. */
function sampleValue(text: string, series: string): number | undefined {
  const key = (s: string) => {
    const m = /^([^{\s]+)(?:\{(.*)\})?$/.exec(s);
    const labels = (m?.[2] ?? "").split(/,(?=\w+=)/).filter(Boolean).sort().join(",");
    return `${m?.[1]}{${labels}}`;
  };
  const wanted = key(series);
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    if (i > 0 && key(line.slice(0, i)) === wanted) return Number(line.slice(i + 1));
  }
  return undefined;
}

describe("ServiceMetrics", () => {
  it("counts messages per topic, errors by kind and labels every series with the service", async () => {
    const m = new ServiceMetrics({ service: "scorer", collectDefault: false });
    m.recordIn("traffic.raw", 3);
    m.recordIn("traffic.raw");
    m.recordOut("verdicts", 2);
    m.recordError("decode");
    const text = await m.metricsText();
    expect(sampleValue(text, 'spam_messages_in_total{topic="traffic.raw",service="scorer"}')).toBe(4);
    expect(sampleValue(text, 'spam_messages_out_total{topic="verdicts",service="scorer"}')).toBe(2);
    expect(sampleValue(text, 'spam_errors_total{kind="decode",service="scorer"}')).toBe(1);
  });

  it("puts stage latencies in sub-millisecond to multi-second buckets", async () => {
    const m = new ServiceMetrics({ service: "gw", collectDefault: false });
    m.observeStage("smpp_receive_to_kafka_ack", 0.0002); // 0.2 ms
    m.observeStage("smpp_receive_to_kafka_ack", 3); // 3 s
    const text = await m.metricsText();
    const bucket = (le: string) =>
      sampleValue(text, `spam_stage_latency_seconds_bucket{le="${le}",service="gw",stage="smpp_receive_to_kafka_ack"}`);
    expect(bucket("0.0001")).toBe(0);
    expect(bucket("0.00025")).toBe(1);
    expect(bucket("2.5")).toBe(1);
    expect(bucket("5")).toBe(2);
    // Stages not yet observed are exported at zero.
    expect(sampleValue(text, 'spam_stage_latency_seconds_count{service="gw",stage="verdict_to_visible_clickhouse"}')).toBe(0);
  });

  it("clamps negative cross-process latencies (clock skew) to zero", async () => {
    const m = new ServiceMetrics({ service: "sink", collectDefault: false });
    m.observeStageSince("verdict_to_visible_clickhouse", 2_000, 1_000);
    const text = await m.metricsText();
    expect(sampleValue(text, 'spam_stage_latency_seconds_sum{service="sink",stage="verdict_to_visible_clickhouse"}')).toBe(0);
  });

  it("keeps registries of two services apart", async () => {
    const a = new ServiceMetrics({ service: "a", collectDefault: false });
    const b = new ServiceMetrics({ service: "b", collectDefault: false });
    a.recordIn("t", 5);
    expect(await b.metricsText()).not.toContain('topic="t"');
  });
});

function fakeConsumer(): ObservableConsumer & { hooks: Set<ConsumerHooks> } {
  const hooks = new Set<ConsumerHooks>();
  return {
    hooks,
    observe(h) {
      hooks.add(h);
      return () => void hooks.delete(h);
    },
  };
}

describe("instrumentConsumer", () => {
  it("records committed batches, lag and failures from the consumer's hooks, and unsubscribes", async () => {
    const m = new ServiceMetrics({ service: "sink", collectDefault: false });
    const c = fakeConsumer();
    const stop = instrumentConsumer(c, m);
    const emit = (f: (h: ConsumerHooks) => void) => c.hooks.forEach(f);
    emit((h) => h.onBatchCommitted?.({ topic: "verdicts", partition: 2, count: 40, lag: 5 }));
    emit((h) => h.onLag?.("verdicts", 2, 17));
    emit((h) => h.onError?.("consumer_crash"));
    emit((h) => h.onError?.("handler_failed"));
    let text = await m.metricsText();
    expect(sampleValue(text, 'spam_messages_in_total{topic="verdicts",service="sink"}')).toBe(40);
    expect(sampleValue(text, 'spam_consumer_lag_messages{topic="verdicts",partition="2",service="sink"}')).toBe(17);
    expect(sampleValue(text, 'spam_batch_size_messages_count{topic="verdicts",service="sink"}')).toBe(1);
    expect(sampleValue(text, 'spam_errors_total{kind="kafka_consumer_crash",service="sink"}')).toBe(1);
    expect(sampleValue(text, 'spam_errors_total{kind="kafka_handler_failed",service="sink"}')).toBe(1);
    stop();
    expect(c.hooks.size).toBe(0);
    emit((h) => h.onBatchCommitted?.({ topic: "verdicts", partition: 2, count: 40, lag: 0 }));
    text = await m.metricsText();
    expect(sampleValue(text, 'spam_messages_in_total{topic="verdicts",service="sink"}')).toBe(40);
  });

  it("batchCommittedRecorder feeds the same series from SchemaConsumer's hook", async () => {
    const m = new ServiceMetrics({ service: "decider", collectDefault: false });
    batchCommittedRecorder(m)({ topic: "contributions", partition: 0, count: 9, lag: 3 });
    const text = await m.metricsText();
    expect(sampleValue(text, 'spam_messages_in_total{topic="contributions",service="decider"}')).toBe(9);
    expect(sampleValue(text, 'spam_consumer_lag_messages{topic="contributions",partition="0",service="decider"}')).toBe(3);
  });
});

describe("ObservabilityServer", () => {
  let server: ObservabilityServer | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  async function start(checkTimeoutMs = 1_000) {
    const metrics = new ServiceMetrics({ service: "gateway", collectDefault: true });
    server = new ObservabilityServer({ metrics, logger, port: 0, host: "127.0.0.1", checkTimeoutMs });
    const { port } = await server.listen();
    return { metrics, base: `http://127.0.0.1:${port}` };
  }

  it("serves /healthz, /metrics and 404 for other paths", async () => {
    const { metrics, base } = await start();
    metrics.recordOut("traffic.raw", 7);
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe("ok");
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(sampleValue(text, 'spam_messages_out_total{topic="traffic.raw",service="gateway"}')).toBe(7);
    expect(text).toContain("spam_process_resident_memory_bytes");
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: "POST" })).status).toBe(405);
  });

  it("/readyz is 200 when every check passes and 503 naming the failing, throwing or slow one", async () => {
    const { base } = await start(100);
    expect((await fetch(`${base}/readyz`)).status).toBe(200); // no checks registered: ready
    let kafkaUp = true;
    server!.addReadinessCheck("kafka", () => kafkaUp);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    kafkaUp = false;
    const down = await fetch(`${base}/readyz`);
    expect(down.status).toBe(503);
    expect(((await down.json()) as { checks: Record<string, { ok: boolean }> }).checks.kafka?.ok).toBe(false);
    kafkaUp = true;
    server!.addReadinessCheck("clickhouse", async () => {
      throw new Error("connection refused");
    });
    server!.addReadinessCheck("slow", () => new Promise<boolean>((r) => setTimeout(() => r(true), 1_000)));
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
    expect(body.checks.kafka?.ok).toBe(true);
    expect(body.checks.clickhouse?.error).toBe("connection refused");
    expect(body.checks.slow?.error).toContain("timed out");
  });
});
