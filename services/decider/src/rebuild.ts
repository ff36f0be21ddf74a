import type { Logger } from "pino";
import { z } from "zod";
import { join, sql, v, type ClickHouse, type SqlFragment } from "@spam/clickhouse";
import { CaseEvidenceV1, VERDICT_LABELS, type CaseEvent } from "@spam/contracts";
import type { AssessedReport, DeciderCore } from "./core.js";
import type { Policy } from "./policy.js";

const ContactRow = z.object({ report_id: z.string(), reporter_msisdn: z.string() });
const ShortCodeRow = z.object({ id: z.string(), short_code: z.string() });
const OutcomeRow = z.object({ report_id: z.string() });
const RepRow = z.object({ reporter_hash: z.string(), upheld: z.coerce.number(), rejected: z.coerce.number() });
const CaseRow = z.object({
  case_id: z.string(),
  version: z.coerce.number(),
  subject: z.string(),
  state: z.enum(["open", "decided"]),
  decision: z.enum(["pending", "blocked", "not_spam", "escalated"]),
  decided_by: z.string().nullable(),
  reason: z.string(),
  rule: z.string(),
  evidence: z.string(),
  allow_listed: z.coerce.number(),
  opened_at: z.coerce.number(),
  updated_at: z.coerce.number(),
  sla_due_at: z.coerce.number(),
  sla_breached: z.coerce.number(),
});
const VelocityRow = z.object({
  id: z.string(),
  source: z.string(),
  label: z.enum(VERDICT_LABELS),
  score: z.coerce.number(),
  rule_ids: z.array(z.string()),
  ts: z.coerce.number(),
});
const AssessmentRow = z.object({
  report_id: z.string(),
  reported_number: z.string().nullable(),
  reporter_hash: z.string(),
  ts: z.coerce.number(),
  verification: z.enum(["verified", "unverified", "fabricated", "not_checkable"]),
  matched_message_id: z.string().nullable(),
  similarity: z.coerce.number().nullable(),
  case_id: z.string().nullable(),
  allow_listed: z.coerce.number(),
  campaign_id: z.string().nullable(),
  verdict_label: z.enum(VERDICT_LABELS).nullable(),
  reporter_msisdn: z.string(),
  short_code: z.string(),
  has_outcome: z.coerce.number(),
});

/**
 * Rebuilds the decider's memory from ClickHouse at start: reporter
 * reputations (all review outcomes), the per-sender report window and the
 * open cases with the reports still waiting for an answer. What the sink had
 * not yet written when the previous instance stopped is re-derived from
 * Kafka: the reports consumer resumes from its last committed offset, and
 * every event id is deterministic, so a repeated event collapses in ClickHouse.
 */
