import DataLoader from "dataloader";
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

const TrafficRow = z.object({ id: z.string(), source: z.string(), destination: z.string(), text: z.string(), ts: z.coerce.number() });
const VerdictRow = z.object({
  id: z.string(),
  message_id: z.string(),
  label: z.enum(VERDICT_LABELS),
  score: z.coerce.number(),
  campaign_id: z.string().nullable(),
  rule_ids: z.array(z.string()),
});

/** Most delivered messages one report is checked against (the newest). */
const DELIVERED_PER_REPORT = 200;

interface DeliveredQuery {
  readonly senders: ReadonlySet<string>;
  readonly recipients: ReadonlySet<string>;
  readonly sinceMs: number;
  readonly untilMs: number;
}

/**
 * The lookups of the reports handled at once are one query each kind: at load, a query per report was
 * the decider's whole share of ClickHouse (a point lookup costs 18.16 a millisecond or more of CPU,
 * whatever it returns).
 */
export function clickHouseTrafficLookup(ch: ClickHouse): TrafficLookup {
  const delivered = new DataLoader<DeliveredQuery, DeliveredMessage[]>(
    async (queries) => {
      // Not FINAL: that merges every part's matching granules in one stream (about 3× the CPU on 18.16);
      // a redelivered message is the same row again, and LIMIT 1 BY id keeps one. PREWHERE reads the
      // text only where the numbers matched. The numbers' cross product may match pairs no report asked
      // for: each report keeps its own below.
      const rows = await ch.query(
        sql`SELECT id, source, destination, text, ts FROM
            (
                SELECT id, source, destination, text, toUInt64(received_at) * 1000 AS ts FROM traffic_raw
                PREWHERE destination IN ${inList(queries.flatMap((q) => [...q.recipients]))} AND source IN ${inList(queries.flatMap((q) => [...q.senders]))}
                WHERE received_at >= ${v.dateTime(Math.min(...queries.map((q) => q.sinceMs)))} AND received_at <= ${v.dateTime(Math.max(...queries.map((q) => q.untilMs)))}
                ORDER BY received_at DESC, id
                LIMIT 1 BY id
            )
            ORDER BY ts DESC, id
            LIMIT ${v.uint32(DELIVERED_PER_REPORT)} BY source, destination`,
        TrafficRow,
      );
      return queries.map((q) =>
        rows
          .filter((r) => q.senders.has(r.source) && q.recipients.has(r.destination) && r.ts >= Math.floor(q.sinceMs / 1000) * 1000 && r.ts <= q.untilMs)
          .slice(0, DELIVERED_PER_REPORT)
          .map((r) => ({ id: r.id, text: r.text, receivedAt: r.ts })),
      );
    },
    { cache: false, maxBatchSize: 256 },
  );
  const verdicts = new DataLoader<{ messageId: string; receivedAt: number }, MatchedVerdict | null>(
    async (keys) => {
      // received_at leads the verdicts' sort key: a few seconds' granules instead of a scan of every verdict.
      const rows = await ch.query(
        sql`SELECT id, message_id, label, score, campaign_id, rule_ids FROM verdicts
            WHERE received_at IN (${join(keys.map((k) => v.dateTime(k.receivedAt)), ", ")})
              AND message_id IN ${inList(keys.map((k) => k.messageId))} AND kind = 'traffic'
            ORDER BY message_id, id
            LIMIT 1 BY message_id`,
        VerdictRow,
      );
      const byMessage = new Map(rows.map((r) => [r.message_id, r]));
      return keys.map((k) => {
        const r = byMessage.get(k.messageId);
        return r ? { verdictId: r.id, label: r.label, score: r.score, campaignId: r.campaign_id, ruleIds: r.rule_ids } : null;
      });
    },
    { cache: false, maxBatchSize: 256 },
  );
  return {
    delivered: (sender, recipient, sinceMs, untilMs) =>
      delivered.load({ senders: new Set(numberVariants(sender)), recipients: new Set(numberVariants(recipient)), sinceMs, untilMs }),
    verdictFor: (messageId, receivedAt) => verdicts.load({ messageId, receivedAt }),
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
