import {
  blockListKey,
  type BlockListEntry,
  type OutboundReply,
  type ReviewLabel,
  type TopicKey,
} from "@spam/contracts";
import { domainsToBlock } from "@spam/normalize";
import { maskNumber } from "@spam/privacy";

export type DecisionLabel = "spam" | "ham" | "escalate";

export interface DecidedCase {
  readonly id: string;
  readonly sender: string;
  readonly messageId: string | null;
  readonly verdictId: string | null;
  readonly campaignId: string | null;
  readonly text: string;
}

export interface DecidedReport {
  readonly reportId: string;
  readonly reporterMsisdn: string;
  readonly reportedNumber: string | null;
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

export function outcomeText(label: "spam" | "ham", reportedNumber: string | null): string {
  const who = reportedNumber ? `号码${maskNumber(reportedNumber)}` : "短信";
  return label === "spam"
    ? `【10086999】您举报的${who}经人工核实为垃圾短信，已加入拦截名单。感谢您的举报！`
    : `【10086999】您举报的${who}经人工核实暂未发现违规，我们将持续关注。感谢您的举报！`;
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
): OutboxMessage[] {
  const out: OutboxMessage[] = [];
  for (const c of cases) {
    const label: ReviewLabel = {
      v: 1,
      id: `${decision.id}:${c.id}`.slice(0, 128),
      caseId: c.id,
      messageId: c.messageId,
      label: decision.label,
      category: decision.label === "spam" ? decision.category : null,
      reviewer: decision.reviewer,
      decidedAt: decision.decidedAt,
      comment: decision.comment,
    };
    out.push({ topicKey: "reviewLabels", key: c.sender, payload: label });
  }
  if (decision.label === "escalate") return out;

  if (decision.label === "spam") {
    const blocks = new Map<string, { kind: "sender" | "domain" | "fingerprint"; value: string }>();
    for (const c of cases) {
      if (c.sender) blocks.set(blockListKey("sender", c.sender), { kind: "sender", value: c.sender });
      for (const d of extractDomains(c.text)) blocks.set(blockListKey("domain", d), { kind: "domain", value: d });
      if (c.campaignId) blocks.set(blockListKey("fingerprint", c.campaignId), { kind: "fingerprint", value: c.campaignId });
    }
    const evidence = {
      reportIds: reports.map((r) => r.reportId).slice(0, 1000),
      verdictIds: cases.flatMap((c) => (c.verdictId ? [c.verdictId] : [])).slice(0, 1000),
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
    const reply: OutboundReply = {
      v: 1,
      id: `outcome:${r.reportId}`.slice(0, 128),
      reportId: r.reportId,
      to: r.reporterMsisdn,
      from: config.shortCode,
      kind: decision.label === "spam" ? "outcome_blocked" : "outcome_not_confirmed",
      text: outcomeText(decision.label, r.reportedNumber),
      createdAt: decision.decidedAt,
    };
    out.push({ topicKey: "repliesOutbound", key: r.reporterMsisdn, payload: reply });
  }
  return out;
}
