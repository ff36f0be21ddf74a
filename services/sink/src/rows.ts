import type { Verdict } from "@spam/contracts";

/** A verdict as a row of the `verdicts` table (JSONEachRow: DateTime as unix seconds). */
export function verdictRow(verdict: Verdict): Record<string, unknown> {
  return {
    id: verdict.id,
    message_id: verdict.messageId,
    kind: verdict.kind,
    received_at: Math.floor(verdict.receivedAt / 1000),
    scored_at: Math.floor(verdict.scoredAt / 1000),
    source: verdict.source,
    destination: verdict.destination,
    score: verdict.score,
    label: verdict.label,
    category: verdict.category,
    action: verdict.action,
    contributions: JSON.stringify(verdict.contributions),
    rule_ids: verdict.contributions.filter((c) => c.source === "rule").map((c) => c.id),
    campaign_id: verdict.campaignId,
    ruleset_version: verdict.rulesetVersion,
    model_version: verdict.modelVersion,
    receive_to_verdict_ms: Math.max(0, Math.min(4_294_967_295, verdict.scoredAt - verdict.receivedAt)),
  };
}
