import type pg from "pg";
import { mayReveal } from "@spam/privacy";
import { audit } from "../audit.js";
import type { User } from "../auth/users.js";
import { ApiError } from "../errors.js";
import { prioritySql } from "./priority.js";
import { CaseRow, holdsClaim, SELECT_CASE, withTx, CASE_SOURCES } from "./rows.js";

export interface ClaimFilter {
  readonly status?: "open" | "escalated" | undefined;
  readonly category?: string | undefined;
  readonly source?: (typeof CASE_SOURCES)[number] | undefined;
}

export interface ClaimOptions {
  readonly slaHours: number;
  readonly claimTtlMinutes: number;
}

async function getCase(pool: pg.Pool, id: string): Promise<CaseRow> {
  const { rows } = await pool.query(`${SELECT_CASE} WHERE c.id = $1`, [id]);
  if (!rows[0]) throw new ApiError("not_found", `no case ${id}`);
  return CaseRow.parse(rows[0]);
}

/**
 * Exclusive claim: the conditional UPDATE is atomic in PostgreSQL, so of two
 * concurrent claims exactly one sees a free row; a claim past its expiry is free again.
 */
export async function claim(pool: pg.Pool, o: ClaimOptions, id: string, user: User): Promise<CaseRow> {
  const { rows } = await pool.query(
    `UPDATE review_cases SET claimed_by = $2, claim_expires = now() + make_interval(mins => $3), updated_at = now()
      WHERE id = $1 AND status <> 'decided' AND (claimed_by IS NULL OR claim_expires < now() OR claimed_by = $2)
      RETURNING id`,
    [id, user.id, o.claimTtlMinutes],
  );
  if (rows[0]) return getCase(pool, id);
  const current = await getCase(pool, id); // throws not_found
  if (current.status === "decided") throw new ApiError("already_decided", `case ${id} is already decided`);
  throw new ApiError("already_claimed", `case ${id} is claimed by ${current.claimed_by_name ?? "another reviewer"}`);
}

/** Claims the highest-ranked free case; SKIP LOCKED lets concurrent reviewers each take a different one. */
export async function claimNext(pool: pg.Pool, o: ClaimOptions, user: User, filter: ClaimFilter): Promise<CaseRow | null> {
  const prio = prioritySql("$1");
  const params: unknown[] = [o.slaHours, user.id, o.claimTtlMinutes, filter.status ?? "open"];
  const extra: string[] = [];
  if (filter.category) {
    params.push(filter.category);
    extra.push(`category = $${params.length}`);
  }
  if (filter.source) {
    params.push(filter.source);
    extra.push(`source = $${params.length}`);
  }
  const { rows } = await pool.query(
    `UPDATE review_cases SET claimed_by = $2, claim_expires = now() + make_interval(mins => $3), updated_at = now()
      WHERE id = (SELECT id FROM review_cases
                   WHERE status = $4 AND (claimed_by IS NULL OR claim_expires < now())${extra.map((e) => ` AND ${e}`).join("")}
                   ORDER BY ${prio} DESC, opened_at ASC, id ASC LIMIT 1 FOR UPDATE SKIP LOCKED)
        AND (claimed_by IS NULL OR claim_expires < now())
      RETURNING id`,
    params,
  );
  const id = (rows[0] as { id: string } | undefined)?.id;
  return id ? getCase(pool, id) : null;
}

export async function release(pool: pg.Pool, id: string, user: User): Promise<void> {
  const { rowCount } = await pool.query(
    "UPDATE review_cases SET claimed_by = NULL, claim_expires = NULL, updated_at = now() WHERE id = $1 AND claimed_by = $2",
    [id, user.id],
  );
  if (!rowCount) {
    await getCase(pool, id);
    throw new ApiError("claim_required", `case ${id} is not claimed by you`);
  }
}

export const REVEAL_FIELDS = ["sender", "text", "reporters"] as const;
export type RevealField = (typeof REVEAL_FIELDS)[number];
export interface Revealed {
  readonly sender?: string;
  readonly text?: string;
}
/** Reveals one user may make per hour unless configured (REVEAL_RATE_LIMIT_PER_HOUR). */
export const DEFAULT_REVEALS_PER_HOUR = 20;

/**
 * A full number or a withheld text, for the reviewer working the case: the caller must hold an active
 * claim of it, give a reason, and stay under a per-user hourly limit; analysts never may. Every reveal
 * is written to the audit log with the reason, and so is every refused one.
 */
export async function reveal(pool: pg.Pool, limit: number, id: string, user: User, field: RevealField, reason: string): Promise<Revealed> {
  if (!mayReveal(user.role)) throw new ApiError("forbidden", "analysts work on masked data only: nothing can be revealed to them");
  if (reason.trim().length === 0) throw new ApiError("bad_request", "give a reason for the reveal", [{ path: "body.reason", message: "required" }]);
  // Reporters' numbers live only in the restricted contact store, out of the API's reach: review never needs them.
  if (field === "reporters") throw new ApiError("forbidden", "reporters' numbers are kept only in the restricted contact store");
  try {
    return await withTx(pool, async (tx) => {
      // One user's reveals run one at a time, so concurrent requests cannot slip past the limit.
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('reveal:' || $1::text))", [String(user.id)]);
      const { rows } = await tx.query(`${SELECT_CASE} WHERE c.id = $1`, [id]);
      if (!rows[0]) throw new ApiError("not_found", "no such case");
      const c = CaseRow.parse(rows[0]);
      if (!holdsClaim(c, user.id)) throw new ApiError("claim_required", "claim the case before revealing anything in it");
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
      await audit(pool, user, "reveal_refused", id, reason, { field, code: e.code });
    }
    throw e;
  }
}
