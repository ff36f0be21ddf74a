import type {
  BlockListEntry,
  DeadLetter,
  DecisionEvent,
  DeliveryRecord,
  EnforcementEvent,
  OutboundReply,
  RawMessage,
  Report,
  ReviewLabel,
  Verdict,
} from "@spam/contracts";
import { blockListKey } from "@spam/contracts";
import { maskNumber } from "@spam/privacy";

/** The one masking policy (@spam/privacy): what the reply log may show of a recipient. */
export { maskNumber };

/** A row for one table. One record may give rows for several tables (e.g. the restricted contact table). */
export interface TableRow {
  readonly table: string;
  readonly row: Record<string, unknown>;
}

/** JSONEachRow DateTime: unix seconds (18.16 and current ClickHouse both accept it). */
const sec = (ms: number) => Math.floor(ms / 1000);
const secOrNull = (ms: number | null) => (ms === null ? null : sec(ms));
const u8 = (b: boolean) => (b ? 1 : 0);

/** A verdict as a row of the `verdicts` table. */
export function verdictRow(verdict: Verdict): Record<string, unknown> {
  return {
    id: verdict.id,
    message_id: verdict.messageId,
    kind: verdict.kind,
    received_at: sec(verdict.receivedAt),
    scored_at: sec(verdict.scoredAt),
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
    // Only with a shadow: the columns' defaults say "none", and a verdict without one still fits a table from before 0007.
    ...(verdict.shadow
      ? {
          shadow_model_version: verdict.shadow.modelVersion,
          shadow_score: verdict.shadow.score,
          shadow_label: verdict.shadow.label,
          shadow_action: verdict.shadow.action,
          shadow_ruleset_version: verdict.shadow.rulesetVersion ?? "",
        }
      : {}),
  };
}

export function verdictRows(verdict: Verdict): TableRow[] {
  return [{ table: "verdicts", row: verdictRow(verdict) }];
}

export function trafficRows(m: RawMessage): TableRow[] {
  return [
    {
      table: "traffic_raw",
      row: {
        id: m.id,
        received_at: sec(m.receivedAt),
        gateway_id: m.gatewayId,
        account: m.account,
        source: m.source,
        destination: m.destination,
        text: m.text,
        data_coding: m.dataCoding,
        parts: m.parts,
        partial: u8(m.partial),
      },
    },
  ];
}

/** The reporter's number goes only to the restricted table. */
export function reportRows(r: Report): TableRow[] {
  return [
    {
      table: "reports",
      row: {
        id: r.id,
        message_id: r.messageId,
        received_at: sec(r.receivedAt),
        gateway_id: r.gatewayId,
        short_code: r.shortCode,
        reporter_hash: r.reporterHash,
        reported_number: r.reportedNumber,
        content: r.content,
        raw_text: r.rawText,
        status: r.status,
        parse_error: r.parseError,
        allow_listed: u8(r.allowListed),
      },
    },
    {
      table: "restricted_report_contacts",
      row: { report_id: r.id, received_at: sec(r.receivedAt), reporter_hash: r.reporterHash, reporter_msisdn: r.reporterMsisdn },
    },
  ];
}

/**
 * One row per block-list version. `changedAt` is the Kafka record timestamp
 * (the same on every redelivery). A lift is also written to the audit log.
 */
export function blockListRows(e: BlockListEntry, changedAt: number): TableRow[] {
  const key = blockListKey(e.kind, e.value);
  const rows: TableRow[] = [
    {
      table: "blocklist_versions",
      row: {
        key,
        version: e.version,
        kind: e.kind,
        value: e.value,
        state: e.state,
        reason: e.reason,
        evidence_report_ids: e.evidence.reportIds,
        evidence_verdict_ids: e.evidence.verdictIds,
        created_by: e.createdBy,
        created_at: sec(e.createdAt),
        expires_at: secOrNull(e.expiresAt),
        changed_at: sec(changedAt),
      },
    },
  ];
  if (e.state === "lifted") {
    rows.push({
      table: "audit_log",
      row: {
        id: `blocklist-lift:${key}:${e.version}`,
        at: sec(changedAt),
        actor: e.createdBy,
        action: "block_lifted",
        subject_kind: e.kind,
        subject: e.value,
        reason: e.reason,
        detail: JSON.stringify({ version: e.version, evidence: e.evidence }),
      },
    });
  }
  return rows;
}

export function replyRows(r: OutboundReply): TableRow[] {
  return [
    {
      table: "reply_log",
      row: {
        id: r.id,
        report_id: r.reportId,
        kind: r.kind,
        sender: r.from,
        recipient_masked: maskNumber(r.to),
        text: r.text,
        created_at: sec(r.createdAt),
      },
    },
    { table: "restricted_reply_recipients", row: { reply_id: r.id, recipient: r.to } },
  ];
}

export function reviewLabelRows(l: ReviewLabel): TableRow[] {
  return [
    {
      table: "review_labels",
      row: {
        id: l.id,
        case_id: l.caseId,
        message_id: l.messageId,
        label: l.label,
        category: l.category,
        reviewer: l.reviewer,
        decided_at: sec(l.decidedAt),
        comment: l.comment,
      },
    },
  ];
}

