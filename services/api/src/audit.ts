import type pg from "pg";
import { z } from "zod";
import type { User } from "./auth/users.js";

export const AuditEntry = z.object({
  id: z.coerce.number(),
  at: z.string(),
  username: z.string(),
  action: z.string(),
  target: z.string(),
  reason: z.string(),
  detail: z.record(z.unknown()),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export type AuditAction =
  | "login"
  | "login_failed"
  | "logout"
  | "reveal_number"
  | "reveal_text"
  | "reveal_refused"
  | "decide"
  | "export_csv"
  | "create_user"
  | "login_locked"
  | "set_password"
  | "disable_user"
  | "enable_user"
  | "revoke_session"
  | "revoke_sessions"
  | "model_promote"
  | "model_rollback"
  | "model_shadow";

type Queryable = Pick<pg.Pool, "query">;

export async function audit(
  db: Queryable,
  who: Pick<User, "id" | "username"> | { id: null; username: string },
  action: AuditAction,
  target: string,
  reason = "",
  detail: Record<string, unknown> = {},
): Promise<void> {
  await db.query("INSERT INTO audit_log (user_id, username, action, target, reason, detail) VALUES ($1, $2, $3, $4, $5, $6)", [
    who.id,
    who.username,
    action,
    target,
    reason,
    JSON.stringify(detail),
  ]);
}

export async function listAudit(
  db: Queryable,
  filter: { limit: number; before?: number | undefined; action?: string | undefined; username?: string | undefined },
): Promise<AuditEntry[]> {
  const { rows } = await db.query(
    `SELECT id, at, username, action, target, reason, detail FROM audit_log
      WHERE ($1::bigint IS NULL OR id < $1) AND ($2::text IS NULL OR action = $2) AND ($3::text IS NULL OR username = $3)
      ORDER BY id DESC LIMIT $4`,
    [filter.before ?? null, filter.action ?? null, filter.username ?? null, filter.limit],
  );
  return rows.map((r: { at: Date }) => AuditEntry.parse({ ...r, at: r.at.toISOString() }));
}
