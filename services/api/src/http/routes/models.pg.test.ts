import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { DEFAULT_PIPELINE_OPTIONS, serializeModel, trainModel } from "@spam/classifier";
import type { ModelControl } from "@spam/contracts";
import { ModelRegistry, type BacktestResult, type ShadowReport } from "@spam/learning";
import { listAudit } from "../../audit.js";
import { UserStore } from "../../auth/users.js";
import { migratePg } from "../../db/migrate.js";
import { createPool } from "../../db/pool.js";
import { createTestDatabase } from "../../testing/postgres.js";
import { testAppDeps } from "../../testing/app.js";
import { buildApp } from "../app.js";

const logger = pino({ level: "silent" });
const PW = "correct-horse-battery";
const opts = { ...DEFAULT_PIPELINE_OPTIONS, latinStack: null, calibrationFolds: 2, features: { ...DEFAULT_PIPELINE_OPTIONS.features, bits: 12 } };
function model(extra: string): string {
  const ex = (text: string, spam: boolean) => ({ text, raw: text, spam, category: null });
  return serializeModel(trainModel([ex("中奖了请点击链接领取", true), ex(extra, true), ex("代开发票", true), ex("明天开会带资料", false), ex("晚上回家吃饭", false), ex("快递到了", false)], opts));
}

const REPORT: ShadowReport = {
  models: [{ shadowModelVersion: "cand0123456789ab", shadowRulesetVersion: "", scored: 10, liveCalled: 2, shadowCalled: 3, shadowOnly: 1, liveOnly: 0, reviewed: { spam: 1, ham: 1, shadowCalledSpam: 1, shadowCalledHam: 1, liveCalledSpam: 1, liveCalledHam: 0 }, shadowPrecision: 0.5, livePrecision: 1 }],
  disagreements: [{ messageId: "m-1", receivedAt: 1_790_000_000_000, source: "13812345678", liveLabel: "ham", liveScore: 0.1, shadowModelVersion: "cand0123456789ab", shadowRulesetVersion: "", shadowLabel: "spam", shadowScore: 0.9, reviewed: "ham" }],
};

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let pool: ReturnType<typeof createPool>;
let dir: string;
let registry: ModelRegistry;
let app: FastifyInstance;
let bare: FastifyInstance;
const announced: ModelControl[] = [];
const backtests: { rules: string[]; days: number }[] = [];
let hold: Promise<void> | null = null;
const RESULT: BacktestResult = {
  rulesetVersion: "x", from: 0, to: 1, scanned: 100, hits: 2, distinctSenders: 1, campaigns: 0, reviewedSpam: 1, reviewedHam: 0, precisionEstimate: 1, hitsLiveAllowed: 1,
  byRule: [{ ruleId: "cand.zebra", hits: 2, reviewedSpam: 1, reviewedHam: 0 }],
  samples: [{ messageId: "m-1", receivedAt: 0, sender: "13812345678", text: "斑马灯笼 138******78", rules: ["cand.zebra"], liveLabel: "spam", reviewed: "spam" }],
  seconds: 0.1,
};
const RULE = "rules:\n  - id: cand.zebra\n    kind: keyword\n    keywords: [斑马灯笼]\n    score: 0.6\n    category: AD_Retail\n    action: flag\n    owner: t\n    version: 1\n    description: d\n";
const tokens: Record<string, string> = {};
let a = "";
let b = "";

async function signIn(target: FastifyInstance, username: string, n: number): Promise<string> {
  const res = await target.inject({ method: "POST", url: "/api/auth/login", payload: { username, password: PW }, remoteAddress: `10.9.0.${n}` });
  expect(res.statusCode).toBe(200);
  return res.json().token as string;
}
const as = (who: string) => ({ authorization: `Bearer ${tokens[who]}` });

