import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestVerdicts } from "../../review/intake.js";
import { startTestApp, type TestApp } from "../../testing/app.js";
import { flaggedVerdict } from "../../testing/fixtures.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp("routes_review", { rev: "reviewer", rev2: "reviewer", ana: "analyst" });
  await ingestVerdicts(t.cases, ["a", "b", "c", "d"].map((k, i) => flaggedVerdict({ messageId: `rr-${k}`, source: `1370013700${i}` })));
});
afterAll(async () => {
  await t?.close();
});

const claim = (id: string, who = "rev") => t.app.inject({ method: "POST", url: `/api/cases/${id}/claim`, headers: t.as(who) });
const decide = (id: string, payload: unknown, who = "rev") => t.app.inject({ method: "POST", url: `/api/cases/${id}/decide`, headers: t.as(who), payload: payload as object });

describe("review routes: happy", () => {
  it("decides each label with the body its document branch describes", async () => {
    await claim("msg:rr-a");
    expect((await decide("msg:rr-a", { label: "spam", category: "FR_Other" })).statusCode).toBe(200);
    await claim("msg:rr-b");
    expect((await decide("msg:rr-b", { label: "ham", category: null })).statusCode).toBe(200);
    await claim("msg:rr-c");
    expect((await decide("msg:rr-c", { label: "escalate", comment: "needs a second look" })).statusCode).toBe(200);
  });

  it("shows which model version's verdict flagged the case", async () => {
    const res = await t.app.inject({ url: "/api/cases/msg:rr-d", headers: t.as("rev") });
    expect(res.statusCode).toBe(200);
    expect(res.json().modelVersion).toBe("m1");
  });

  it("lists the queue within the documented bounds", async () => {
    const res = await t.app.inject({ url: "/api/queue?limit=200&maxAgeHours=87840", headers: t.as("rev") });
    expect(res.statusCode).toBe(200);
  });
});

describe("review routes: error", () => {
  it("names what each label needs, and refuses extra properties", async () => {
    await claim("msg:rr-d");
    const noCategory = await decide("msg:rr-d", { label: "spam" });
    expect(noCategory.statusCode).toBe(400);
    expect(noCategory.json().error.fields).toEqual([{ path: "body.category", message: "a spam decision needs a category" }]);
    const blank = await decide("msg:rr-d", { label: "escalate", comment: "   " });
    expect(blank.statusCode).toBe(400);
    expect(blank.json().error.fields[0].path).toBe("body.comment");
    expect((await decide("msg:rr-d", { label: "ham", verdict: "ham" })).statusCode).toBe(400);
    expect((await t.app.inject({ method: "POST", url: "/api/queue/claim-next", headers: t.as("rev"), payload: { status: "open", priority: 1 } })).statusCode).toBe(400);
  });

  it("a decided case is 409, an unknown one 404, an id outside the pattern 400", async () => {
    const again = await decide("msg:rr-a", { label: "ham" });
    expect(again.statusCode).toBe(409);
    expect((await t.app.inject({ url: "/api/cases/msg:nothing-here", headers: t.as("rev") })).statusCode).toBe(404);
    expect((await t.app.inject({ url: "/api/cases/has%20space", headers: t.as("rev") })).statusCode).toBe(400);
    expect((await t.app.inject({ url: "/api/queue?maxAgeHours=1e300", headers: t.as("rev") })).statusCode).toBe(400);
  });
});

describe("review routes: security", () => {
  it("analysts never claim or decide; a reason of spaces reveals nothing", async () => {
    expect((await claim("msg:rr-d", "ana")).statusCode).toBe(403);
    expect((await decide("msg:rr-d", { label: "ham" }, "ana")).statusCode).toBe(403);
    const reveal = await t.app.inject({ method: "POST", url: "/api/cases/msg:rr-d/reveal", headers: t.as("rev"), payload: { field: "sender", reason: "      " } });
    expect(reveal.statusCode).toBe(400);
    expect(reveal.body).not.toContain("13700137003");
  });

  it("a case claimed by another reviewer cannot be decided by me", async () => {
    const res = await decide("msg:rr-d", { label: "ham" }, "rev2");
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe("claim_required");
  });
});
