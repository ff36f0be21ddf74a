/** Reads a service's /metrics and estimates stage latency quantiles from its histogram buckets. */
export async function scrape(port: number): Promise<string | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? await res.text() : null;
  } catch {
    return null;
  }
}

export interface BucketQuantiles {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

/** Upper-bound quantiles (ms) of `spam_stage_latency_seconds{stage}` from Prometheus text; null if absent or empty. */
export function stageQuantiles(text: string, stage: string): BucketQuantiles | null {
  const buckets: Array<[number, number]> = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("spam_stage_latency_seconds_bucket{") || !line.includes(`stage="${stage}"`)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (le === undefined) continue;
    buckets.push([le === "+Inf" ? Infinity : Number(le), value]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return null;
  const q = (p: number) => {
    const want = total * p;
    const hit = buckets.find(([, c]) => c >= want);
    return hit ? hit[0] * 1_000 : Infinity;
  };
  return { count: total, p50: q(0.5), p90: q(0.9), p99: q(0.99) };
}

/** Sum of `spam_messages_out_total{topic=…}` over a text. */
export function counterValue(text: string, name: string, labelMatch: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${name}{`) && line.includes(labelMatch)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** Collections, seconds paused in all, and collections that paused 10 ms or more. */
interface GcPauses {
  count: number;
  seconds: number;
  atLeast10ms: number;
}

/** Per V8 GC kind. */
export type GcSummary = Readonly<Record<string, GcPauses>>;

/** GC pauses from prom-client's default `…nodejs_gc_duration_seconds` histogram (buckets 1 ms, 10 ms, 100 ms, …). */
export function gcSummary(text: string): GcSummary {
  const out: Record<string, GcPauses> = {};
  const entry = (kind: string) => (out[kind] ??= { count: 0, seconds: 0, atLeast10ms: 0 });
  const under10 = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^\w*nodejs_gc_duration_seconds_(bucket|sum|count)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const kind = /kind="([^"]+)"/.exec(m[2]!)?.[1] ?? "all";
    const value = Number(m[3]);
    if (m[1] === "count") entry(kind).count = value;
    else if (m[1] === "sum") entry(kind).seconds = value;
    else if (/le="0\.01"/.test(m[2]!)) under10.set(kind, value);
  }
  for (const [kind, e] of Object.entries(out)) e.atLeast10ms = e.count - (under10.get(kind) ?? e.count);
  return out;
}

/** The pauses between two summaries of one process. */
export function gcSince(before: GcSummary, after: GcSummary): GcSummary {
  const out: Record<string, GcPauses> = {};
  for (const [kind, a] of Object.entries(after)) {
    const b = before[kind] ?? { count: 0, seconds: 0, atLeast10ms: 0 };
    out[kind] = { count: a.count - b.count, seconds: a.seconds - b.seconds, atLeast10ms: a.atLeast10ms - b.atLeast10ms };
  }
  return out;
}
