import { z } from "zod";

export const Bucket = z.enum(["hour", "day", "month"]);
export type Bucket = z.infer<typeof Bucket>;

export const Range = z.object({
  from: z.coerce.date().describe("ISO start, inclusive"),
  to: z.coerce.date().describe("ISO end, exclusive"),
});
export type Range = z.infer<typeof Range>;

/** Spam and commercial verdicts (their own class, whatever the operator's policy does with them), by label. */
export const VolumePoint = z.object({ t: z.string(), label: z.enum(["spam", "commercial"]), category: z.string(), action: z.string(), count: z.number() });
export const ReportsPoint = z.object({ day: z.string(), reports: z.number(), verified: z.number(), shareVerified: z.number() });
export const TopItem = z.object({ key: z.string(), reports: z.number(), reporters: z.number() });
export const OutcomeStats = z.object({
  decided: z.number(),
  p50Hours: z.number().nullable(),
  p90Hours: z.number().nullable(),
  slaHours: z.number(),
  withinSla: z.number(),
  openOverdue: z.number(),
});
export const RuleStat = z.object({
  rule: z.string(),
  hits: z.number(),
  reviewed: z.number(),
  confirmedSpam: z.number(),
  precision: z.number().nullable(),
});
export const ThroughputPoint = z.object({ day: z.string(), reviewer: z.string(), decisions: z.number() });

export type VolumePoint = z.infer<typeof VolumePoint>;
export type ReportsPoint = z.infer<typeof ReportsPoint>;
export type TopItem = z.infer<typeof TopItem>;
export type OutcomeStats = z.infer<typeof OutcomeStats>;
export type RuleStat = z.infer<typeof RuleStat>;
export type ThroughputPoint = z.infer<typeof ThroughputPoint>;
export type TopKind = "sender" | "domain" | "campaign";

/** Traffic-wide figures (ClickHouse). */
export interface TrafficAnalytics {
  spamVolume(range: Range, bucket: Bucket): Promise<VolumePoint[]>;
  ruleHits(range: Range): Promise<{ rule: string; hits: number }[]>;
}

/** Figures from reports and review work. */
export interface ReviewAnalytics {
  reportsPerDay(range: Range): Promise<ReportsPoint[]>;
  topReported(kind: TopKind, range: Range, limit: number): Promise<TopItem[]>;
  reportOutcome(range: Range, slaHours: number): Promise<OutcomeStats>;
  /** Labels per rule id among reviewed cases, for precision. */
  ruleLabels(range: Range): Promise<{ rule: string; reviewed: number; confirmedSpam: number }[]>;
  reviewerThroughput(range: Range): Promise<ThroughputPoint[]>;
  confirmedFraud(range: Range, limit: number): Promise<FraudCase[]>;
}

export interface FraudCase {
  readonly caseId: string;
  readonly sender: string;
  readonly category: string | null;
  readonly decidedAt: string;
  readonly reviewer: string;
  readonly reports: number;
  readonly recipients: number;
  readonly text: string;
  readonly campaignId: string | null;
}

/** Joins rule hit counts (traffic) with review labels (precision). */
export function ruleStats(
  hits: readonly { rule: string; hits: number }[],
  labels: readonly { rule: string; reviewed: number; confirmedSpam: number }[],
): RuleStat[] {
  const byRule = new Map<string, RuleStat>();
  for (const h of hits) byRule.set(h.rule, { rule: h.rule, hits: h.hits, reviewed: 0, confirmedSpam: 0, precision: null });
  for (const l of labels) {
    const s = byRule.get(l.rule) ?? { rule: l.rule, hits: 0, reviewed: 0, confirmedSpam: 0, precision: null };
    s.reviewed += l.reviewed;
    s.confirmedSpam += l.confirmedSpam;
    s.precision = s.reviewed > 0 ? Math.round((s.confirmedSpam / s.reviewed) * 1000) / 1000 : null;
    byRule.set(l.rule, s);
  }
  return [...byRule.values()].sort((a, b) => b.hits - a.hits || b.reviewed - a.reviewed);
}
