import { z } from "zod";
import { join, sql, v, type ClickHouse, type SqlFragment } from "@spam/clickhouse";
import { VERDICT_LABELS, type Report } from "@spam/contracts";
import type { AssessedReport, MatchedVerdict } from "./core.js";
import type { Policy } from "./policy.js";
import { numberVariants, textSimilarity } from "./similarity.js";

interface DeliveredMessage {
  readonly id: string;
  readonly text: string;
  readonly receivedAt: number;
}

/** Where delivered traffic and its verdicts are looked up (ClickHouse in the service, a map in tests). */
export interface TrafficLookup {
  delivered(sender: string, recipient: string, sinceMs: number, untilMs: number): Promise<DeliveredMessage[]>;
  /** The verdict of a delivered message (its receipt time locates it in the verdicts' sort key). */
  verdictFor(messageId: string, receivedAt: number): Promise<MatchedVerdict | null>;
}

const TrafficRow = z.object({ id: z.string(), text: z.string(), ts: z.coerce.number() });
const VerdictRow = z.object({
  id: z.string(),
  label: z.enum(VERDICT_LABELS),
  score: z.coerce.number(),
  campaign_id: z.string().nullable(),
  rule_ids: z.array(z.string()),
});

export function clickHouseTrafficLookup(ch: ClickHouse): TrafficLookup {
  return {
    async delivered(sender, recipient, sinceMs, untilMs) {
      // The base table with FINAL and the filter in one query: through the *_dedup view, 18.16
      // does not push the filter into the view and merged the whole table for every report.
      const rows = await ch.query(
        sql`SELECT id, text, toUInt64(received_at) * 1000 AS ts FROM traffic_raw FINAL
            WHERE destination IN ${inList(numberVariants(recipient))} AND source IN ${inList(numberVariants(sender))}
              AND received_at >= ${v.dateTime(sinceMs)} AND received_at <= ${v.dateTime(untilMs)}
            ORDER BY received_at DESC LIMIT 200`,
        TrafficRow,
      );
      return rows.map((r) => ({ id: r.id, text: r.text, receivedAt: r.ts }));
    },
    async verdictFor(messageId, receivedAt) {
      // received_at leads the verdicts' sort key: one second's granules instead of a scan of every verdict.
      const rows = await ch.query(
        sql`SELECT id, label, score, campaign_id, rule_ids FROM verdicts FINAL
            WHERE received_at = ${v.dateTime(receivedAt)} AND message_id = ${v.string(messageId)} AND kind = 'traffic' LIMIT 1`,
        VerdictRow,
      );
      const r = rows[0];
      return r ? { verdictId: r.id, label: r.label, score: r.score, campaignId: r.campaign_id, ruleIds: r.rule_ids } : null;
    },
  };
}

/**
 * Did the reported sender send this reporter something like the reported
 * content shortly before the report? verified: a near-duplicate was delivered
 * (or, for a number-only report, anything was); unverified: the sender did
 * deliver to the reporter but nothing similar; fabricated: nothing from that
 * sender reached this reporter in the lookback window.
 */
export async function assessReport(report: Report & { reportedNumber: string }, lookup: TrafficLookup, policy: Policy): Promise<AssessedReport> {
  const since = report.receivedAt - policy.verification.lookbackHours * 3_600_000;
  // A little slack after the report: gateway clocks differ by seconds.
  const delivered = await lookup.delivered(report.reportedNumber, report.reporterMsisdn, since, report.receivedAt + 60_000);
  let best: DeliveredMessage | null = null;
  let bestScore = -1;
  if (report.content !== null && report.content.trim().length > 0) {
    for (const m of delivered) {
      const s = textSimilarity(report.content, m.text);
      if (s > bestScore) {
        best = m;
        bestScore = s;
      }
    }
  } else if (delivered[0]) {
    best = delivered[0];
    bestScore = 1;
  }
  const verification = delivered.length === 0 ? "fabricated" : best && bestScore >= policy.verification.minSimilarity ? "verified" : "unverified";
  const matched = verification === "verified" ? best : null;
  return {
    reportId: report.id,
    reportedNumber: report.reportedNumber,
    reporterHash: report.reporterHash,
    reporterMsisdn: report.reporterMsisdn,
    shortCode: report.shortCode,
    receivedAt: report.receivedAt,
    allowListed: report.allowListed,
    verification,
    matchedMessageId: matched?.id ?? null,
    similarity: best ? Math.max(0, Math.min(1, Math.round(bestScore * 1000) / 1000)) : null,
    verdict: matched ? await lookup.verdictFor(matched.id, matched.receivedAt) : null,
  };
}

/** `('a', 'b')` for `x IN …`: 18.16 does not accept an array literal there. Never empty. */
function inList(values: readonly string[]): SqlFragment {
  return sql`(${join((values.length > 0 ? values : [""]).map((x) => v.string(x)), ", ")})`;
}