beforeAll(async () => {
  db = await createTestDatabase("models");
  pool = createPool(db.url, 10);
  await migratePg(pool, logger);
  const users = new UserStore(pool, 3_600_000);
  for (const [username, role] of [["admin", "admin"], ["ana", "analyst"], ["rev", "reviewer"]] as const) await users.createUser({ username, role, password: PW });
  dir = await mkdtemp(join(tmpdir(), "models-api-"));
  registry = new ModelRegistry(dir);
  a = (await registry.add(model("网贷秒批"), {})).id;
  b = (await registry.add(model("刷单返利"), { metrics: { "holdout.tsv": { candidate: { recall: 0.9 }, live: { recall: 0.1 } } } })).id;
  const deps = testAppDeps(pool, users, { loginPerMinute: 50 });
  app = await buildApp({
    ...deps,
    models: {
      registry,
      shadow: { report: async () => REPORT },
      announce: async (c) => void announced.push(c),
      backtest: async (rules, days) => {
        backtests.push({ rules: rules.rules.map((r) => r.id), days });
        if (hold) await hold;
        return RESULT;
      },
    },
  });
  bare = await buildApp(deps);
  let n = 0;
  for (const u of ["admin", "ana", "rev"]) tokens[u] = await signIn(app, u, ++n);
  tokens["bare-admin"] = await signIn(bare, "admin", ++n);
});

