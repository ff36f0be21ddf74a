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
