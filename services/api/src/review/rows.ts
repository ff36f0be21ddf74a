import type pg from "pg";
import { z } from "zod";
import { ContributionV1 } from "@spam/contracts";

export const CASE_KINDS = ["message", "report", "campaign"] as const;
export const CASE_SOURCES = ["classifier", "report", "campaign"] as const;
const CASE_STATUSES = ["open", "escalated", "decided"] as const;
const SUBJECT_KINDS = ["sender", "campaign"] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];
/**
 * Why a case closed without a review of its own, as review_cases.closed_reason holds it: `policy.<rule>` for
 * the decider's decisions that close a case (its auto-block rules, or a block from elsewhere), `campaign_decided`
 * for a sender case settled by its campaign's decision, `senders_blocked` for a campaign all of whose senders are
 * blocked. The console has a string for each in both languages.
 */
export const CLOSED_REASONS = ["policy.verified_reporters", "policy.velocity_high_score", "policy.sender_blocked", "campaign_decided", "senders_blocked"] as const;

const ts = z.union([z.date(), z.string()]).transform((d) => new Date(d).toISOString());

export const CaseRow = z.object({
  id: z.string(),
  kind: z.enum(CASE_KINDS),
  source: z.enum(CASE_SOURCES),
  subject_kind: z.enum(SUBJECT_KINDS),
  subject: z.string(),
  sender: z.string(),
  message_id: z.string().nullable(),
  verdict_id: z.string().nullable(),
  campaign_id: z.string().nullable(),
  category: z.string().nullable(),
  model_label: z.string().nullable(),
  model_version: z.string().nullable().default(null),
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
  decider_case_id: z.string().nullable().optional(),
  decider_rule: z.string().nullable().optional(),
  closed_reason: z.string().nullable().optional(),
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

/** A flagged single message inside its sender's case. */
export const MessageRow = z.object({
  message_id: z.string(),
  verdict_id: z.string().nullable(),
  campaign_id: z.string().nullable(),
  category: z.string().nullable(),
  model_label: z.string().nullable(),
  score: z.coerce.number(),
  text: z.string(),
  flagged_at: ts,
});
export type MessageRow = z.infer<typeof MessageRow>;

export const SELECT_CASE = `SELECT c.*, cu.username AS claimed_by_name, du.username AS decided_by_name
  FROM review_cases c LEFT JOIN users cu ON cu.id = c.claimed_by LEFT JOIN users du ON du.id = c.decided_by`;

export type Tx = pg.PoolClient;
export type Queryable = Pick<pg.PoolClient, "query">;

export async function withTx<T>(pool: pg.Pool, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
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

/** One subject's intake and decisions run one at a time, so two writers never open two cases for it. */
export async function lockSubject(tx: Queryable, kind: SubjectKind, subject: string): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`${kind}:${subject}`]);
}

/** The open (or escalated) case of a subject, if any. */
export async function openCaseOf(tx: Queryable, kind: SubjectKind, subject: string): Promise<string | null> {
  const { rows } = await tx.query<{ id: string }>(
    "SELECT id FROM review_cases WHERE subject_kind = $1 AND subject = $2 AND status <> 'decided'",
    [kind, subject],
  );
  return rows[0]?.id ?? null;
}

/** The one claim check: the user holds an unexpired claim of the case. */
export function holdsClaim(c: Pick<CaseRow, "claimed_by" | "claim_expires">, userId: number, now = Date.now()): boolean {
  return c.claimed_by === userId && c.claim_expires !== null && Date.parse(c.claim_expires) > now;
}
