import { randomUUID } from "node:crypto";
import type pg from "pg";
import { audit } from "../audit.js";
import type { User } from "../auth/users.js";
import { ApiError } from "../errors.js";
import { decisionEffects, type DecidedCase, type DecisionLabel, type EffectsConfig, type OutboxMessage } from "./effects.js";
import { CaseRow, holdsClaim, ReportRow, SELECT_CASE, withTx, type Queryable, type Tx } from "./rows.js";

export interface DecideInput {
  readonly label: DecisionLabel;
  readonly category: string | null;
  readonly comment: string;
  /** From a sender case in a campaign: decide the campaign's case with it (unless another reviewer holds it). */
  readonly wholeCampaign: boolean;
}

export interface DecideResult {
  readonly decisionId: string;
  /** Every case this decision closed: the case itself, its campaign's if asked, and the cases it settles. */
  readonly decidedCases: string[];
  readonly skippedCases: string[];
  readonly messages: number;
}

/** Why a case closed without a review of its own (rendered by the console's i18n). */
export const SETTLED_BY_CAMPAIGN = "campaign_decided";
/** At most this many senders of one campaign are blocked and settled by one decision. */
const MAX_CAMPAIGN_SENDERS = 1000;

const lockCases = async (tx: Tx, where: string, params: unknown[]): Promise<CaseRow[]> =>
  (await tx.query(`${SELECT_CASE} WHERE ${where} FOR UPDATE OF c`, params)).rows.map((r) => CaseRow.parse(r));

/**
 * A reviewer's decision about a subject, and everything it settles. Deciding a campaign spam blocks every
 * sender of the campaign: their open sender cases then have nothing left for a person to decide, and their
 * reporters are owed the outcome now, so they close with this decision (reason `campaign_decided`) and the
 * decider, reading the label under its own case id, answers each reporter. A sender decision settles no
 * campaign: the other senders of a fingerprint may still be innocent.
 */
export async function decide(pool: pg.Pool, effects: EffectsConfig, id: string, user: User, input: DecideInput): Promise<DecideResult> {
  return withTx(pool, async (tx) => {
    const [main] = await lockCases(tx, "c.id = $1", [id]);
    if (!main) throw new ApiError("not_found", `no case ${id}`);
    if (main.status === "decided") throw new ApiError("already_decided", `case ${id} is already decided`);
    if (!holdsClaim(main, user.id)) throw new ApiError("claim_required", `claim case ${id} before deciding it`);

    const decided: CaseRow[] = [main];
    const skipped: string[] = [];
    if (input.wholeCampaign && main.subject_kind === "sender" && main.campaign_id) {
      // A campaign case claimed by another reviewer stays theirs: their claim is the promise of exclusivity.
      for (const c of await lockCases(tx, "c.subject_kind = 'campaign' AND c.subject = $1 AND c.status <> 'decided'", [main.campaign_id])) {
        if (c.claimed_by !== null && !holdsClaim(c, user.id) && c.claim_expires !== null && Date.parse(c.claim_expires) > Date.now()) skipped.push(c.id);
        else decided.push(c);
      }
    }
    const settled: CaseRow[] = [];
    let campaignSenders: string[] = [];
    const campaigns = decided.filter((c) => c.subject_kind === "campaign").map((c) => c.subject);
    if (input.label === "spam" && campaigns.length > 0) {
      campaignSenders = await sendersOf(tx, campaigns, decided);
      const ids = decided.map((c) => c.id);
      settled.push(
        // In id order, so two decisions over overlapping campaigns lock their senders' cases in the same order.
        ...(await lockCases(tx, "c.subject_kind = 'sender' AND c.subject = ANY($1) AND c.status <> 'decided' AND c.id <> ALL($2) ORDER BY c.id", [campaignSenders, ids])),
      );
    }

    const decisionId = randomUUID();
    const decidedAt = Date.now();
    const all = [...decided, ...settled];
    const ids = all.map((c) => c.id);
    const status = input.label === "escalate" ? "escalated" : "decided";
    const setDecision = async (caseIds: string[], reason: string | null) => {
      if (caseIds.length === 0) return;
      await tx.query(
        `UPDATE review_cases SET status = $2, decision = $3, decision_category = $4, decision_comment = $5, closed_reason = $8,
            decided_by = $6, decided_at = to_timestamp($7 / 1000.0), claimed_by = NULL, claim_expires = NULL, updated_at = now()
          WHERE id = ANY($1)`,
        [caseIds, status, input.label, input.category, input.comment, user.id, decidedAt, reason],
      );
    };
    await setDecision(decided.map((c) => c.id), null);
    await setDecision(settled.map((c) => c.id), SETTLED_BY_CAMPAIGN);
    if (input.label === "ham") await dropLegitimateSamples(tx, ids);
    await tx.query(
      "INSERT INTO decisions (id, case_id, reviewer_id, label, category, comment, via_campaign, decided_at) VALUES ($1,$2,$3,$4,$5,$6,$7,to_timestamp($8 / 1000.0))",
      [decisionId, id, user.id, input.label, input.category, input.comment, campaigns[0] ?? null, decidedAt],
    );
    // Reports of the decider's cases are answered by the decider when it reads our label; reports taken in
    // here are recorded as decided (reporters' numbers never reach the API, so no reply can leave from here).
    const apiOwned = all.filter((c) => c.owner !== "decider").map((c) => c.id);
    if (input.label !== "escalate" && apiOwned.length > 0) {
      await tx.query("UPDATE case_reports SET replied_at = now(), outcome = $2 WHERE case_id = ANY($1) AND replied_at IS NULL", [apiOwned, input.label]);
    }
    const reports = (await tx.query("SELECT * FROM case_reports WHERE case_id = ANY($1) ORDER BY received_at", [ids])).rows.map((r) => ReportRow.parse(r));
    const messages = await messagesOf(tx, ids);
    const out = decisionEffects(
      { id: decisionId, label: input.label, category: input.category, comment: input.comment, reviewer: user.username, decidedAt },
      all.map((c): DecidedCase => ({
        id: c.id,
        deciderCaseId: c.decider_case_id ?? null,
        sender: c.sender,
        // The decider blocks the sender of its own case when it reads the label; a campaign's senders are listed apart.
        blockSender: c.subject_kind === "sender" && c.owner !== "decider",
        messageId: c.message_id,
        verdictId: c.verdict_id,
        campaignId: c.subject_kind === "campaign" ? c.subject : null,
        text: c.text,
        messages: messages.get(c.id) ?? [],
      })),
      reports.map((r) => ({ reportId: r.report_id, reporterMsisdn: "", reportedNumber: r.reported_number, verification: r.verification })),
      effects,
      // Also those whose case the decider owns: the block must not wait on the decider still holding that case.
      campaignSenders,
    ).filter((m) => m.topicKey !== "repliesOutbound");
    await enqueueOutbox(tx, out);
    await audit(tx, user, "decide", id, input.comment, {
      decisionId,
      label: input.label,
      category: input.category,
      cases: ids.length,
      settled: settled.length,
      skipped: skipped.length,
    });
    return { decisionId, decidedCases: ids, skippedCases: skipped, messages: out.length };
  });
}

