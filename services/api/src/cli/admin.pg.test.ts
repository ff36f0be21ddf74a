import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserStore } from "../auth/users.js";
import { createPool } from "../db/pool.js";
import { createDemoUsers } from "../demo-users.js";
import { createTestDatabase } from "../testing/postgres.js";
import { runAdminCli } from "./admin.js";

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const saved = { ...process.env };

beforeAll(async () => {
  db = await createTestDatabase("cli");
  process.env.DATABASE_URL = db.url;
});
afterAll(async () => {
  process.env = saved;
  await db?.drop();
});

describe("admin command", () => {
  it("creates the first admin, who can then sign in; refuses a duplicate and a short password", async () => {
    process.env.API_ADMIN_PASSWORD = "first-admin-password";
    expect(await runAdminCli(["create-user", "--username", "root.admin", "--role", "admin"])).toBe(0);
    expect(await runAdminCli(["create-user", "--username", "root.admin", "--role", "admin"])).toBe(1);
    process.env.API_ADMIN_PASSWORD = "short";
    expect(await runAdminCli(["create-user", "--username", "other", "--role", "reviewer"])).toBe(1);
    expect(await runAdminCli(["create-user"])).toBe(2);
    const pool = createPool(db.url, 2);
    try {
      const users = new UserStore(pool, 60_000);
      const session = await users.login("root.admin", "first-admin-password");
      expect(session?.user.role).toBe("admin");
      expect(await users.login("root.admin", "wrong-password")).toBeNull();
      const { rows } = await pool.query("SELECT password_hash FROM users WHERE username = 'root.admin'");
      expect(rows[0].password_hash).toMatch(/^scrypt\$131072\$8\$1\$/);
      // Demo users are only created into an empty table.
      expect(await createDemoUsers(users, "demo-password-1", pino({ level: "silent" }))).toBe(false);
    } finally {
      await pool.end();
    }
  });
});
