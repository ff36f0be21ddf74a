import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_PASSWORD, type TestApp } from "../../testing/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp("routes_auth", { ann: "reviewer", bob: "analyst" }, { loginPerMinute: 3 });
});
afterAll(async () => {
  await t?.close();
});

let client = 0;
// Each sign-in from its own address, so the per-address limit is only hit where a test means to.
const login = (payload: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method: "POST", url: "/api/auth/login", payload: payload as object, headers, remoteAddress: `10.9.0.${++client}` });

describe("auth routes: happy", () => {
  it("signs in with a token and an RFC 3339 expiry, and knows who I am", async () => {
    const res = await login({ username: "ann", password: TEST_PASSWORD });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { token: string; expiresAt: string; user: { username: string } };
    expect(Number.isNaN(Date.parse(body.expiresAt))).toBe(false);
    expect((await t.app.inject({ url: "/api/auth/me", headers: { authorization: `Bearer ${body.token}` } })).json()).toMatchObject({ username: "ann" });
  });
});

describe("auth routes: error", () => {
  it("answers no body, a malformed one, an extra property and a wrong password as documented", async () => {
    expect((await login(undefined)).statusCode).toBe(400);
    const extra = await login({ username: "ann", password: TEST_PASSWORD, remember: true });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().error.code).toBe("bad_request");
    const wrong = await login({ username: "ann", password: "not-the-password" });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe("unauthenticated");
  });

  it("a wrong current password is 403; a new one too short is 400", async () => {
    const wrong = await t.app.inject({ method: "POST", url: "/api/auth/password", headers: t.as("bob"), payload: { currentPassword: "nope-nope-nope", newPassword: "brand-new-password" } });
    expect(wrong.statusCode).toBe(403);
    const short = await t.app.inject({ method: "POST", url: "/api/auth/password", headers: t.as("bob"), payload: { currentPassword: TEST_PASSWORD, newPassword: "short" } });
    expect(short.statusCode).toBe(400);
    expect(short.json().error.fields[0].path).toBe("body.newPassword");
  });
});

describe("auth routes: security", () => {
  it("limits sign-ins per address with 429 rate_limited", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "ann", password: "wrong-wrong" }, remoteAddress: "10.9.9.9" })).statusCode);
    }
    expect(statuses).toContain(429);
    const limited = await t.app.inject({ method: "POST", url: "/api/auth/login", payload: { username: "ann", password: TEST_PASSWORD }, remoteAddress: "10.9.9.9" });
    expect(limited.json().error.code).toBe("rate_limited");
  });

  it("my session list and revocation need a session; another user's session id is 404 to me", async () => {
    expect((await t.app.inject({ url: "/api/sessions" })).statusCode).toBe(401);
    const bobs = (await t.app.inject({ url: "/api/sessions", headers: t.as("bob") })).json() as { items: { id: string }[] };
    const res = await t.app.inject({ method: "DELETE", url: `/api/sessions/${bobs.items[0]?.id}`, headers: t.as("ann") });
    expect(res.statusCode).toBe(404);
    expect((await t.app.inject({ url: "/api/auth/me", headers: t.as("bob") })).statusCode).toBe(200);
  });
});
