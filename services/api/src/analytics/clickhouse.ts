import { raw, sql, v, type ClickHouse } from "@spam/clickhouse";
import { z } from "zod";
import type { Bucket, Range, TrafficAnalytics, VolumePoint } from "./types.js";

const BUCKET_FN: Record<Bucket, string> = {
  hour: "toStartOfHour",
  day: "toStartOfDay",
  month: "toStartOfMonth",
};

/**
 * Traffic figures from the verdicts table. Redelivered verdicts share an id:
 * counting uniqExact(id) keeps a redelivery from double-counting before the
 * ReplacingMergeTree merges. Times are grouped in China Standard Time.
 */
export class ClickHouseTrafficAnalytics implements TrafficAnalytics {
  constructor(private readonly ch: ClickHouse) {}

  async spamVolume(range: Range, bucket: Bucket): Promise<VolumePoint[]> {
    const fn = raw(BUCKET_FN[bucket]);
    const rows = await this.ch.query(
      sql`SELECT toString(${fn}(toTimeZone(received_at, 'Asia/Shanghai'))) AS t,
                 ifNull(category, 'unknown') AS category, action, uniqExact(id) AS count
            FROM verdicts
           WHERE received_at >= ${v.dateTime(range.from)} AND received_at < ${v.dateTime(range.to)} AND label = 'spam'
           GROUP BY t, category, action ORDER BY t, category, action`,
      z.object({ t: z.string(), category: z.string(), action: z.string(), count: z.coerce.number() }),
    );
    return rows;
  }

  async ruleHits(range: Range): Promise<{ rule: string; hits: number }[]> {
    return this.ch.query(
      sql`SELECT rule, uniqExact(id) AS hits FROM verdicts ARRAY JOIN rule_ids AS rule
           WHERE received_at >= ${v.dateTime(range.from)} AND received_at < ${v.dateTime(range.to)}
           GROUP BY rule ORDER BY hits DESC LIMIT 200`,
      z.object({ rule: z.string(), hits: z.coerce.number() }),
    );
  }
}

/** Used when no ClickHouse is configured: the pages show empty traffic charts instead of failing. */
export const emptyTrafficAnalytics: TrafficAnalytics = {
  spamVolume: () => Promise.resolve([]),
  ruleHits: () => Promise.resolve([]),
};
