import {
  blockListKey,
  REPORT_VERIFICATIONS,
  type BlockListEntry,
  type OutboundReply,
  type ReportVerification,
  type ReviewLabel,
  type TopicKey,
} from "@spam/contracts";
import { domainsToBlock } from "@spam/normalize";
import { maskNumber } from "@spam/privacy";
import { outcomeReplyKind, renderReply } from "@spam/replies";

export type DecisionLabel = "spam" | "ham" | "escalate";

export interface DecidedCase {
  readonly id: string;
  readonly sender: string;
  readonly messageId: string | null;
  readonly verdictId: string | null;
  readonly campaignId: string | null;
  readonly text: string;
  /** The decider's id of the case, when it has one: the label carries it so the decider settles its side. */
  readonly deciderCaseId?: string | null;
  /** False where the decider blocks the sender itself when it reads the label. Default: true. */
  readonly blockSender?: boolean;
  /** Flagged messages inside the case: a label each (retraining), their domains and verdicts as evidence. */
  readonly messages?: readonly { readonly messageId: string; readonly verdictId: string | null; readonly text: string }[];
}

export interface DecidedReport {
  readonly reportId: string;
  readonly reporterMsisdn: string;
  readonly reportedNumber: string | null;
  /** What verification found about this report (case_reports.verification). */
  readonly verification: string | null;
}

export interface DecisionInput {
  readonly id: string;
  readonly label: DecisionLabel;
  readonly category: string | null;
  readonly comment: string;
  readonly reviewer: string;
  readonly decidedAt: number;
}

export interface EffectsConfig {
  readonly blockTtlMs: number;
  readonly shortCode: string;
}

export interface OutboxMessage {
  readonly topicKey: TopicKey;
  readonly key: string | null;
  readonly payload: ReviewLabel | BlockListEntry | OutboundReply;
}

/**
 * The domains a spam decision on this text blocks: registrable domains of its
 * URLs, never a public suffix, an IP or a brand on rules/allowlist/brand-domains.txt
 * (the policy lives in @spam/normalize `domainsToBlock`; shown to the reviewer first).
 */
export function extractDomains(text: string): string[] {
  return domainsToBlock(text);
}

function knownVerification(v: string | null): ReportVerification | null {
  return (REPORT_VERIFICATIONS as readonly string[]).includes(v ?? "") ? (v as ReportVerification) : null;
}

/**
 * The Kafka messages a review decision causes: a label per case (retraining),
 * block-list entries for a spam decision (sender, URL domains, campaign
 * fingerprint), and an outcome reply to every reporter. Pure, so the rules are
 * unit-tested; the caller writes the result to the outbox in the decision's transaction.
 */
export function decisionEffects(
  decision: DecisionInput,
  cases: readonly DecidedCase[],
  reports: readonly DecidedReport[],
  config: EffectsConfig,
  /** Senders a spam decision blocks beyond the cases' own: a campaign's senders. */
  alsoBlockSenders: readonly string[] = [],
): OutboxMessage[] {
  const out: OutboxMessage[] = [];
  for (const c of cases) {
    const messageIds = c.messages && c.messages.length > 0 ? c.messages.map((m) => m.messageId) : [c.messageId];
    for (const [i, messageId] of messageIds.entries()) {
      const label: ReviewLabel = {
        v: 1,
        id: (i === 0 ? `${decision.id}:${c.id}` : `${decision.id}:${c.id}:${i}`).slice(0, 128),
        caseId: c.id,
        ...(c.deciderCaseId ? { deciderCaseId: c.deciderCaseId } : {}),
        messageId,
        label: decision.label,
        category: decision.label === "spam" ? decision.category : null,
        reviewer: decision.reviewer,
        decidedAt: decision.decidedAt,
        comment: decision.comment,
      };
      out.push({ topicKey: "reviewLabels", key: c.sender, payload: label });
    }
  }
  if (decision.label === "escalate") return out;

  if (decision.label === "spam") {
    const blocks = new Map<string, { kind: "sender" | "domain" | "fingerprint"; value: string }>();
    for (const c of cases) {
      if (c.sender && c.blockSender !== false) blocks.set(blockListKey("sender", c.sender), { kind: "sender", value: c.sender });
      for (const text of [c.text, ...(c.messages ?? []).map((m) => m.text)]) {
        for (const d of extractDomains(text)) blocks.set(blockListKey("domain", d), { kind: "domain", value: d });
      }
      if (c.campaignId) blocks.set(blockListKey("fingerprint", c.campaignId), { kind: "fingerprint", value: c.campaignId });
    }
    for (const s of alsoBlockSenders) blocks.set(blockListKey("sender", s), { kind: "sender", value: s });
    const evidence = {
      reportIds: reports.map((r) => r.reportId).slice(0, 1000),
      verdictIds: [...new Set(cases.flatMap((c) => [c.verdictId, ...(c.messages ?? []).map((m) => m.verdictId)]).filter((v): v is string => v !== null))].slice(0, 1000),
    };
    for (const [key, b] of blocks) {
      const entry: BlockListEntry = {
        v: 1,
        kind: b.kind,
        value: b.value,
        state: "active",
        reason: `review ${decision.id}: ${decision.category ?? "spam"}${decision.comment ? ` — ${decision.comment}` : ""}`.slice(0, 500),
        evidence,
        createdBy: `reviewer:${decision.reviewer}`.slice(0, 128),
        createdAt: decision.decidedAt,
        expiresAt: decision.decidedAt + config.blockTtlMs,
        // Epoch ms: later decisions on the same key supersede earlier ones on the compacted topic.
        version: decision.decidedAt,
      };
      out.push({ topicKey: "blocklist", key, payload: entry });
    }
  }

  const seen = new Set<string>();
  for (const r of reports) {
    if (seen.has(r.reportId)) continue;
    seen.add(r.reportId);
    // The decider's rule and templates; the number stays masked in what leaves the API.
    const kind = outcomeReplyKind(decision.label === "spam" ? "blocked" : "not_confirmed", knownVerification(r.verification));
    const reply: OutboundReply = {
      v: 1,
      id: `outcome:${r.reportId}`.slice(0, 128),
      reportId: r.reportId,
      to: r.reporterMsisdn,
      from: config.shortCode,
      kind,
      text: renderReply(kind, { reportId: r.reportId, reportedNumber: r.reportedNumber ? maskNumber(r.reportedNumber) : "短信" }),
      createdAt: decision.decidedAt,
    };
    out.push({ topicKey: "repliesOutbound", key: r.reporterMsisdn, payload: reply });
  }
  return out;
}