/** Relay mode: one row per delivery record (migration 0006). */
export function deliveryRows(d: DeliveryRecord): TableRow[] {
  return [
    {
      table: "delivery_records",
      row: {
        id: d.id,
        message_id: d.messageId,
        received_at: sec(d.receivedAt),
        at: sec(d.at),
        gateway_id: d.gatewayId,
        account: d.account,
        route: d.route,
        smsc: d.smsc,
        source: d.source,
        destination: d.destination,
        parts: d.parts,
        outcome: d.outcome,
        reason: d.reason,
        verdict_action: d.verdictAction,
        decision_ms: Math.min(4_294_967_295, d.decisionMs),
        downstream_ids: d.downstreamIds,
      },
    },
  ];
}

export function enforcementRows(e: EnforcementEvent): TableRow[] {
  return [
    {
      table: "enforcement_events",
      row: {
        id: e.id,
        message_id: e.messageId,
        at: sec(e.at),
        gateway_id: e.gatewayId,
        kind: e.kind,
        value: e.value,
        policy: e.policy,
        source: e.source,
        destination: e.destination,
      },
    },
  ];
}

export function deadLetterRows(d: DeadLetter): TableRow[] {
  return [
    {
      table: "dead_letters",
      row: {
        source_topic: d.sourceTopic,
        partition: d.partition,
        offset: d.offset,
        record_key: d.key,
        value_base64: d.valueBase64,
        error: d.error,
        service: d.service,
        failed_at: sec(d.failedAt),
      },
    },
  ];
}

export function decisionRows(e: DecisionEvent): TableRow[] {
  switch (e.type) {
    case "report_assessed":
      return [
        {
          table: "report_assessments",
          row: {
            report_id: e.reportId,
            reported_number: e.reportedNumber,
            reporter_hash: e.reporterHash,
            report_received_at: sec(e.reportReceivedAt),
            assessed_at: sec(e.assessedAt),
            verification: e.verification,
            matched_message_id: e.matchedMessageId,
            similarity: e.similarity,
            case_id: e.caseId,
            reporter_reputation: e.reporterReputation,
            reporter_history: e.reporterHistory,
            allow_listed: u8(e.allowListed),
            campaign_id: e.campaignId,
            verdict_label: e.verdictLabel,
          },
        },
      ];
    case "case": {
      const evidence = JSON.stringify(e.evidence);
      return [
        {
          table: "cases",
          row: {
            case_id: e.caseId,
            version: e.version,
            subject_kind: e.subjectKind,
            subject: e.subject,
            state: e.state,
            decision: e.decision,
            decided_by: e.decidedBy,
            reason: e.reason,
            rule: e.rule,
            evidence,
            report_ids: e.evidence.reportIds,
            verdict_ids: e.evidence.verdictIds,
            report_count: e.evidence.reportCount,
            verified_count: e.evidence.verifiedCount,
            fabricated_count: e.evidence.fabricatedCount,
            distinct_verified_reporters: e.evidence.distinctVerifiedReporters,
            weighted_reporters: e.evidence.weightedReporters,
            classifier_agreement: e.evidence.classifierAgreement,
            max_score: e.evidence.maxScore,
            brigading_suspected: u8(e.evidence.brigadingSuspected),
            allow_listed: u8(e.allowListed),
            opened_at: sec(e.openedAt),
            updated_at: sec(e.updatedAt),
            decided_at: secOrNull(e.decidedAt),
            sla_due_at: sec(e.slaDueAt),
            sla_breached: u8(e.slaBreached),
          },
        },
        {
          table: "decision_log",
          row: {
            id: e.id,
            at: sec(e.updatedAt),
            case_id: e.caseId,
            version: e.version,
            state: e.state,
            decision: e.decision,
            decided_by: e.decidedBy,
            reason: e.reason,
            rule: e.rule,
            evidence,
          },
        },
      ];
    }
    case "report_outcome":
      return [
        {
          table: "report_outcomes",
          row: {
            report_id: e.reportId,
            case_id: e.caseId,
            outcome: e.outcome,
            decided_by: e.decidedBy,
            reporter_hash: e.reporterHash,
            report_received_at: sec(e.reportReceivedAt),
            decided_at: sec(e.decidedAt),
            report_to_outcome_s: Math.max(0, Math.min(4_294_967_295, sec(e.decidedAt) - sec(e.reportReceivedAt))),
          },
        },
      ];
    case "audit":
      return [
        {
          table: "audit_log",
          row: {
            id: e.id,
            at: sec(e.at),
            actor: e.actor,
            action: e.action,
            subject_kind: e.subjectKind,
            subject: e.subject,
            reason: e.reason,
            detail: e.detail,
          },
        },
      ];
  }
}

/**
 * The rows of one insert with `inserted_at` set, the ReplacingMergeTree version of every table the
 * sink writes: 18.16 fills a column omitted from a JSONEachRow insert with 0000-00-00 instead of its
 * DEFAULT now(); current ClickHouse applies the DEFAULT. Set here, both store the insert's time.
 */
export function rowsForInsert(rows: readonly Record<string, unknown>[], nowMs: number): Record<string, unknown>[] {
  const insertedAt = sec(nowMs);
  return rows.map((row) => ({ ...row, inserted_at: insertedAt }));
}