/** `contacts`: the restricted contact store (its own database and user); `ch` by default. */
export async function rebuildFromClickHouse(
  ch: ClickHouse,
  core: DeciderCore,
  policy: Policy,
  now: number,
  logger: Logger,
  contactStore: ClickHouse = ch,
): Promise<{ reporters: number; cases: number; reports: number; velocitySenders: number }> {
  const reps = await ch.query(
    sql`SELECT reporter_hash, countIf(outcome = 'blocked') AS upheld, countIf(outcome = 'not_confirmed') AS rejected
        FROM report_outcomes_dedup WHERE decided_by LIKE 'reviewer:%' GROUP BY reporter_hash`,
    RepRow,
  );
  for (const r of reps) core.restoreReputation(r.reporter_hash, { upheld: r.upheld, rejected: r.rejected });

  const since = now - Math.max(policy.windowHours, policy.slaHours * 2) * 3_600_000;
  // 18.16 allows one JOIN per query: the restricted contact, short code and outcome are fetched by id.
  const rows = await ch.query(
    sql`SELECT report_id, reported_number, reporter_hash, toUInt64(report_received_at) * 1000 AS ts, verification,
               matched_message_id, similarity, case_id, allow_listed, campaign_id, verdict_label
        FROM report_assessments_dedup
        WHERE report_received_at >= ${v.dateTime(since)} AND isNotNull(reported_number)`,
    AssessmentRow.omit({ reporter_msisdn: true, short_code: true, has_outcome: true }),
  );
  const ids = rows.filter((r) => r.case_id !== null).map((r) => r.report_id);
  const contacts = new Map<string, string>();
  const shortCodes = new Map<string, string>();
  const decided = new Set<string>();
  for (let i = 0; i < ids.length; i += 5_000) {
    const chunk = inList(ids.slice(i, i + 5_000));
    for (const c of await contactStore.query(sql`SELECT report_id, reporter_msisdn FROM restricted_report_contacts FINAL WHERE report_id IN ${chunk}`, ContactRow)) contacts.set(c.report_id, c.reporter_msisdn);
    for (const c of await ch.query(sql`SELECT id, short_code FROM reports FINAL WHERE id IN ${chunk}`, ShortCodeRow)) shortCodes.set(c.id, c.short_code);
    for (const c of await ch.query(sql`SELECT DISTINCT report_id FROM report_outcomes WHERE report_id IN ${chunk}`, OutcomeRow)) decided.add(c.report_id);
  }
  const assessments = rows.map((r) => ({
    ...r,
    reporter_msisdn: contacts.get(r.report_id) ?? "",
    short_code: shortCodes.get(r.report_id) ?? "",
    has_outcome: decided.has(r.report_id) ? 1 : 0,
  }));
  const toReport = (a: z.infer<typeof AssessmentRow>): AssessedReport => ({
    reportId: a.report_id,
    reportedNumber: a.reported_number!,
    reporterHash: a.reporter_hash,
    reporterMsisdn: a.reporter_msisdn,
    shortCode: a.short_code,
    receivedAt: a.ts,
    allowListed: a.allow_listed === 1,
    verification: a.verification,
    matchedMessageId: a.matched_message_id,
    similarity: a.similarity,
    verdict: null,
  });

  const cases = await ch.query(
    sql`SELECT case_id, version, subject, state, decision, decided_by, reason, rule, evidence, allow_listed,
               toUInt64(opened_at) * 1000 AS opened_at, toUInt64(updated_at) * 1000 AS updated_at, toUInt64(sla_due_at) * 1000 AS sla_due_at, sla_breached
        FROM cases_current WHERE state = 'open'`,
    CaseRow,
  );
  const pendingByCase = new Map<string, AssessedReport[]>();
  const inCases = new Set<string>();
  for (const a of assessments) {
    if (a.case_id && a.has_outcome === 0 && a.reporter_msisdn !== "") {
      const list = pendingByCase.get(a.case_id) ?? [];
      list.push(toReport(a));
      pendingByCase.set(a.case_id, list);
    }
  }
  for (const c of cases) {
    const evidence = CaseEvidenceV1.safeParse(JSON.parse(c.evidence));
    if (!evidence.success) {
      logger.warn({ caseId: c.case_id }, "case evidence unreadable; case not restored");
      continue;
    }
    const event: CaseEvent = {
      v: 1,
      type: "case",
      id: `${c.case_id}-v${c.version}`,
      caseId: c.case_id,
      version: c.version,
      subjectKind: "sender",
      subject: c.subject,
      state: c.state,
      decision: c.decision,
      decidedBy: c.decided_by,
      reason: c.reason,
      rule: c.rule,
      evidence: evidence.data,
      allowListed: c.allow_listed === 1,
      openedAt: c.opened_at,
      updatedAt: c.updated_at,
      decidedAt: null,
      slaDueAt: c.sla_due_at,
      slaBreached: c.sla_breached === 1,
    };
    const reports = pendingByCase.get(c.case_id) ?? [];
    for (const r of reports) inCases.add(r.reportId);
    core.restoreCase(event, reports);
  }
  const windowSince = now - policy.windowHours * 3_600_000;
  for (const a of assessments) if (!inCases.has(a.report_id) && a.ts >= windowSince) core.restoreWindowReport(toReport(a));

  // Each sender's latest velocity verdict in the window: the verdicts consumer starts from now on.
  const a = policy.autoBlock;
  const velocity = await ch.query(
    sql`SELECT id, source, label, score, rule_ids, toUInt64(received_at) * 1000 AS ts FROM verdicts
        WHERE received_at >= ${v.dateTime(windowSince)} AND kind = 'traffic' AND label = 'spam' AND score >= ${v.float64(a.velocityMinScore)}
          AND arrayExists(r -> substring(r, 1, length(${v.string(a.velocityRulePrefix)})) = ${v.string(a.velocityRulePrefix)}, rule_ids)
        ORDER BY received_at DESC LIMIT 1 BY source LIMIT 200000`,
    VelocityRow,
  );
  for (const r of velocity.reverse()) {
    core.restoreVerdict({ verdictId: r.id, source: r.source, label: r.label, score: r.score, ruleIds: r.rule_ids, receivedAt: r.ts }, now);
  }
  return { reporters: reps.length, cases: cases.length, reports: assessments.length, velocitySenders: velocity.length };
}

/** `('a', 'b')` for `x IN …`: 18.16 does not accept an array literal there. Never empty. */
function inList(values: readonly string[]): SqlFragment {
  return sql`(${join((values.length > 0 ? values : [""]).map((x) => v.string(x)), ", ")})`;
}
