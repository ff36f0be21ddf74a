import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_PASSWORD, type TestApp } from "../../testing/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp("routes_admin", { boss: "admin", rev: "reviewer", ana: "analyst", target: "reviewer" });
});
afterAll(async () => {
  await t?.close();
});

describe("admin routes: happy", () => {
  it("creates a user who can sign in, lists users, and audits the creation", async () => {
    const res = await t.app.inject({ method: "POST", url: "/api/admin/users", headers: t.as("boss"), payload: { username: "new.reviewer", displayName: "New", role: "reviewer", password: "a-long-password" } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ username: "new.reviewer", role: "reviewer" });
    const list = (await t.app.inject({ url: "/api/admin/users", headers: t.as("boss") })).json() as { items: { username: string }[] };
    expect(list.items.map((u) => u.username)).toContain("new.reviewer");
    const login = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "new.reviewer", password: "a-long-password" } });
    expect(login.statusCode).toBe(200);
    const audit = (await t.app.inject({ url: "/api/admin/audit?action=create_user", headers: t.as("boss") })).json() as { items: { target: string }[] };
    expect(audit.items.map((a) => a.target)).toContain("new.reviewer");
  });

  it("disables and enables a user with either body shape", async () => {
    expect((await t.app.inject({ method: "PATCH", url: "/api/admin/users/target", headers: t.as("boss"), payload: { disabled: true } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: "PATCH", url: "/api/admin/users/target", headers: t.as("boss"), payload: { disabled: false, password: "another-long-pw" } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: "PATCH", url: "/api/admin/users/target", headers: t.as("boss"), payload: { password: TEST_PASSWORD } })).statusCode).toBe(200);
  });
});

describe("admin routes: error", () => {
  it("refuses unknown properties, a taken name and an empty change with the closed body", async () => {
    const extra = await t.app.inject({ method: "POST", url: "/api/admin/users", headers: t.as("boss"), payload: { username: "extra.one", role: "reviewer", password: "a-long-password", admin: true } });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().error).toMatchObject({ code: "bad_request", message: "invalid input" });
    const taken = await t.app.inject({ method: "POST", url: "/api/admin/users", headers: t.as("boss"), payload: { username: "rev", role: "reviewer", password: "a-long-password" } });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe("conflict");
    expect((await t.app.inject({ method: "PATCH", url: "/api/admin/users/rev", headers: t.as("boss"), payload: {} })).statusCode).toBe(400);
    expect((await t.app.inject({ method: "PATCH", url: "/api/admin/users/rev", headers: t.as("boss"), payload: { disabled: "yes" } })).statusCode).toBe(400);
  });

  it("answers unknown users and sessions with 404, and a session id that is no UUID with 400", async () => {
    expect((await t.app.inject({ method: "PATCH", url: "/api/admin/users/nobody", headers: t.as("boss"), payload: { disabled: true } })).statusCode).toBe(404);
    expect((await t.app.inject({ method: "DELETE", url: `/api/admin/users/rev/sessions/${crypto.randomUUID()}`, headers: t.as("boss") })).statusCode).toBe(404);
    expect((await t.app.inject({ method: "DELETE", url: "/api/admin/users/rev/sessions/123", headers: t.as("boss") })).statusCode).toBe(400);
  });
});

describe("admin routes: security", () => {
  it("is for admins only: 401 anonymous, 403 for other roles, before the body is looked at", async () => {
    const payload = { username: "sneaky", role: "admin", password: "a-long-password" };
    expect((await t.app.inject({ method: "POST", url: "/api/admin/users", payload })).statusCode).toBe(401);
    for (const who of ["rev", "ana"]) {
      expect((await t.app.inject({ method: "POST", url: "/api/admin/users", headers: t.as(who), payload })).statusCode).toBe(403);
      expect((await t.app.inject({ url: "/api/admin/audit", headers: t.as(who) })).statusCode).toBe(403);
    }
  });

  it("an admin cannot disable themselves: 403, and the account stays usable", async () => {
    const res = await t.app.inject({ method: "PATCH", url: "/api/admin/users/boss", headers: t.as("boss"), payload: { disabled: true } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe("forbidden");
    expect((await t.app.inject({ url: "/api/admin/users", headers: t.as("boss") })).statusCode).toBe(200);
  });
});
