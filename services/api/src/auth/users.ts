import { createHash, randomBytes } from "node:crypto";
import type pg from "pg";
import { z } from "zod";
import { ApiError } from "../errors.js";
import { dummyHash, hashPassword, verifyPassword } from "./password.js";

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

function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export interface Session {
  readonly token: string;
  readonly expiresAt: Date;
  readonly user: User;
}

export class UserStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly sessionTtlMs: number,
  ) {}

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

  async setPassword(username: string, password: string): Promise<void> {
    Password.parse(password);
    const hash = await hashPassword(password);
    const { rowCount } = await this.pool.query("UPDATE users SET password_hash = $2 WHERE username = $1", [username, hash]);
    if (!rowCount) throw new ApiError("not_found", `no user ${username}`);
    await this.pool.query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = $1)", [username]);
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

  /** Returns a new session, or null for a wrong username or password (indistinguishable to the caller). */
  async login(username: string, password: string): Promise<Session | null> {
    const { rows } = await this.pool.query(
      "SELECT id, username, display_name, role, password_hash, disabled FROM users WHERE username = $1",
      [username],
    );
    const row = rows[0] as { password_hash: string; disabled: boolean } | undefined;
    if (!row) {
      await verifyPassword(password, await dummyHash());
      return null;
    }
    const ok = await verifyPassword(password, row.password_hash);
    if (!ok || row.disabled) return null;
    const user = toUser(row);
    const token = randomBytes(32).toString("base64url");
    const expiresAt = new Date(Date.now() + this.sessionTtlMs);
    await this.pool.query("INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)", [
      tokenHash(token),
      user.id,
      expiresAt,
    ]);
    return { token, expiresAt, user };
  }

  async authenticate(token: string): Promise<User | null> {
    const { rows } = await this.pool.query(
      `SELECT u.id, u.username, u.display_name, u.role FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.expires_at > now() AND NOT u.disabled`,
      [tokenHash(token)],
    );
    return rows[0] ? toUser(rows[0]) : null;
  }

  async logout(token: string): Promise<void> {
    await this.pool.query("DELETE FROM sessions WHERE token_hash = $1", [tokenHash(token)]);
  }

  async purgeExpiredSessions(): Promise<number> {
    const { rowCount } = await this.pool.query("DELETE FROM sessions WHERE expires_at < now()");
    return rowCount ?? 0;
  }
}
