import { createHash, randomBytes } from "node:crypto";
import type pg from "pg";
import { z } from "zod";
import { ApiError } from "../errors.js";
import { dummyHash, hashPassword, needsRehash, verifyPassword } from "./password.js";

export const ROLES = ["reviewer", "analyst", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const User = z.object({
  id: z.coerce.number().int(),
  username: z.string(),
  displayName: z.string(),
  role: z.enum(ROLES),
});
export type User = z.infer<typeof User>;

const UserRow = z.object({
  id: z.coerce.number().int(),
  username: z.string(),
  display_name: z.string(),
  role: z.enum(ROLES),
});
const toUser = (row: unknown): User => {
  const r = UserRow.parse(row);
  return { id: r.id, username: r.username, displayName: r.display_name, role: r.role };
};

export const Username = z.string().regex(/^[a-z0-9_.-]{3,32}$/, "3-32 characters: a-z 0-9 _ . -");
export const Password = z.string().min(10, "at least 10 characters").max(200);

/** A session as its owner (or an admin) sees it: an opaque id, never the token. */
export const SessionInfo = z.object({
  id: z.string(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  expiresAt: z.string(),
  ip: z.string(),
  userAgent: z.string(),
  current: z.boolean(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export interface Session {
  readonly token: string;
  readonly expiresAt: Date;
  readonly user: User;
}

/** The account is locked after repeated failures; the caller may retry after `retryAfterSeconds`. */
export class AccountLockedError extends Error {
  override readonly name = "AccountLockedError";
  constructor(readonly retryAfterSeconds: number) {
    super("too many failed sign-ins for this account, try again later");
  }
}

export interface UserStoreOptions {
  /** A session unused for this long ends, whatever its absolute lifetime (ASVS 3.3.2). */
  readonly idleMs?: number;
  /** Consecutive failures before an account locks; each further failure doubles the lock. */
  readonly lockoutThreshold?: number;
  readonly lockoutBaseMs?: number;
  readonly lockoutMaxMs?: number;
}

// Writing last_seen_at on every request would turn reads into writes; a minute of slack is enough.
const TOUCH_EVERY_MS = 60_000;

export class UserStore {
  private readonly idleMs: number;
  private readonly lockoutThreshold: number;
  private readonly lockoutBaseMs: number;
  private readonly lockoutMaxMs: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly sessionTtlMs: number,
    options: UserStoreOptions = {},
  ) {
    this.idleMs = options.idleMs ?? 30 * 60_000;
    this.lockoutThreshold = options.lockoutThreshold ?? 5;
    this.lockoutBaseMs = options.lockoutBaseMs ?? 60_000;
    this.lockoutMaxMs = options.lockoutMaxMs ?? 3_600_000;
  }

  async createUser(input: { username: string; displayName?: string; role: Role; password: string }): Promise<User> {
    const username = Username.parse(input.username);
    Password.parse(input.password);
    const hash = await hashPassword(input.password);
    try {
      const { rows } = await this.pool.query(
        "INSERT INTO users (username, display_name, role, password_hash) VALUES ($1, $2, $3, $4) RETURNING id, username, display_name, role",
        [username, input.displayName ?? username, input.role, hash],
      );
      return toUser(rows[0]);
    } catch (e) {
      if ((e as { code?: string }).code === "23505") throw new ApiError("conflict", `user ${username} exists`);
      throw e;
    }
  }

  /** A new password ends every session of the user: whoever knew the old one is signed out. */
  async setPassword(username: string, password: string): Promise<void> {
    Password.parse(password);
    const hash = await hashPassword(password);
    const { rowCount } = await this.pool.query("UPDATE users SET password_hash = $2 WHERE username = $1", [username, hash]);
    if (!rowCount) throw new ApiError("not_found", `no user ${username}`);
    await this.revokeAllOf(username);
    await this.pool.query("DELETE FROM login_failures WHERE username = $1", [username]);
  }

  /**
   * A user changes their own password (ASVS 2.1.5/2.1.6): the current one is checked, counted like a
   * failed sign-in when wrong, and every other session of the user ends.
   */
  async changeOwnPassword(user: User, currentToken: string, current: string, next: string): Promise<void> {
    Password.parse(next);
    const lockedMs = await this.lockedForMs(user.username);
    if (lockedMs > 0) throw new AccountLockedError(Math.ceil(lockedMs / 1000));
    const { rows } = await this.pool.query<{ password_hash: string }>("SELECT password_hash FROM users WHERE id = $1", [user.id]);
    if (!rows[0] || !(await verifyPassword(current, rows[0].password_hash))) {
      await this.recordFailure(user.username);
      throw new ApiError("forbidden", "the current password is wrong");
    }
    await this.pool.query("UPDATE users SET password_hash = $2 WHERE id = $1", [user.id, await hashPassword(next)]);
    await this.pool.query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2", [user.id, tokenHash(currentToken)]);
  }

  /** Disabling ends every session at once; enabling lets the user sign in again. */
  async setDisabled(username: string, disabled: boolean): Promise<void> {
    const { rowCount } = await this.pool.query("UPDATE users SET disabled = $2 WHERE username = $1", [username, disabled]);
    if (!rowCount) throw new ApiError("not_found", `no user ${username}`);
    if (disabled) await this.revokeAllOf(username);
  }

  async list(): Promise<(User & { disabled: boolean; createdAt: string })[]> {
    const { rows } = await this.pool.query(
      "SELECT id, username, display_name, role, disabled, created_at FROM users ORDER BY username",
    );
    return rows.map((r: { disabled: boolean; created_at: Date }) => ({
      ...toUser(r),
      disabled: r.disabled,
      createdAt: r.created_at.toISOString(),
    }));
  }

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>("SELECT count(*) AS n FROM users");
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Returns a new session, or null for a wrong username or password (indistinguishable to the caller).
   * Throws AccountLockedError while the name is locked, for existing and unknown names alike.
   */
  async login(username: string, password: string, meta: { ip?: string; userAgent?: string } = {}): Promise<Session | null> {
    const lockedMs = await this.lockedForMs(username);
    if (lockedMs > 0) throw new AccountLockedError(Math.ceil(lockedMs / 1000));
    const { rows } = await this.pool.query(
      "SELECT id, username, display_name, role, password_hash, disabled FROM users WHERE username = $1",
      [username],
    );
    const row = rows[0] as { password_hash: string; disabled: boolean } | undefined;
    const ok = row ? await verifyPassword(password, row.password_hash) : await verifyPassword(password, await dummyHash()).then(() => false);
    if (!row || !ok || row.disabled) {
      await this.recordFailure(username);
      return null;
    }
    await this.pool.query("DELETE FROM login_failures WHERE username = $1", [username]);
    const user = toUser(row);
    if (needsRehash(row.password_hash)) {
      // Old hashes are upgraded while the password is at hand; the next login verifies the new one.
      await this.pool.query("UPDATE users SET password_hash = $2 WHERE id = $1", [user.id, await hashPassword(password)]);
    }
    const token = randomBytes(32).toString("base64url");
    const expiresAt = new Date(Date.now() + this.sessionTtlMs);
    await this.pool.query("INSERT INTO sessions (token_hash, user_id, expires_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5)", [
      tokenHash(token),
      user.id,
      expiresAt,
      (meta.ip ?? "").slice(0, 64),
      (meta.userAgent ?? "").slice(0, 256),
    ]);
    return { token, expiresAt, user };
  }

  private async lockedForMs(username: string): Promise<number> {
    const { rows } = await this.pool.query<{ ms: string | null }>(
      "SELECT EXTRACT(EPOCH FROM (locked_until - now())) * 1000 AS ms FROM login_failures WHERE username = $1 AND locked_until > now()",
      [username],
    );
    return rows[0]?.ms ? Math.max(0, Number(rows[0].ms)) : 0;
  }

  /** Counts a failure; from the threshold on, locks for base·2^(failures−threshold), capped. A quiet day forgets. */
  private async recordFailure(username: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO login_failures AS f (username, failures, last_failure_at) VALUES ($1, 1, now())
       ON CONFLICT (username) DO UPDATE SET
         failures = CASE WHEN f.last_failure_at < now() - interval '1 day' THEN 1 ELSE f.failures + 1 END,
         last_failure_at = now()`,
      [username.slice(0, 64)],
    );
    await this.pool.query(
      `UPDATE login_failures SET locked_until = now() + make_interval(secs => LEAST($3::double precision, $2::double precision * power(2, failures - $4)) / 1000)
        WHERE username = $1 AND failures >= $4`,
      [username.slice(0, 64), this.lockoutBaseMs, this.lockoutMaxMs, this.lockoutThreshold],
    );
  }

  /** The signed-in user of a live session; touches its idle clock. Null for unknown, expired, idle or disabled. */
  async authenticate(token: string): Promise<User | null> {
    const { rows } = await this.pool.query(
      `SELECT u.id, u.username, u.display_name, u.role, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => $2::double precision / 1000) AND NOT u.disabled`,
      [tokenHash(token), this.idleMs],
    );
    const row = rows[0] as { last_seen_at: Date } | undefined;
    if (!row) return null;
    if (Date.now() - row.last_seen_at.getTime() > TOUCH_EVERY_MS) {
      await this.pool.query("UPDATE sessions SET last_seen_at = now() WHERE token_hash = $1", [tokenHash(token)]);
    }
    return toUser(row);
  }

  async logout(token: string): Promise<void> {
    await this.pool.query("DELETE FROM sessions WHERE token_hash = $1", [tokenHash(token)]);
  }

  /** Live sessions of a user, newest first; `current` marks the one `token` belongs to. */
  async sessionsOf(userId: number, currentToken: string | null): Promise<SessionInfo[]> {
    const { rows } = await this.pool.query(
      `SELECT id::text, created_at, last_seen_at, expires_at, ip, user_agent, token_hash = $2 AS current FROM sessions
        WHERE user_id = $1 AND expires_at > now() AND last_seen_at > now() - make_interval(secs => $3::double precision / 1000)
        ORDER BY created_at DESC`,
      [userId, currentToken ? tokenHash(currentToken) : "", this.idleMs],
    );
    return rows.map((r: { id: string; created_at: Date; last_seen_at: Date; expires_at: Date; ip: string; user_agent: string; current: boolean }) => ({
      id: r.id,
      createdAt: r.created_at.toISOString(),
      lastSeenAt: r.last_seen_at.toISOString(),
      expiresAt: r.expires_at.toISOString(),
      ip: r.ip,
      userAgent: r.user_agent,
      current: r.current,
    }));
  }

  async userId(username: string): Promise<number> {
    const { rows } = await this.pool.query<{ id: string }>("SELECT id FROM users WHERE username = $1", [username]);
    if (!rows[0]) throw new ApiError("not_found", `no user ${username}`);
    return Number(rows[0].id);
  }

  /** Ends one session of a user; false when the user has no such session. */
  async revoke(userId: number, sessionId: string): Promise<boolean> {
    if (!z.string().uuid().safeParse(sessionId).success) return false;
    const { rowCount } = await this.pool.query("DELETE FROM sessions WHERE user_id = $1 AND id = $2", [userId, sessionId]);
    return (rowCount ?? 0) > 0;
  }

  async revokeAllOf(username: string): Promise<number> {
    const { rowCount } = await this.pool.query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)", [username]);
    return rowCount ?? 0;
  }

  async purgeExpiredSessions(): Promise<number> {
    const { rowCount } = await this.pool.query(
      "DELETE FROM sessions WHERE expires_at < now() OR last_seen_at < now() - make_interval(secs => $1::double precision / 1000)",
      [this.idleMs],
    );
    await this.pool.query("DELETE FROM login_failures WHERE last_failure_at < now() - interval '1 day' AND (locked_until IS NULL OR locked_until < now())");
    return rowCount ?? 0;
  }
}
