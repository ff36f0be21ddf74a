import { raw, sql, v, type ClickHouse } from "@spam/clickhouse";
import { z } from "zod";
import type { Bucket, Range, TrafficAnalytics, VolumePoint } from "./types.js";

const BUCKET_FN: Record<Bucket, string> = {
  hour: "toStartOfHour",
  day: "toStartOfDay",
  month: "toStartOfMonth",
};

/**
 * Traffic figures. Volumes come from the hourly aggregate the verdict
 * materialised view fills (uniqExact states of verdict ids: a redelivered
 * verdict does not count twice, and merging hours into days stays exact since an
 * id lives in one hour), so a month of a million verdicts is a few thousand rows.
 * Buckets are China Standard Time.
 */
export class ClickHouseTrafficAnalytics implements TrafficAnalytics {
  constructor(private readonly ch: ClickHouse) {}

  async spamVolume(range: Range, bucket: Bucket): Promise<VolumePoint[]> {
    const fn = raw(BUCKET_FN[bucket]);
    return this.ch.query(
      sql`SELECT toString(${fn}(toTimeZone(hour, 'Asia/Shanghai'))) AS t,
                 if(category_key = '', 'unknown', category_key) AS category, action, uniqExactMerge(verdicts) AS count
            FROM verdict_counts_hourly_agg
           WHERE hour >= toStartOfHour(${v.dateTime(range.from)}) AND hour < ${v.dateTime(range.to)}
             AND label = 'spam' AND kind = 'traffic'
           GROUP BY t, category, action ORDER BY t, category, action`,
      z.object({ t: z.string(), category: z.string(), action: z.string(), count: z.coerce.number() }),
    );
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
