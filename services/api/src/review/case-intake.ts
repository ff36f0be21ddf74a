import type pg from "pg";
import type { z } from "zod";
import { newCaseId, type CaseEvent, type ContributionV1, type ReportAssessed, type ReportOutcome } from "@spam/contracts";
import { CASE_KINDS, CASE_SOURCES, lockSubject, openCaseOf, withTx, type Queryable, type SubjectKind } from "./rows.js";

/** A flagged message (or a campaign member) as the verdict intake sees it. */
export interface CaseUpsert {
  readonly id: string;
  readonly kind: (typeof CASE_KINDS)[number];
  readonly source: (typeof CASE_SOURCES)[number];
  readonly sender: string;
  readonly messageId: string | null;
  readonly verdictId: string | null;
  readonly campaignId: string | null;
  readonly category: string | null;
  readonly modelLabel: string | null;
  /** The model version of the verdict (absent for cases that no verdict opened). */
  readonly modelVersion?: string | null;
  readonly score: number;
  readonly text: string;
  readonly contributions: z.infer<typeof ContributionV1>[];
  readonly openedAt: number;
}

export interface ReportUpsert {
  readonly reportId: string;
  readonly reporterHash: string;
  readonly reportedNumber: string;
  readonly content: string | null;
  readonly status: string;
  readonly receivedAt: number;
  readonly verification: "verified" | "unverified" | "suspicious";
  readonly allowListed: boolean;
  /** Classifier score of the reported content if known: feeds the queue's uncertainty term. */
  readonly score: number | null;
}

/**
 * A flagged message joins the open case of its sender as evidence, or opens it (id `msg:<message id>`,
 * which names no number). Idempotent by message id, so a redelivered verdict is harmless.
 */
export async function addFlaggedMessage(pool: pg.Pool, c: CaseUpsert): Promise<void> {
  const messageId = c.messageId ?? c.id;
  await withTx(pool, async (tx) => {
    await lockSubject(tx, "sender", c.sender);
    const seen = await tx.query("SELECT 1 FROM case_messages WHERE message_id = $1 UNION ALL SELECT 1 FROM review_cases WHERE id = $2 LIMIT 1", [messageId, c.id]);
    if (seen.rowCount) return;
    let caseId = await openCaseOf(tx, "sender", c.sender);
    if (!caseId) {
      caseId = c.id;
      await tx.query(
        `INSERT INTO review_cases (id, kind, source, subject_kind, subject, sender, message_id, verdict_id, campaign_id, category, model_label, score, text, contributions, opened_at, model_version)
         VALUES ($1,'message','classifier','sender',$2,$2,$3,$4,$5,$6,$7,$8,$9,$10,to_timestamp($11 / 1000.0),$12)`,
        [caseId, c.sender, messageId, c.verdictId, c.campaignId, c.category, c.modelLabel, c.score, c.text, JSON.stringify(c.contributions), c.openedAt, c.modelVersion ?? null],
      );
    } else {
      await tx.query(
        `UPDATE review_cases SET recipients = recipients + 1, score = GREATEST(score, $2),
           category = COALESCE(category, $3), model_label = COALESCE(model_label, $4), campaign_id = COALESCE(campaign_id, $5),
           message_id = COALESCE(message_id, $6), verdict_id = COALESCE(verdict_id, $7),
           contributions = CASE WHEN contributions = '[]'::jsonb THEN $8::jsonb ELSE contributions END,
           text = CASE WHEN text = '' THEN $9 ELSE text END, model_version = COALESCE($10, model_version), updated_at = now()
         WHERE id = $1`,
        [caseId, c.score, c.category, c.modelLabel, c.campaignId, messageId, c.verdictId, JSON.stringify(c.contributions), c.text, c.modelVersion ?? null],
      );
    }
    await tx.query(
      `INSERT INTO case_messages (case_id, message_id, verdict_id, campaign_id, category, model_label, score, text, flagged_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,to_timestamp($9 / 1000.0)) ON CONFLICT DO NOTHING`,
      [caseId, messageId, c.verdictId, c.campaignId, c.category, c.modelLabel, c.score, c.text, c.openedAt],
    );
  });
}

