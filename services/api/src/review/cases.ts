import { randomUUID } from "node:crypto";
import type pg from "pg";
import { z } from "zod";
import { ContributionV1, newCaseId, type CaseEvent, type ReportAssessed, type ReportOutcome } from "@spam/contracts";
import { mayReveal } from "@spam/privacy";
import { ApiError } from "../errors.js";
import type { User } from "../auth/users.js";
import { audit } from "../audit.js";
import { decisionEffects, type DecisionLabel, type EffectsConfig, type OutboxMessage } from "./effects.js";
import { prioritySql } from "./priority.js";

export const CASE_KINDS = ["message", "report", "campaign"] as const;
export const CASE_SOURCES = ["classifier", "report", "campaign"] as const;
export const CASE_STATUSES = ["open", "escalated", "decided"] as const;

const ts = z.union([z.date(), z.string()]).transform((d) => new Date(d).toISOString());

export const CaseRow = z.object({
  id: z.string(),
  kind: z.enum(CASE_KINDS),
  source: z.enum(CASE_SOURCES),
  sender: z.string(),
  message_id: z.string().nullable(),
  verdict_id: z.string().nullable(),
  campaign_id: z.string().nullable(),
  category: z.string().nullable(),
  model_label: z.string().nullable(),
  score: z.coerce.number(),
  recipients: z.coerce.number().int(),
  report_count: z.coerce.number().int(),
  text: z.string(),
  contributions: z.array(ContributionV1),
  samples: z.array(z.string()),
  opened_at: ts,
  first_report_at: ts.nullable(),
  status: z.enum(CASE_STATUSES),
  claimed_by: z.coerce.number().nullable(),
  claimed_by_name: z.string().nullable().optional(),
  claim_expires: ts.nullable(),
  decision: z.enum(["spam", "ham", "escalate"]).nullable(),
  decision_category: z.string().nullable(),
  decision_comment: z.string().nullable(),
  decided_by_name: z.string().nullable().optional(),
  decided_at: ts.nullable(),
  priority: z.coerce.number().optional(),
  owner: z.enum(["api", "decider"]).default("api"),
  decider_rule: z.string().nullable().optional(),
  evidence: z.record(z.unknown()).nullable().optional(),
});
export type CaseRow = z.infer<typeof CaseRow>;

export const ReportRow = z.object({
  report_id: z.string(),
  reporter_hash: z.string(),
  reported_number: z.string().nullable(),
  content: z.string().nullable(),
  status: z.string(),
  verification: z.string(),
  received_at: ts,
  replied_at: ts.nullable(),
  outcome: z.string().nullable(),
  similarity: z.coerce.number().nullable().optional(),
  reporter_reputation: z.coerce.number().nullable().optional(),
});
export type ReportRow = z.infer<typeof ReportRow>;

export interface QueueFilter {
  readonly status?: "open" | "escalated" | undefined;
  readonly category?: string | undefined;
  readonly source?: (typeof CASE_SOURCES)[number] | undefined;
  readonly campaignId?: string | undefined;
  readonly minAgeHours?: number | undefined;
  readonly maxAgeHours?: number | undefined;
  readonly limit: number;
  readonly offset: number;
}

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

export const REVEAL_FIELDS = ["sender", "text", "reporters"] as const;
export type RevealField = (typeof REVEAL_FIELDS)[number];
export interface Revealed {
  readonly sender?: string;
  readonly text?: string;
}
/** Reveals one user may make per hour unless configured (REVEAL_RATE_LIMIT_PER_HOUR). */
export const DEFAULT_REVEALS_PER_HOUR = 20;

export interface DecideInput {
  readonly label: DecisionLabel;
  readonly category: string | null;
  readonly comment: string;
  /** A campaign decision also decides every open member case not claimed by someone else. */
  readonly wholeCampaign: boolean;
}

export interface DecideResult {
  readonly decisionId: string;
  readonly decidedCases: string[];
  readonly skippedCases: string[];
  readonly messages: number;
}

const SELECT_CASE = `SELECT c.*, cu.username AS claimed_by_name, du.username AS decided_by_name
  FROM review_cases c LEFT JOIN users cu ON cu.id = c.claimed_by LEFT JOIN users du ON du.id = c.decided_by`;

type Tx = pg.PoolClient;