/** The senders of campaigns (as their members recorded them), at most MAX_CAMPAIGN_SENDERS. */
async function sendersOf(tx: Queryable, campaigns: readonly string[], cases: readonly CaseRow[]): Promise<string[]> {
  const { rows } = await tx.query<{ sender: string }>(
    "SELECT DISTINCT sender FROM campaign_members WHERE campaign_id = ANY($1) AND sender IS NOT NULL ORDER BY sender LIMIT $2",
    [campaigns, MAX_CAMPAIGN_SENDERS],
  );
  const fromCases = cases.filter((c) => c.subject_kind === "campaign" && c.sender !== "").map((c) => c.sender);
  return [...new Set([...rows.map((r) => r.sender), ...fromCases])].slice(0, MAX_CAMPAIGN_SENDERS);
}

async function messagesOf(tx: Queryable, caseIds: readonly string[]): Promise<Map<string, { messageId: string; verdictId: string | null; text: string }[]>> {
  const { rows } = await tx.query<{ case_id: string; message_id: string; verdict_id: string | null; text: string }>(
    "SELECT case_id, message_id, verdict_id, text FROM case_messages WHERE case_id = ANY($1) ORDER BY flagged_at, message_id",
    [caseIds],
  );
  const by = new Map<string, { messageId: string; verdictId: string | null; text: string }[]>();
  for (const r of rows) by.set(r.case_id, [...(by.get(r.case_id) ?? []), { messageId: r.message_id, verdictId: r.verdict_id, text: r.text }]);
  return by;
}

/** A message judged legitimate is private correspondence: its text leaves its campaign's samples. */
async function dropLegitimateSamples(tx: Queryable, caseIds: readonly string[]): Promise<void> {
  await tx.query(
    `UPDATE review_cases cmp SET samples = cmp.samples - m.text,
            text = CASE WHEN cmp.text = m.text THEN COALESCE((cmp.samples - m.text) ->> 0, '') ELSE cmp.text END, updated_at = now()
       FROM case_messages m
      WHERE m.case_id = ANY($1) AND m.campaign_id IS NOT NULL AND m.text <> ''
        AND cmp.id = 'cmp:' || m.campaign_id AND (cmp.samples ? m.text OR cmp.text = m.text)`,
    [caseIds],
  );
}

async function enqueueOutbox(tx: Queryable, messages: readonly OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await tx.query(
    `INSERT INTO outbox (topic_key, msg_key, payload)
     SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])`,
    [messages.map((m) => m.topicKey), messages.map((m) => m.key), messages.map((m) => JSON.stringify(m.payload))],
  );
}