/** Sets the text of cases and messages that were taken in before their message's text was read. */
export async function fillTexts(pool: pg.Pool, pairs: readonly (readonly [string, string])[]): Promise<void> {
  if (pairs.length === 0) return;
  const params = [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
  await pool.query(
    `UPDATE case_messages m SET text = t.text FROM unnest($1::text[], $2::text[]) AS t(id, text) WHERE m.message_id = t.id AND m.text = ''`,
    params,
  );
  await pool.query(
    `UPDATE review_cases c SET text = t.text FROM unnest($1::text[], $2::text[]) AS t(id, text)
      WHERE c.message_id = t.id AND c.text = ''`,
    params,
  );
  // Report cases show the delivered message their report was matched to.
  await pool.query(
    `UPDATE review_cases c SET text = t.text FROM unnest($1::text[], $2::text[]) AS t(id, text), case_reports r
      WHERE r.matched_message_id = t.id AND r.case_id = c.id AND c.text = ''`,
    params,
  );
}

/** Adds a message to its campaign's case, counting each message once and remembering its sender. */
export async function addCampaignMember(pool: pg.Pool, c: CaseUpsert & { campaignId: string }): Promise<void> {
  await withTx(pool, async (tx) => {
    const ins = await tx.query("INSERT INTO campaign_members (campaign_id, message_id, sender) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", [
      c.campaignId,
      c.messageId ?? c.id,
      c.sender,
    ]);
    if (!ins.rowCount) return;
    await tx.query(
      `INSERT INTO review_cases (id, kind, source, subject_kind, subject, sender, campaign_id, category, model_label, score, text, contributions, samples, opened_at, recipients, model_version)
       VALUES ($1,'campaign','campaign','campaign',$3,$2,$3,$4,$5,$6,$7,$8,$9,to_timestamp($10 / 1000.0),1,$11)
       ON CONFLICT (id) DO UPDATE SET
         recipients = review_cases.recipients + 1,
         model_version = COALESCE(EXCLUDED.model_version, review_cases.model_version),
         score = GREATEST(review_cases.score, EXCLUDED.score),
         category = COALESCE(review_cases.category, EXCLUDED.category),
         samples = CASE WHEN jsonb_array_length(review_cases.samples) < 5 AND NOT review_cases.samples ? $7
                        THEN review_cases.samples || jsonb_build_array($7::text) ELSE review_cases.samples END,
         updated_at = now()`,
      [`cmp:${c.campaignId}`, c.sender, c.campaignId, c.category, c.modelLabel, c.score, c.text, JSON.stringify(c.contributions), JSON.stringify([c.text]), c.openedAt, c.modelVersion ?? null],
    );
  });
}

/** Attaches a report to the open case of the reported number (whatever opened it), opening one if needed. */
export async function addReport(pool: pg.Pool, r: ReportUpsert): Promise<string> {
  return withTx(pool, async (tx) => {
    const existing = await tx.query<{ case_id: string }>("SELECT case_id FROM case_reports WHERE report_id = $1", [r.reportId]);
    if (existing.rows[0]) return existing.rows[0].case_id;
    await lockSubject(tx, "sender", r.reportedNumber);
    let caseId = await openCaseOf(tx, "sender", r.reportedNumber);
    if (!caseId) {
      caseId = newCaseId();
      await insertSenderCase(tx, caseId, r.reportedNumber, r.receivedAt, { score: r.score, text: r.content ?? "", owner: "api", deciderCaseId: null, modelLabel: null });
    }
    await tx.query(
      `INSERT INTO case_reports (report_id, case_id, reporter_hash, reported_number, content, status, verification, received_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,to_timestamp($8 / 1000.0))`,
      [r.reportId, caseId, r.reporterHash, r.reportedNumber, r.content, r.status, r.verification, r.receivedAt],
    );
    await tx.query(
      `UPDATE review_cases SET report_count = report_count + 1, kind = 'report', source = 'report',
         first_report_at = LEAST(COALESCE(first_report_at, to_timestamp($2 / 1000.0)), to_timestamp($2 / 1000.0)),
         text = CASE WHEN text = '' THEN COALESCE($3, '') ELSE text END, updated_at = now()
       WHERE id = $1`,
      [caseId, r.receivedAt, r.content],
    );
    return caseId;
  });
}

/** A new sender case opened by a report; what is known of the sender's latest flagged message explains it too. */
async function insertSenderCase(
  tx: Queryable,
  id: string,
  sender: string,
  at: number,
  o: { score: number | null; text: string; owner: "api" | "decider"; deciderCaseId: string | null; modelLabel: string | null },
): Promise<void> {
  await tx.query(
    `INSERT INTO review_cases (id, kind, source, subject_kind, subject, sender, score, text, recipients, opened_at, first_report_at,
                               category, model_label, contributions, campaign_id, owner, decider_case_id)
     SELECT $1, 'report', 'report', 'sender', $2, $2, COALESCE($3, m.score, 0.5), $4, 0, to_timestamp($5 / 1000.0), to_timestamp($5 / 1000.0),
            m.category, COALESCE($8, m.model_label), COALESCE(m.contributions, '[]'::jsonb), m.campaign_id, $6, $7
       FROM (SELECT 1) one
       LEFT JOIN LATERAL (SELECT score, category, model_label, contributions, campaign_id FROM review_cases
                           WHERE subject_kind = 'sender' AND subject = $2 AND message_id IS NOT NULL ORDER BY opened_at DESC LIMIT 1) m ON true`,
    [id, sender, o.score, o.text, at, o.owner, o.deciderCaseId, o.modelLabel],
  );
}

/**
 * The row of a decider case: the one already linked to its id, else the subject's open case (which the
 * decider's case joins), else a new row under the decider's id.
 */
async function resolveDeciderCase(
  tx: Queryable,
  deciderCaseId: string,
  kind: SubjectKind,
  subject: string,
  at: number,
  init: { text: string; modelLabel: string | null },
): Promise<string> {
  await lockSubject(tx, kind, subject);
  const linked = await tx.query<{ id: string }>("SELECT id FROM review_cases WHERE decider_case_id = $1 OR id = $1 LIMIT 1", [deciderCaseId]);
  if (linked.rows[0]) return linked.rows[0].id;
  const open = await openCaseOf(tx, kind, subject);
  if (open) {
    await tx.query("UPDATE review_cases SET decider_case_id = $2, owner = 'decider', ext_version = -1, updated_at = now() WHERE id = $1", [open, deciderCaseId]);
    return open;
  }
  await insertSenderCase(tx, deciderCaseId, subject, at, { score: null, text: init.text, owner: "decider", deciderCaseId, modelLabel: init.modelLabel });
  return deciderCaseId;
}

/**
 * Applies a decider case event (versioned; older or repeated versions are ignored). Open pending cases
 * need a person; a case the policy decided leaves the queue with the policy's reason code, and so does
 * every campaign case the block makes moot (all its senders blocked).
 */
export async function applyDeciderCase(pool: pg.Pool, e: CaseEvent): Promise<void> {
  const decided = e.state === "decided" && e.decision !== "escalated";
  const status = decided ? "decided" : e.decision === "escalated" ? "escalated" : "open";
  const decision = e.decision === "blocked" ? "spam" : e.decision === "not_spam" ? "ham" : e.decision === "escalated" ? "escalate" : null;
  // A decision with a rule is the decider's own (a policy block, or a block from elsewhere settling the case); a reviewer's has none.
  const byPolicy = decided && e.rule !== "";
  await withTx(pool, async (tx) => {
    const id = await resolveDeciderCase(tx, e.caseId, e.subjectKind, e.subject, e.openedAt, { text: "", modelLabel: null });
    const { rowCount } = await tx.query(
      `UPDATE review_cases SET
         report_count = GREATEST(report_count, $2), score = GREATEST(score, $3),
         opened_at = LEAST(opened_at, to_timestamp($4 / 1000.0)),
         first_report_at = LEAST(COALESCE(first_report_at, to_timestamp($4 / 1000.0)), to_timestamp($4 / 1000.0)),
         kind = CASE WHEN subject_kind = 'campaign' THEN kind ELSE 'report' END, source = CASE WHEN subject_kind = 'campaign' THEN source ELSE 'report' END,
         owner = 'decider', ext_version = $5, decider_rule = $6, evidence = $7,
         -- A policy decision closes the case; a reviewer's own decision is already recorded here.
         status = CASE WHEN status = 'decided' THEN 'decided' ELSE $8 END,
         decision = COALESCE(decision, $9),
         decision_comment = COALESCE(decision_comment, $10),
         decided_at = COALESCE(decided_at, to_timestamp($11 / 1000.0)),
         closed_reason = CASE WHEN status <> 'decided' AND $12::boolean THEN 'policy.' || $6 ELSE closed_reason END,
         claimed_by = CASE WHEN $8 = 'decided' THEN NULL ELSE claimed_by END,
         claim_expires = CASE WHEN $8 = 'decided' THEN NULL ELSE claim_expires END,
         updated_at = now()
       WHERE id = $1 AND ext_version < $5`,
      [
        id, e.evidence.reportCount, e.evidence.maxScore || 0.5, e.openedAt, e.version, e.rule, JSON.stringify(e.evidence),
        status, decided || e.decision === "escalated" ? decision : null, decided ? e.reason : null, e.decidedAt, byPolicy,
      ],
    );
    if (rowCount && decision === "spam" && e.subjectKind === "sender") await closeMootCampaigns(tx, e.subject);
  });
}

/**
 * Open campaign cases all of whose known senders are now blocked (a decided spam sender case each) have
 * nothing left to decide for a person: they close with the reason code `senders_blocked`.
 */
async function closeMootCampaigns(tx: Queryable, sender: string): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    `UPDATE review_cases cmp SET status = 'decided', closed_reason = 'senders_blocked', decided_at = now(),
            claimed_by = NULL, claim_expires = NULL, updated_at = now()
      WHERE cmp.subject_kind = 'campaign' AND cmp.status = 'open'
        AND cmp.subject IN (SELECT campaign_id FROM campaign_members WHERE sender = $1)
        AND NOT EXISTS (
          SELECT 1 FROM campaign_members m
           WHERE m.campaign_id = cmp.subject
             AND (m.sender IS NULL OR NOT EXISTS (
               SELECT 1 FROM review_cases s WHERE s.subject_kind = 'sender' AND s.subject = m.sender AND s.status = 'decided' AND s.decision = 'spam')))
      RETURNING cmp.id`,
    [sender],
  );
  return rows.map((r) => r.id);
}

