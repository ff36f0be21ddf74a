import { raw, sql, v, type ClickHouse } from "@spam/clickhouse";
import { z } from "zod";
import type { Bucket, OutcomeStats, Range, ReportsPoint, ReviewAnalytics, TopItem, TopKind, TrafficAnalytics, VolumePoint } from "./types.js";

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
                 label, if(category_key = '', 'unknown', category_key) AS category, action, uniqExactMerge(verdicts) AS count
            FROM verdict_counts_hourly_agg
           WHERE hour >= toStartOfHour(${v.dateTime(range.from)}) AND hour < ${v.dateTime(range.to)}
             AND label IN ('spam', 'commercial') AND kind = 'traffic'
           GROUP BY t, label, category, action ORDER BY t, label, category, action`,
      // Commercial messages come as their own label (and category): the chart shows them apart from spam.
      z.object({ t: z.string(), label: z.enum(["spam", "commercial"]), category: z.string(), action: z.string(), count: z.coerce.number() }),
    );
  }

  async ruleHits(range: Range): Promise<{ rule: string; hits: number }[]> {
    return this.ch.query(
      // uniqExact over a 64-bit hash of the id: same answer (collisions are negligible at
      // these counts), half the time of hashing the id strings themselves.
      sql`SELECT rule, uniqExact(cityHash64(id)) AS hits FROM verdicts ARRAY JOIN rule_ids AS rule
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

const num = z.coerce.number();

/**
 * Report figures from ClickHouse: every report the gateway received (not only
 * those that became review cases), the decider's verification, and the time
 * from report to outcome for automatic and reviewed decisions alike.
 */
export class ClickHouseReportAnalytics implements Pick<ReviewAnalytics, "reportsPerDay" | "topReported" | "reportOutcome"> {
  constructor(private readonly ch: ClickHouse) {}

  async reportsPerDay(range: Range): Promise<ReportsPoint[]> {
    const [counts, verified] = await Promise.all([
      this.ch.query(
        sql`SELECT toString(toDate(toTimeZone(hour, 'Asia/Shanghai'))) AS day, uniqExactMerge(reports) AS reports
              FROM report_counts_hourly_agg
             WHERE hour >= toStartOfHour(${v.dateTime(range.from)}) AND hour < ${v.dateTime(range.to)}
             GROUP BY day ORDER BY day`,
        z.object({ day: z.string(), reports: num }),
      ),
      this.ch.query(
        sql`SELECT toString(toDate(toTimeZone(report_received_at, 'Asia/Shanghai'))) AS day, uniqExact(report_id) AS verified
              FROM report_assessments
             WHERE report_received_at >= ${v.dateTime(range.from)} AND report_received_at < ${v.dateTime(range.to)} AND verification = 'verified'
             GROUP BY day`,
        z.object({ day: z.string(), verified: num }),
      ),
    ]);
    const byDay = new Map(verified.map((r) => [r.day, r.verified]));
    return counts.map((c) => {
      const ver = Math.min(byDay.get(c.day) ?? 0, c.reports);
      return { day: c.day, reports: c.reports, verified: ver, shareVerified: c.reports ? Math.round((ver / c.reports) * 1000) / 1000 : 0 };
    });
  }

  async topReported(kind: TopKind, range: Range, limit: number): Promise<TopItem[]> {
    const from = v.dateTime(range.from);
    const to = v.dateTime(range.to);
    const n = v.uint32(limit);
    const Row = z.object({ key: z.string(), reports: num, reporters: num });
    if (kind === "sender") {
      return this.ch.query(
        sql`SELECT assumeNotNull(reported_number) AS key, uniqExact(id) AS reports, uniqExact(reporter_hash) AS reporters
              FROM reports WHERE received_at >= ${from} AND received_at < ${to} AND isNotNull(reported_number) AND reported_number != ''
             GROUP BY key ORDER BY reports DESC, key LIMIT ${n}`,
        Row,
      );
    }
    if (kind === "campaign") {
      return this.ch.query(
        sql`SELECT assumeNotNull(campaign_id) AS key, uniqExact(report_id) AS reports, uniqExact(reporter_hash) AS reporters
              FROM report_assessments WHERE report_received_at >= ${from} AND report_received_at < ${to} AND isNotNull(campaign_id)
             GROUP BY key ORDER BY reports DESC, key LIMIT ${n}`,
        Row,
      );
    }
    // URL hosts in the reported content; [.] instead of an escaped dot keeps the SQL literal free of backslashes.
    return this.ch.query(
      sql`SELECT replaceRegexpOne(lower(host), '^www[.]', '') AS key, uniqExact(id) AS reports, uniqExact(reporter_hash) AS reporters
            FROM reports ARRAY JOIN extractAll(ifNull(content, ''), '((?:[a-zA-Z0-9-]+[.])+[a-zA-Z]{2,})') AS host
           WHERE received_at >= ${from} AND received_at < ${to}
           GROUP BY key ORDER BY reports DESC, key LIMIT ${n}`,
      Row,
    );
  }

  async reportOutcome(range: Range, slaHours: number): Promise<OutcomeStats> {
    const sla = v.uint32(Math.round(slaHours * 3600));
    const [stats] = await this.ch.query(
      sql`SELECT count() AS decided,
                 if(count() = 0, NULL, quantileExact(0.5)(report_to_outcome_s) / 3600) AS p50,
                 if(count() = 0, NULL, quantileExact(0.9)(report_to_outcome_s) / 3600) AS p90,
                 countIf(report_to_outcome_s <= ${sla}) AS within
            FROM report_outcomes_dedup
           WHERE report_received_at >= ${v.dateTime(range.from)} AND report_received_at < ${v.dateTime(range.to)}`,
      z.object({ decided: num, p50: num.nullable(), p90: num.nullable(), within: num }),
    );
    const [overdue] = await this.ch.query(
      sql`SELECT sum(report_count) AS n FROM cases_current WHERE state = 'open' AND sla_due_at < now()`,
      z.object({ n: num }),
    );
    const round = (x: number | null | undefined) => (x === null || x === undefined ? null : Math.round(x * 100) / 100);
    return {
      decided: stats?.decided ?? 0,
      p50Hours: round(stats?.p50),
      p90Hours: round(stats?.p90),
      slaHours,
      withinSla: stats?.within ?? 0,
      openOverdue: overdue?.n ?? 0,
    };
  }
}

/** Report figures from ClickHouse, review-work figures (labels, throughput, the fraud export) from PostgreSQL. */
export function combinedReviewAnalytics(
  reports: Pick<ReviewAnalytics, "reportsPerDay" | "topReported" | "reportOutcome">,
  review: ReviewAnalytics,
): ReviewAnalytics {
  return {
    reportsPerDay: (r) => reports.reportsPerDay(r),
    topReported: (k, r, l) => reports.topReported(k, r, l),
    reportOutcome: (r, s) => reports.reportOutcome(r, s),
    ruleLabels: (r) => review.ruleLabels(r),
    reviewerThroughput: (r) => review.reviewerThroughput(r),
    confirmedFraud: (r, l) => review.confirmedFraud(r, l),
  };
}
