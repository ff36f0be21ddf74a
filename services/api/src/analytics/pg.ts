import type pg from "pg";
import { z } from "zod";
import { extractDomains } from "../review/effects.js";
import type { FraudCase, OutcomeStats, Range, ReportsPoint, ReviewAnalytics, ThroughputPoint, TopItem, TopKind } from "./types.js";

const num = z.coerce.number();

/** Review-side analytics from PostgreSQL, where reports, cases and decisions live together. */
export class PgReviewAnalytics implements ReviewAnalytics {
  constructor(private readonly pool: pg.Pool) {}

  async reportsPerDay(range: Range): Promise<ReportsPoint[]> {
    const { rows } = await this.pool.query(
      `SELECT to_char(date_trunc('day', received_at AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM-DD') AS day,
              count(*) AS reports, count(*) FILTER (WHERE verification = 'verified') AS verified
         FROM case_reports WHERE received_at >= $1 AND received_at < $2 GROUP BY 1 ORDER BY 1`,
      [range.from, range.to],
    );
    return rows.map((r) => {
      const p = z.object({ day: z.string(), reports: num, verified: num }).parse(r);
      return { ...p, shareVerified: p.reports ? Math.round((p.verified / p.reports) * 1000) / 1000 : 0 };
    });
  }

  async topReported(kind: TopKind, range: Range, limit: number): Promise<TopItem[]> {
    const Row = z.object({ key: z.string(), reports: num, reporters: num });
    if (kind === "domain") {
      // Domains come from the reported content; extracted here, counted per domain.
      const { rows } = await this.pool.query(
        "SELECT content, reporter_hash FROM case_reports WHERE received_at >= $1 AND received_at < $2 AND content IS NOT NULL",
        [range.from, range.to],
      );
      const counts = new Map<string, { reports: number; reporters: Set<string> }>();
      for (const r of rows as { content: string; reporter_hash: string }[]) {
        for (const d of extractDomains(r.content)) {
          const c = counts.get(d) ?? { reports: 0, reporters: new Set<string>() };
          c.reports++;
          c.reporters.add(r.reporter_hash);
          counts.set(d, c);
        }
      }
      return [...counts]
        .map(([key, c]) => ({ key, reports: c.reports, reporters: c.reporters.size }))
        .sort((a, b) => b.reports - a.reports)
        .slice(0, limit);
    }
    const keyExpr = kind === "sender" ? "r.reported_number" : "c.campaign_id";
    const { rows } = await this.pool.query(
      `SELECT ${keyExpr} AS key, count(*) AS reports, count(DISTINCT r.reporter_hash) AS reporters
         FROM case_reports r JOIN review_cases c ON c.id = r.case_id
        WHERE r.received_at >= $1 AND r.received_at < $2 AND ${keyExpr} IS NOT NULL
        GROUP BY 1 ORDER BY reports DESC, key LIMIT $3`,
      [range.from, range.to, limit],
    );
    return rows.map((r) => Row.parse(r));
  }

  async reportOutcome(range: Range, slaHours: number): Promise<OutcomeStats> {
    const { rows } = await this.pool.query(
      `WITH d AS (
         SELECT EXTRACT(EPOCH FROM (replied_at - received_at)) / 3600.0 AS h FROM case_reports
          WHERE replied_at IS NOT NULL AND received_at >= $1 AND received_at < $2)
       SELECT (SELECT count(*) FROM d) AS decided,
              (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY h) FROM d) AS p50,
              (SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY h) FROM d) AS p90,
              (SELECT count(*) FROM d WHERE h <= $3) AS within,
              (SELECT count(*) FROM case_reports WHERE replied_at IS NULL AND received_at < now() - make_interval(hours => $3::int)) AS overdue`,
      [range.from, range.to, slaHours],
    );
    const r = z
      .object({ decided: num, p50: num.nullable(), p90: num.nullable(), within: num, overdue: num })
      .parse(rows[0]);
    const round = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);
    return { decided: r.decided, p50Hours: round(r.p50), p90Hours: round(r.p90), slaHours, withinSla: r.within, openOverdue: r.overdue };
  }

  async ruleLabels(range: Range): Promise<{ rule: string; reviewed: number; confirmedSpam: number }[]> {
    const { rows } = await this.pool.query(
      `SELECT x->>'id' AS rule, count(*) AS reviewed, count(*) FILTER (WHERE c.decision = 'spam') AS confirmed
         FROM review_cases c, jsonb_array_elements(c.contributions) x
        WHERE c.decision IN ('spam', 'ham') AND x->>'source' = 'rule' AND c.decided_at >= $1 AND c.decided_at < $2
        GROUP BY 1`,
      [range.from, range.to],
    );
    return rows.map((r) => {
      const p = z.object({ rule: z.string(), reviewed: num, confirmed: num }).parse(r);
      return { rule: p.rule, reviewed: p.reviewed, confirmedSpam: p.confirmed };
    });
  }

  async reviewerThroughput(range: Range): Promise<ThroughputPoint[]> {
    const { rows } = await this.pool.query(
      `SELECT to_char(date_trunc('day', d.decided_at AT TIME ZONE 'Asia/Shanghai'), 'YYYY-MM-DD') AS day, u.username AS reviewer, count(*) AS decisions
         FROM decisions d JOIN users u ON u.id = d.reviewer_id
        WHERE d.decided_at >= $1 AND d.decided_at < $2 GROUP BY 1, 2 ORDER BY 1, 2`,
      [range.from, range.to],
    );
    return rows.map((r) => z.object({ day: z.string(), reviewer: z.string(), decisions: num }).parse(r));
  }

  /** Confirmed fraud only, as the regulator's export is named: spam decisions a reviewer filed under an FR_* category. */
  async confirmedFraud(range: Range, limit: number): Promise<FraudCase[]> {
    const { rows } = await this.pool.query(
      `SELECT c.id, c.sender, c.decision_category AS category, c.decided_at, u.username AS reviewer,
              c.report_count, c.recipients, c.text, c.campaign_id
         FROM review_cases c JOIN users u ON u.id = c.decided_by
        WHERE c.decision = 'spam' AND c.decision_category LIKE 'FR\_%' AND c.decided_at >= $1 AND c.decided_at < $2
        ORDER BY c.decided_at LIMIT $3`,
      [range.from, range.to, limit],
    );
    return rows.map((r: Record<string, unknown>) => ({
      caseId: String(r.id),
      sender: String(r.sender),
      category: (r.category as string | null) ?? null,
      decidedAt: (r.decided_at as Date).toISOString(),
      reviewer: String(r.reviewer),
      reports: Number(r.report_count),
      recipients: Number(r.recipients),
      text: String(r.text),
      campaignId: (r.campaign_id as string | null) ?? null,
    }));
  }
}