/** Attaches a decider-assessed report (verification, similarity) to its subject's case. */
export async function applyReportAssessed(pool: pg.Pool, a: ReportAssessed, content: string | null, matchedText: string | null): Promise<void> {
  if (!a.caseId || !a.reportedNumber) return; // reported a sender already blocked: answered at once by the decider
  const caseId = a.caseId;
  const sender = a.reportedNumber;
  await withTx(pool, async (tx) => {
    const id = await resolveDeciderCase(tx, caseId, "sender", sender, a.reportReceivedAt, { text: matchedText ?? content ?? "", modelLabel: a.verdictLabel });
    await tx.query(
      `UPDATE review_cases SET text = CASE WHEN text = '' THEN $2 ELSE text END, model_label = COALESCE(model_label, $3) WHERE id = $1`,
      [id, matchedText ?? content ?? "", a.verdictLabel],
    );
    const ins = await tx.query(
      `INSERT INTO case_reports (report_id, case_id, reporter_hash, reported_number, content, status, verification, received_at, similarity, reporter_reputation, matched_message_id)
       VALUES ($1,$2,$3,$4,$5,'parsed',$6,to_timestamp($7 / 1000.0),$8,$9,$10)
       ON CONFLICT (report_id) DO UPDATE SET verification = EXCLUDED.verification, similarity = EXCLUDED.similarity,
         reporter_reputation = EXCLUDED.reporter_reputation, matched_message_id = EXCLUDED.matched_message_id`,
      [a.reportId, id, a.reporterHash, a.reportedNumber, content, a.verification, a.reportReceivedAt, a.similarity, a.reporterReputation, a.matchedMessageId],
    );
    if (ins.rowCount) {
      await tx.query(
        `UPDATE review_cases SET report_count = GREATEST(report_count, (SELECT count(*) FROM case_reports WHERE case_id = $1)),
           kind = 'report', source = 'report',
           first_report_at = LEAST(COALESCE(first_report_at, to_timestamp($2 / 1000.0)), to_timestamp($2 / 1000.0)) WHERE id = $1`,
        [id, a.reportReceivedAt],
      );
    }
  });
}

/** The decider answered a reporter (automatically or after our label): record when, for the SLA figures. */
export async function applyReportOutcome(pool: pg.Pool, o: ReportOutcome): Promise<void> {
  await pool.query(
    "UPDATE case_reports SET replied_at = to_timestamp($2 / 1000.0), outcome = $3 WHERE report_id = $1 AND replied_at IS NULL",
    [o.reportId, o.decidedAt, o.outcome === "blocked" ? "spam" : "ham"],
  );
}