export class CaseStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: { slaHours: number; claimTtlMinutes: number; effects: EffectsConfig; revealsPerHour?: number },
  ) {}

  async withTx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  // ---- intake -------------------------------------------------------------

  /** Opens (or refreshes) a case; idempotent by id, so redelivered verdicts are harmless. */
  async upsertCase(c: CaseUpsert): Promise<void> {
    await this.pool.query(
      `INSERT INTO review_cases (id, kind, source, sender, message_id, verdict_id, campaign_id, category, model_label, score, text, contributions, opened_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,to_timestamp($13 / 1000.0))
       ON CONFLICT (id) DO NOTHING`,
      [c.id, c.kind, c.source, c.sender, c.messageId, c.verdictId, c.campaignId, c.category, c.modelLabel, c.score, c.text, JSON.stringify(c.contributions), c.openedAt],
    );
  }

  /** Sets the text of cases that were opened before their message's text was read. */
  async fillTexts(pairs: readonly (readonly [string, string])[]): Promise<void> {
    if (pairs.length === 0) return;
    const params = [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
    await this.pool.query(
      `UPDATE review_cases c SET text = t.text FROM unnest($1::text[], $2::text[]) AS t(id, text)
        WHERE c.message_id = t.id AND c.text = ''`,
      params,
    );
    // Report cases show the delivered message their report was matched to.
    await this.pool.query(
      `UPDATE review_cases c SET text = t.text FROM unnest($1::text[], $2::text[]) AS t(id, text), case_reports r
        WHERE r.matched_message_id = t.id AND r.case_id = c.id AND c.text = ''`,
      params,
    );
  }

  /** Adds a message to its campaign case, counting each message once. */
  async addCampaignMember(c: CaseUpsert & { campaignId: string }): Promise<void> {
    await this.withTx(async (tx) => {
      const ins = await tx.query("INSERT INTO campaign_members (campaign_id, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", [
        c.campaignId,
        c.messageId ?? c.id,
      ]);
      if (!ins.rowCount) return;
      const id = `cmp:${c.campaignId}`;
      await tx.query(
        `INSERT INTO review_cases (id, kind, source, sender, campaign_id, category, model_label, score, text, contributions, samples, opened_at, recipients)
         VALUES ($1,'campaign','campaign',$2,$3,$4,$5,$6,$7,$8,$9,to_timestamp($10 / 1000.0),1)
         ON CONFLICT (id) DO UPDATE SET
           recipients = review_cases.recipients + 1,
           score = GREATEST(review_cases.score, EXCLUDED.score),
           category = COALESCE(review_cases.category, EXCLUDED.category),
           samples = CASE WHEN jsonb_array_length(review_cases.samples) < 5 AND NOT review_cases.samples ? $7
                          THEN review_cases.samples || jsonb_build_array($7::text) ELSE review_cases.samples END,
           updated_at = now()`,
        [id, c.sender, c.campaignId, c.category, c.modelLabel, c.score, c.text, JSON.stringify(c.contributions), JSON.stringify([c.text]), c.openedAt],
      );
    });
  }

  /** Attaches a report to the open report case of the reported number, opening one if needed. */
  async addReport(r: ReportUpsert): Promise<string> {
    return this.withTx(async (tx) => {
      const existing = await tx.query<{ case_id: string }>("SELECT case_id FROM case_reports WHERE report_id = $1", [r.reportId]);
      if (existing.rows[0]) return existing.rows[0].case_id;
      // One open report case per reported number; the lock keeps two intakes from opening two.
      await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [r.reportedNumber]);
      const open = await tx.query<{ id: string }>(
        "SELECT id FROM review_cases WHERE kind = 'report' AND sender = $1 AND status <> 'decided' ORDER BY opened_at LIMIT 1",
        [r.reportedNumber],
      );
      let caseId = open.rows[0]?.id;
      if (!caseId) {
        caseId = newCaseId();
        // What the classifier said about this sender's latest flagged message explains the case too.
        await tx.query(
          `INSERT INTO review_cases (id, kind, source, sender, score, text, recipients, opened_at, first_report_at, category, model_label, contributions, campaign_id)
           SELECT $1, 'report', 'report', $2, COALESCE($3, m.score, 0.5), $4, 0, to_timestamp($5 / 1000.0), to_timestamp($5 / 1000.0),
                  m.category, m.model_label, COALESCE(m.contributions, '[]'::jsonb), m.campaign_id
             FROM (SELECT 1) one
             LEFT JOIN LATERAL (SELECT score, category, model_label, contributions, campaign_id FROM review_cases
                                 WHERE sender = $2 AND kind = 'message' ORDER BY opened_at DESC LIMIT 1) m ON true`,
          [caseId, r.reportedNumber, r.score, r.content ?? "", r.receivedAt],
        );
      }
      await tx.query(
        `INSERT INTO case_reports (report_id, case_id, reporter_hash, reported_number, content, status, verification, received_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,to_timestamp($8 / 1000.0))`,
        [r.reportId, caseId, r.reporterHash, r.reportedNumber, r.content, r.status, r.verification, r.receivedAt],
      );
      await tx.query(
        `UPDATE review_cases SET report_count = report_count + 1,
           first_report_at = LEAST(COALESCE(first_report_at, to_timestamp($2 / 1000.0)), to_timestamp($2 / 1000.0)),
           text = CASE WHEN text = '' THEN COALESCE($3, '') ELSE text END, updated_at = now()
         WHERE id = $1`,
        [caseId, r.receivedAt, r.content],
      );
      return caseId;
    });
  }

  /**
   * Applies a decider case event (versioned; older or repeated versions are ignored).
   * Open pending cases need a person; a case the policy decided leaves the queue.
   */
  async applyDeciderCase(e: CaseEvent): Promise<void> {
    const kind = e.subjectKind === "campaign" ? "campaign" : "report";
    const decided = e.state === "decided" && e.decision !== "escalated";
    const status = decided ? "decided" : e.decision === "escalated" ? "escalated" : "open";
    const decision = e.decision === "blocked" ? "spam" : e.decision === "not_spam" ? "ham" : e.decision === "escalated" ? "escalate" : null;
    await this.pool.query(
      `INSERT INTO review_cases (id, kind, source, sender, campaign_id, score, recipients, report_count, opened_at, first_report_at,
                                 owner, ext_version, decider_rule, evidence, status, decision, decision_comment, decided_at)
       VALUES ($1, $2, 'report', $3, $4, $5, 0, $6, to_timestamp($7 / 1000.0), to_timestamp($7 / 1000.0),
               'decider', $8, $9, $10, $11, $12, $13, to_timestamp($14 / 1000.0))
       ON CONFLICT (id) DO UPDATE SET
         report_count = GREATEST(review_cases.report_count, EXCLUDED.report_count),
         score = GREATEST(review_cases.score, EXCLUDED.score),
         opened_at = LEAST(review_cases.opened_at, EXCLUDED.opened_at),
         first_report_at = LEAST(review_cases.first_report_at, EXCLUDED.first_report_at),
         owner = 'decider', ext_version = EXCLUDED.ext_version, decider_rule = EXCLUDED.decider_rule, evidence = EXCLUDED.evidence,
         -- A policy decision closes the case; a reviewer's own decision is already recorded here.
         status = CASE WHEN review_cases.status = 'decided' THEN 'decided' ELSE EXCLUDED.status END,
         decision = COALESCE(review_cases.decision, EXCLUDED.decision),
         decision_comment = COALESCE(review_cases.decision_comment, EXCLUDED.decision_comment),
         decided_at = COALESCE(review_cases.decided_at, EXCLUDED.decided_at),
         claimed_by = CASE WHEN EXCLUDED.status = 'decided' THEN NULL ELSE review_cases.claimed_by END,
         updated_at = now()
       WHERE review_cases.ext_version < EXCLUDED.ext_version`,
      [
        e.caseId, kind, e.subject, e.subjectKind === "campaign" ? e.subject : null,
        e.evidence.maxScore || 0.5, e.evidence.reportCount, e.openedAt, e.version, e.rule, JSON.stringify(e.evidence),
        status, decided || e.decision === "escalated" ? decision : null, decided ? e.reason : null, e.decidedAt,
      ],
    );
  }

  /** Attaches a decider-assessed report (verification, similarity) to its case; the case row is created if the event is first. */
  async applyReportAssessed(a: ReportAssessed, content: string | null, matchedText: string | null): Promise<void> {
    if (!a.caseId) return; // reported a sender already blocked: answered at once by the decider
    await this.withTx(async (tx) => {
      await tx.query(
        `INSERT INTO review_cases (id, kind, source, sender, score, recipients, opened_at, first_report_at, owner, text, category, model_label, contributions)
         SELECT $1, 'report', 'report', $2, COALESCE(m.score, 0.5), 0, to_timestamp($3 / 1000.0), to_timestamp($3 / 1000.0), 'decider', $4,
                m.category, COALESCE($5, m.model_label), COALESCE(m.contributions, '[]'::jsonb)
           FROM (SELECT 1) one
           LEFT JOIN LATERAL (SELECT score, category, model_label, contributions FROM review_cases
                               WHERE sender = $2 AND kind = 'message' ORDER BY opened_at DESC LIMIT 1) m ON true
         ON CONFLICT (id) DO UPDATE SET text = CASE WHEN review_cases.text = '' THEN EXCLUDED.text ELSE review_cases.text END,
           model_label = COALESCE(review_cases.model_label, EXCLUDED.model_label)`,
        [a.caseId, a.reportedNumber ?? "", a.reportReceivedAt, matchedText ?? content ?? "", a.verdictLabel],
      );
      const ins = await tx.query(
        `INSERT INTO case_reports (report_id, case_id, reporter_hash, reported_number, content, status, verification, received_at,
                                   similarity, reporter_reputation, matched_message_id)
         VALUES ($1, $2, $3, $4, $5, 'parsed', $6, to_timestamp($7 / 1000.0), $8, $9, $10)
         ON CONFLICT (report_id) DO UPDATE SET verification = EXCLUDED.verification, similarity = EXCLUDED.similarity`,
        [a.reportId, a.caseId, a.reporterHash, a.reportedNumber, content, a.verification, a.reportReceivedAt, a.similarity, a.reporterReputation, a.matchedMessageId],
      );
      if (ins.rowCount) {
        await tx.query(
          `UPDATE review_cases SET report_count = GREATEST(report_count, (SELECT count(*) FROM case_reports WHERE case_id = $1)),
             first_report_at = LEAST(COALESCE(first_report_at, to_timestamp($2 / 1000.0)), to_timestamp($2 / 1000.0)) WHERE id = $1`,
          [a.caseId, a.reportReceivedAt],
        );
      }
    });
  }

  /** The decider answered a reporter (automatically or after our label): record when, for the SLA figures. */
  async applyReportOutcome(o: ReportOutcome): Promise<void> {
    await this.pool.query(
      "UPDATE case_reports SET replied_at = to_timestamp($2 / 1000.0), outcome = $3 WHERE report_id = $1 AND replied_at IS NULL",
      [o.reportId, o.decidedAt, o.outcome === "blocked" ? "spam" : "ham"],
    );
  }

  // ---- queue --------------------------------------------------------------

  async queue(filter: QueueFilter): Promise<{ items: CaseRow[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [this.options.slaHours];
    const p = (v: unknown): string => {
      params.push(v);
      return `$${params.length}`;
    };
    where.push(`c.status = ${p(filter.status ?? "open")}`);
    if (filter.category) where.push(`c.category = ${p(filter.category)}`);
    if (filter.source) where.push(`c.source = ${p(filter.source)}`);
    if (filter.campaignId) where.push(`c.campaign_id = ${p(filter.campaignId)}`);
    const age = "EXTRACT(EPOCH FROM (now() - COALESCE(c.first_report_at, c.opened_at))) / 3600.0";
    if (filter.minAgeHours !== undefined) where.push(`${age} >= ${p(filter.minAgeHours)}`);
    if (filter.maxAgeHours !== undefined) where.push(`${age} <= ${p(filter.maxAgeHours)}`);
    const prio = prioritySql("$1").replace(/\b(score|recipients|report_count|first_report_at|opened_at)\b/g, "c.$1");
    const sql = `SELECT * FROM (
        SELECT c.*, cu.username AS claimed_by_name, NULL::text AS decided_by_name, ${prio} AS priority, count(*) OVER () AS total
          FROM review_cases c LEFT JOIN users cu ON cu.id = c.claimed_by
         WHERE ${where.join(" AND ")}) q
      ORDER BY priority DESC, opened_at ASC, id ASC LIMIT ${p(filter.limit)} OFFSET ${p(filter.offset)}`;
    const { rows } = await this.pool.query(sql, params);
    const total = Number((rows[0] as { total?: string } | undefined)?.total ?? 0);
    return { items: rows.map((r) => CaseRow.parse(r)), total };
  }

  async get(id: string): Promise<CaseRow> {
    const { rows } = await this.pool.query(`${SELECT_CASE} WHERE c.id = $1`, [id]);
    if (!rows[0]) throw new ApiError("not_found", `no case ${id}`);
    return CaseRow.parse(rows[0]);
  }

  async reports(caseId: string): Promise<ReportRow[]> {
    const { rows } = await this.pool.query("SELECT * FROM case_reports WHERE case_id = $1 ORDER BY received_at", [caseId]);
    return rows.map((r) => ReportRow.parse(r));
  }

  async senderHistory(sender: string, excludeId: string): Promise<CaseRow[]> {
    const { rows } = await this.pool.query(
      `${SELECT_CASE} WHERE c.sender = $1 AND c.id <> $2 ORDER BY c.opened_at DESC LIMIT 20`,
      [sender, excludeId],
    );
    return rows.map((r) => CaseRow.parse(r));
  }

  async campaignMembers(campaignId: string): Promise<{ total: number; open: number; samples: CaseRow[]; legitimateTexts: string[] }> {
    const counts = await this.pool.query<{ total: string; open: string }>(
      "SELECT count(*) AS total, count(*) FILTER (WHERE status = 'open') AS open FROM review_cases WHERE campaign_id = $1 AND kind = 'message'",
      [campaignId],
    );
    const { rows } = await this.pool.query(
      `${SELECT_CASE} WHERE c.campaign_id = $1 AND c.kind = 'message' ORDER BY c.opened_at DESC LIMIT 5`,
      [campaignId],
    );
    // Samples stored on the campaign case before a member was judged legitimate are filtered by these.
    const legit = await this.pool.query<{ text: string }>(
      "SELECT DISTINCT text FROM review_cases WHERE campaign_id = $1 AND kind = 'message' AND decision = 'ham' AND text <> ''",
      [campaignId],
    );
    return {
      total: Number(counts.rows[0]?.total ?? 0),
      open: Number(counts.rows[0]?.open ?? 0),
      samples: rows.map((r) => CaseRow.parse(r)),
      legitimateTexts: legit.rows.map((r) => r.text),
    };
  }

  // ---- claims -------------------------------------------------------------

  /**
   * Exclusive claim: the conditional UPDATE is atomic in PostgreSQL, so of two
   * concurrent claims exactly one sees a free row; a claim past its expiry is free again.
   */
  async claim(id: string, user: User): Promise<CaseRow> {
    const { rows } = await this.pool.query(
      `UPDATE review_cases SET claimed_by = $2, claim_expires = now() + make_interval(mins => $3), updated_at = now()
        WHERE id = $1 AND status <> 'decided' AND (claimed_by IS NULL OR claim_expires < now() OR claimed_by = $2)
        RETURNING id`,
      [id, user.id, this.options.claimTtlMinutes],
    );
    if (rows[0]) return this.get(id);
    const current = await this.get(id); // throws not_found
    if (current.status === "decided") throw new ApiError("already_decided", `case ${id} is already decided`);
    throw new ApiError("already_claimed", `case ${id} is claimed by ${current.claimed_by_name ?? "another reviewer"}`);
  }

  /** Claims the highest-ranked free case; SKIP LOCKED lets concurrent reviewers each take a different one. */
  async claimNext(user: User, filter: Omit<QueueFilter, "limit" | "offset">): Promise<CaseRow | null> {
    const prio = prioritySql("$1");
    const params: unknown[] = [this.options.slaHours, user.id, this.options.claimTtlMinutes, filter.status ?? "open"];
    const extra: string[] = [];
    if (filter.category) {
      params.push(filter.category);
      extra.push(`category = $${params.length}`);
    }
    if (filter.source) {
      params.push(filter.source);
      extra.push(`source = $${params.length}`);
    }
    const { rows } = await this.pool.query(
      `UPDATE review_cases SET claimed_by = $2, claim_expires = now() + make_interval(mins => $3), updated_at = now()
        WHERE id = (SELECT id FROM review_cases
                     WHERE status = $4 AND (claimed_by IS NULL OR claim_expires < now())${extra.map((e) => ` AND ${e}`).join("")}
                     ORDER BY ${prio} DESC, opened_at ASC, id ASC LIMIT 1 FOR UPDATE SKIP LOCKED)
          AND (claimed_by IS NULL OR claim_expires < now())
        RETURNING id`,
      params,
    );
    const id = (rows[0] as { id: string } | undefined)?.id;
    return id ? this.get(id) : null;
  }

  async release(id: string, user: User): Promise<void> {
    const { rowCount } = await this.pool.query(
      "UPDATE review_cases SET claimed_by = NULL, claim_expires = NULL, updated_at = now() WHERE id = $1 AND claimed_by = $2",
      [id, user.id],
    );
    if (!rowCount) {
      await this.get(id);
      throw new ApiError("claim_required", `case ${id} is not claimed by you`);
    }
  }

  // ---- reveal -------------------------------------------------------------

  /**
   * A full number or a withheld text, for the reviewer working the case: the caller must hold an active
   * claim of it, give a reason, and stay under a per-user hourly limit; analysts never may. Every reveal
   * is written to the audit log with the reason, and so is every refused one.
   */
  async reveal(id: string, user: User, field: RevealField, reason: string): Promise<Revealed> {
    if (!mayReveal(user.role)) throw new ApiError("forbidden", "analysts work on masked data only: nothing can be revealed to them");
    if (reason.trim().length === 0) throw new ApiError("bad_request", "give a reason for the reveal", [{ path: "body.reason", message: "required" }]);
    // Reporters' numbers live only in the restricted contact store, out of the API's reach: review never needs them.
    if (field === "reporters") throw new ApiError("forbidden", "reporters' numbers are kept only in the restricted contact store");
    const limit = this.options.revealsPerHour ?? DEFAULT_REVEALS_PER_HOUR;
    try {
      return await this.withTx(async (tx) => {
        // One user's reveals run one at a time, so concurrent requests cannot slip past the limit.
        await tx.query("SELECT pg_advisory_xact_lock(hashtext('reveal:' || $1::text))", [String(user.id)]);
        const { rows } = await tx.query(`${SELECT_CASE} WHERE c.id = $1`, [id]);
        if (!rows[0]) throw new ApiError("not_found", "no such case");
        const c = CaseRow.parse(rows[0]);
        const claimed = c.claimed_by === user.id && c.claim_expires !== null && Date.parse(c.claim_expires) > Date.now();
        if (!claimed) throw new ApiError("claim_required", "claim the case before revealing anything in it");
        const recent = await tx.query<{ n: string }>(
          "SELECT count(*) AS n FROM audit_log WHERE user_id = $1 AND action IN ('reveal_number', 'reveal_text') AND at > now() - interval '1 hour'",
          [user.id],
        );
        if (Number(recent.rows[0]?.n ?? 0) >= limit) throw new ApiError("rate_limited", `at most ${limit} reveals an hour; try again later`);
        if (field === "text") {
          await audit(tx, user, "reveal_text", c.id, reason);
          return { text: c.text };
        }
        await audit(tx, user, "reveal_number", c.id, reason, { field });
        return { sender: c.sender };
      });
    } catch (e) {
      if (e instanceof ApiError && (e.code === "claim_required" || e.code === "rate_limited")) {
        await audit(this.pool, user, "reveal_refused", id, reason, { field, code: e.code });
      }
      throw e;
    }
  }

  // ---- decisions ----------------------------------------------------------

  async decide(id: string, user: User, input: DecideInput): Promise<DecideResult> {
    return this.withTx(async (tx) => {
      const locked = await tx.query(`${SELECT_CASE} WHERE c.id = $1 FOR UPDATE OF c`, [id]);
      if (!locked.rows[0]) throw new ApiError("not_found", `no case ${id}`);
      const main = CaseRow.parse(locked.rows[0]);
      if (main.status === "decided") throw new ApiError("already_decided", `case ${id} is already decided`);
      const claimValid = main.claimed_by === user.id && main.claim_expires !== null && Date.parse(main.claim_expires) > Date.now();
      if (!claimValid) throw new ApiError("claim_required", `claim case ${id} before deciding it`);

      const cases: CaseRow[] = [main];
      const skipped: string[] = [];
      if (input.wholeCampaign && main.campaign_id) {
        // Members claimed by another reviewer stay theirs: their claim is the promise of exclusivity.
        const members = await tx.query(
          `${SELECT_CASE} WHERE c.campaign_id = $1 AND c.id <> $2 AND c.status <> 'decided' FOR UPDATE OF c`,
          [main.campaign_id, id],
        );
        for (const r of members.rows) {
          const m = CaseRow.parse(r);
          const otherClaim = m.claimed_by !== null && m.claimed_by !== user.id && m.claim_expires !== null && Date.parse(m.claim_expires) > Date.now();
          if (otherClaim) skipped.push(m.id);
          else cases.push(m);
        }
      }

      const decisionId = randomUUID();
      const decidedAt = Date.now();
      const ids = cases.map((c) => c.id);
      const status = input.label === "escalate" ? "escalated" : "decided";
      await tx.query(
        `UPDATE review_cases SET status = $2, decision = $3, decision_category = $4, decision_comment = $5,
            decided_by = $6, decided_at = to_timestamp($7 / 1000.0), claimed_by = NULL, claim_expires = NULL, updated_at = now()
          WHERE id = ANY($1)`,
        [ids, status, input.label, input.category, input.comment, user.id, decidedAt],
      );
      if (input.label === "ham") {
        // A message judged legitimate is private correspondence: its text leaves its campaign's samples.
        await tx.query(
          `UPDATE review_cases cmp SET samples = cmp.samples - m.text,
                  text = CASE WHEN cmp.text = m.text THEN COALESCE((cmp.samples - m.text) ->> 0, '') ELSE cmp.text END, updated_at = now()
             FROM review_cases m
            WHERE m.id = ANY($1) AND m.kind = 'message' AND m.campaign_id IS NOT NULL AND m.text <> ''
              AND cmp.id = 'cmp:' || m.campaign_id AND (cmp.samples ? m.text OR cmp.text = m.text)`,
          [ids],
        );
      }
      await tx.query(
        "INSERT INTO decisions (id, case_id, reviewer_id, label, category, comment, via_campaign, decided_at) VALUES ($1,$2,$3,$4,$5,$6,$7,to_timestamp($8 / 1000.0))",
        [decisionId, id, user.id, input.label, input.category, input.comment, input.wholeCampaign ? main.campaign_id : null, decidedAt],
      );
      // The decider answers the reporters of its cases (and changes the block list) when it reads our label.
      const deciderOwned = main.owner === "decider";
      const reportRows =
        input.label === "escalate" || deciderOwned
          ? []
          : (
              await tx.query(
                "UPDATE case_reports SET replied_at = now(), outcome = $2 WHERE case_id = ANY($1) AND replied_at IS NULL RETURNING *",
                [ids, input.label],
              )
            ).rows.map((r) => ReportRow.parse(r));
      const messages = decisionEffects(
        { id: decisionId, label: input.label, category: input.category, comment: input.comment, reviewer: user.username, decidedAt },
        cases.map((c) => ({
          id: c.id,
          sender: c.sender,
          messageId: c.message_id,
          verdictId: c.verdict_id,
          campaignId: c.campaign_id,
          text: c.text,
        })),
        // Reporters' numbers are kept only in the restricted contact store, out of the API's reach: the
        // reports are evidence of the blocks here, and no reply to a reporter leaves the API.
        reportRows.map((r) => ({ reportId: r.report_id, reporterMsisdn: "", reportedNumber: r.reported_number, verification: r.verification })),
        this.options.effects,
      ).filter((m) => m.topicKey !== "repliesOutbound" && (!deciderOwned || m.topicKey === "reviewLabels"));
      await enqueueOutbox(tx, messages);
      await audit(tx, user, "decide", id, input.comment, {
        decisionId,
        label: input.label,
        category: input.category,
        cases: ids.length,
        skipped: skipped.length,
      });
      return { decisionId, decidedCases: ids, skippedCases: skipped, messages: messages.length };
    });
  }
}

export async function enqueueOutbox(tx: Pick<pg.PoolClient, "query">, messages: readonly OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await tx.query(
    `INSERT INTO outbox (topic_key, msg_key, payload)
     SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[])`,
    [messages.map((m) => m.topicKey), messages.map((m) => m.key), messages.map((m) => JSON.stringify(m.payload))],
  );
}
