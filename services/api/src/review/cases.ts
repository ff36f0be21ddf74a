import type pg from "pg";
import type { CaseEvent, ReportAssessed, ReportOutcome } from "@spam/contracts";
import { ApiError } from "../errors.js";
import type { User } from "../auth/users.js";
import * as intake from "./case-intake.js";
import * as claims from "./claims.js";
import { decide, type DecideInput, type DecideResult } from "./decisions.js";
import type { EffectsConfig } from "./effects.js";
import { prioritySql } from "./priority.js";
import { CaseRow, MessageRow, ReportRow, SELECT_CASE, withTx, CASE_SOURCES, type Tx } from "./rows.js";

export { CASE_SOURCES, CaseRow, ReportRow, MessageRow } from "./rows.js";
export { REVEAL_FIELDS } from "./claims.js";
export type { CaseUpsert, ReportUpsert } from "./case-intake.js";
export type { DecideInput, DecideResult } from "./decisions.js";

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

export interface CampaignMembers {
  readonly total: number;
  /** Open cases of the campaign's senders. */
  readonly open: number;
  readonly samples: Pick<CaseRow, "text" | "decision" | "model_label">[];
  readonly legitimateTexts: string[];
}

/**
 * Review cases, one per subject (a sender number or a campaign fingerprint) with its evidence inside:
 * intake (case-intake.ts), claims and reveals (claims.ts), decisions (decisions.ts), and the reads here.
 */
export class CaseStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly options: { slaHours: number; claimTtlMinutes: number; effects: EffectsConfig; revealsPerHour?: number },
  ) {}

  withTx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return withTx(this.pool, fn);
  }

  // ---- intake (case-intake.ts) ----
  upsertCase(c: intake.CaseUpsert): Promise<void> {
    return intake.addFlaggedMessage(this.pool, c);
  }
  fillTexts(pairs: readonly (readonly [string, string])[]): Promise<void> {
    return intake.fillTexts(this.pool, pairs);
  }
  addCampaignMember(c: intake.CaseUpsert & { campaignId: string }): Promise<void> {
    return intake.addCampaignMember(this.pool, c);
  }
  addReport(r: intake.ReportUpsert): Promise<string> {
    return intake.addReport(this.pool, r);
  }
  applyDeciderCase(e: CaseEvent): Promise<void> {
    return intake.applyDeciderCase(this.pool, e);
  }
  applyReportAssessed(a: ReportAssessed, content: string | null, matchedText: string | null): Promise<void> {
    return intake.applyReportAssessed(this.pool, a, content, matchedText);
  }
  applyReportOutcome(o: ReportOutcome): Promise<void> {
    return intake.applyReportOutcome(this.pool, o);
  }

  // ---- claims and reveals (claims.ts) ----
  claim(id: string, user: User): Promise<CaseRow> {
    return claims.claim(this.pool, this.options, id, user);
  }
  claimNext(user: User, filter: Omit<QueueFilter, "limit" | "offset">): Promise<CaseRow | null> {
    return claims.claimNext(this.pool, this.options, user, filter);
  }
  release(id: string, user: User): Promise<void> {
    return claims.release(this.pool, id, user);
  }
  reveal(id: string, user: User, field: claims.RevealField, reason: string): Promise<claims.Revealed> {
    return claims.reveal(this.pool, this.options.revealsPerHour ?? claims.DEFAULT_REVEALS_PER_HOUR, id, user, field, reason);
  }

  // ---- decisions (decisions.ts) ----
  decide(id: string, user: User, input: DecideInput): Promise<DecideResult> {
    return decide(this.pool, this.options.effects, id, user, input);
  }

  // ---- reads ----

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

  /** A case by its id, or by the id the decider announced for it (a decider case joins its subject's case). */
  async get(id: string): Promise<CaseRow> {
    const { rows } = await this.pool.query(`${SELECT_CASE} WHERE c.id = $1 OR c.decider_case_id = $1 ORDER BY (c.id = $1) DESC LIMIT 1`, [id]);
    if (!rows[0]) throw new ApiError("not_found", `no case ${id}`);
    return CaseRow.parse(rows[0]);
  }

  async reports(caseId: string): Promise<ReportRow[]> {
    const { rows } = await this.pool.query("SELECT * FROM case_reports WHERE case_id = $1 ORDER BY received_at", [caseId]);
    return rows.map((r) => ReportRow.parse(r));
  }

  /** The flagged single messages inside a sender case. */
  async messages(caseId: string): Promise<MessageRow[]> {
    const { rows } = await this.pool.query("SELECT * FROM case_messages WHERE case_id = $1 ORDER BY flagged_at, message_id LIMIT 100", [caseId]);
    return rows.map((r) => MessageRow.parse(r));
  }

  async senderHistory(sender: string, excludeId: string): Promise<CaseRow[]> {
    const { rows } = await this.pool.query(
      `${SELECT_CASE} WHERE c.sender = $1 AND c.id <> $2 ORDER BY c.opened_at DESC LIMIT 20`,
      [sender, excludeId],
    );
    return rows.map((r) => CaseRow.parse(r));
  }

  async campaignMembers(campaignId: string): Promise<CampaignMembers> {
    const counts = await this.pool.query<{ total: string; open: string }>(
      `SELECT (SELECT count(*) FROM campaign_members WHERE campaign_id = $1) AS total,
              (SELECT count(*) FROM review_cases s WHERE s.subject_kind = 'sender' AND s.status <> 'decided'
                  AND s.subject IN (SELECT sender FROM campaign_members WHERE campaign_id = $1)) AS open`,
      [campaignId],
    );
    const samples = await this.pool.query<{ text: string; decision: CaseRow["decision"]; model_label: string | null }>(
      `SELECT m.text, c.decision, m.model_label FROM case_messages m JOIN review_cases c ON c.id = m.case_id
        WHERE m.campaign_id = $1 ORDER BY m.flagged_at DESC LIMIT 5`,
      [campaignId],
    );
    // Samples stored on the campaign case before a member was judged legitimate are filtered by these.
    const legit = await this.pool.query<{ text: string }>(
      `SELECT DISTINCT m.text FROM case_messages m JOIN review_cases c ON c.id = m.case_id
        WHERE m.campaign_id = $1 AND c.decision = 'ham' AND m.text <> ''`,
      [campaignId],
    );
    return {
      total: Number(counts.rows[0]?.total ?? 0),
      open: Number(counts.rows[0]?.open ?? 0),
      samples: samples.rows,
      legitimateTexts: legit.rows.map((r) => r.text),
    };
  }
}