afterAll(async () => {
  await app?.close();
  await bare?.close();
  await pool?.end();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("model routes: happy paths", () => {
  it("an admin promotes, shadows and rolls back; every scorer is told and the audit log says who and why", async () => {
    const p1 = await app.inject({ method: "POST", url: "/api/models/promote", headers: as("admin"), payload: { id: a, reason: "first live model" } });
    expect(p1.statusCode).toBe(200);
    expect(p1.json()).toEqual({ live: a, shadow: null, previous: null, announced: true });
    const sh = await app.inject({ method: "POST", url: "/api/models/shadow", headers: as("admin"), payload: { id: b, reason: "try the retrained one" } });
    expect(sh.json()).toMatchObject({ live: a, shadow: b });
    const p2 = await app.inject({ method: "POST", url: "/api/models/promote", headers: as("admin"), payload: { id: b, reason: "better on the holdout" } });
    expect(p2.json()).toEqual({ live: b, shadow: null, previous: a, announced: true });
    const rb = await app.inject({ method: "POST", url: "/api/models/rollback", headers: as("admin"), payload: { reason: "too many complaints" } });
    expect(rb.json()).toMatchObject({ live: a });
    expect(announced.map((c) => [c.command, c.live, c.shadow, c.requestedBy])).toEqual([
      ["models", a, null, "admin:admin"],
      ["models", a, b, "admin:admin"],
      ["models", b, null, "admin:admin"],
      ["models", a, null, "admin:admin"],
    ]);
    const log = await listAudit(pool, { limit: 10, username: "admin" });
    expect(log.filter((e) => e.action.startsWith("model_")).map((e) => [e.action, e.reason]).reverse()).toEqual([
      ["model_promote", "first live model"],
      ["model_shadow", "try the retrained one"],
      ["model_promote", "better on the holdout"],
      ["model_rollback", "too many complaints"],
    ]);
  });

  it("an analyst reads the registry: versions, cards with their evaluation, which is live, the history", async () => {
    const res = await app.inject({ url: "/api/models", headers: as("ana") });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.state.live).toBe(a);
    expect(body.models.find((m: { id: string }) => m.id === b).metrics).toEqual({ "holdout.tsv": { candidate: { recall: 0.9 }, live: { recall: 0.1 } } });
    expect(body.changes[0]).toMatchObject({ action: "rollback", by: "admin:admin" });
  });

  it("every console role sees the shadow report", async () => {
    for (const who of ["admin", "ana", "rev"]) {
      const res = await app.inject({ url: "/api/models/shadow-report", headers: as(who) });
      expect(res.statusCode, who).toBe(200);
      expect(res.json().models[0]).toMatchObject({ shadowModelVersion: "cand0123456789ab", shadowPrecision: 0.5, shadowCalled: 3 });
    }
  });
});

describe("rule backtest route", () => {
  const post = (who: string | null, payload: unknown) => app.inject({ method: "POST", url: "/api/rules/backtest", headers: who ? as(who) : {}, payload: payload as Record<string, unknown> });

  it("happy: an analyst backtests a candidate rule file; the compiled rules run over the days asked for", async () => {
    const res = await post("ana", { rules: RULE, days: 7 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ hits: 2, precisionEstimate: 1, byRule: [{ ruleId: "cand.zebra", hits: 2 }] });
    expect(backtests.at(-1)).toEqual({ rules: ["cand.zebra"], days: 7 });
  });

  it("error: a file that does not compile, an unsafe regex, too many days, or a second backtest at once", async () => {
    const bad = await post("ana", { rules: "rules:\n  - id: x\n    kind: keyword\n", days: 7 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain("candidate.yaml rule x");
    const unsafe = await post("ana", { rules: RULE.replace("kind: keyword\n    keywords: [斑马灯笼]", "kind: regex\n    patterns: ['(a+)+$']"), days: 7 });
    expect(unsafe.statusCode).toBe(400);
    expect((await post("ana", { rules: RULE, days: 31 })).statusCode).toBe(400);
    let release = () => {};
    hold = new Promise<void>((r) => (release = r));
    const first = post("admin", { rules: RULE, days: 1 });
    await new Promise((r) => setTimeout(r, 50));
    const second = await post("ana", { rules: RULE, days: 1 });
    expect(second.statusCode).toBe(409);
    release();
    hold = null;
    expect((await first).statusCode).toBe(200);
  });

  it("security: reviewers and anonymous callers cannot run one; senders leave masked", async () => {
    expect((await post("rev", { rules: RULE, days: 7 })).statusCode).toBe(403);
    expect((await post(null, { rules: RULE, days: 7 })).statusCode).toBe(401);
    const res = await post("admin", { rules: RULE, days: 7 });
    expect(res.body).not.toContain("13812345678");
    expect(res.json().samples[0].sender).toBe("138******78");
  });
});

describe("model routes: errors", () => {
  it("an unknown version is 404, a malformed id or missing reason 400, nothing to roll back to 409", async () => {
    const unknown = await app.inject({ method: "POST", url: "/api/models/promote", headers: as("admin"), payload: { id: "0123456789abcdef", reason: "because" } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.message).not.toContain(dir);
    expect((await app.inject({ method: "POST", url: "/api/models/promote", headers: as("admin"), payload: { id: "../../state", reason: "because" } })).statusCode).toBe(400);
    expect((await app.inject({ method: "POST", url: "/api/models/promote", headers: as("admin"), payload: { id: a } })).statusCode).toBe(400);
    const rb = await app.inject({ method: "POST", url: "/api/models/rollback", headers: as("admin"), payload: { reason: "again" } });
    expect(rb.statusCode).toBe(409);
    expect(rb.json().error.code).toBe("conflict");
  });

  it("without a registry or a verdict store the routes say so (503)", async () => {
    expect((await bare.inject({ url: "/api/models", headers: as("bare-admin") })).statusCode).toBe(503);
    expect((await bare.inject({ method: "POST", url: "/api/models/rollback", headers: as("bare-admin"), payload: { reason: "none" } })).statusCode).toBe(503);
    expect((await bare.inject({ url: "/api/models/shadow-report", headers: as("bare-admin") })).statusCode).toBe(503);
  });
});

describe("model routes: security", () => {
  it("only admins change the live model; reviewers do not read the registry; nobody anonymous", async () => {
    for (const who of ["ana", "rev"]) {
      for (const [url, payload] of [["/api/models/promote", { id: b, reason: "sneaky" }], ["/api/models/rollback", { reason: "sneaky" }], ["/api/models/shadow", { id: b, reason: "sneaky" }]] as const) {
        const res = await app.inject({ method: "POST", url, headers: as(who), payload });
        expect(res.statusCode, `${who} ${url}`).toBe(403);
      }
    }
    expect((await app.inject({ url: "/api/models", headers: as("rev") })).statusCode).toBe(403);
    for (const url of ["/api/models", "/api/models/shadow-report"]) expect((await app.inject(url)).statusCode).toBe(401);
    expect((await registry.state()).live).toBe(a);
  });

  it("the shadow report masks senders through @spam/privacy and carries no text", async () => {
    const res = await app.inject({ url: "/api/models/shadow-report", headers: as("rev") });
    expect(res.body).not.toContain("13812345678");
    expect(res.json().disagreements[0]).toMatchObject({ source: "138******78", liveLabel: "ham", shadowLabel: "spam", reviewed: "ham" });
    expect(res.json().disagreements[0]).not.toHaveProperty("text");
  });
});
