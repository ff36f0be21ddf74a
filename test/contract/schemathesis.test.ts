import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CaseStore, createPool, ingestVerdicts, type ClickHouse } from "@spam/api-service";
import { flaggedVerdict, seedClickHouse } from "@spam/api-service/testing";
import { REPO_ROOT } from "@spam/repo-paths";
import { createApiUser, startServiceProcess, testPgDatabase, type ServiceProcess, type TestPgDatabase } from "../support/index.js";

/**
 * The API's contract (issue 19): an independent OpenAPI fuzzer, schemathesis, runs against a real API
 * process (its own PostgreSQL database, a seeded ClickHouse database) signed in as an admin, with every
 * check: no server error, every status and body as documented, requests valid by the document accepted,
 * invalid ones rejected, 401 without a session, 405 with Allow for undocumented methods.
 */
const run = promisify(execFile);
const logger = pino({ level: "warn" });
const runId = (process.env.TEST_RUN_ID ?? `${process.pid}`).toLowerCase().replace(/[^a-z0-9_]/g, "_");
const ADMIN = "fuzz-admin";
const PASSWORD = "contract-fuzz-password";
/** Generated cases per operation: the whole run stays within about three minutes on two shared cores. */
const MAX_EXAMPLES = process.env.SCHEMATHESIS_MAX_EXAMPLES ?? "15";
/** A fixed seed: the same cases every run, so a failure reproduces; set SCHEMATHESIS_SEED to explore. */
const SEED = process.env.SCHEMATHESIS_SEED ?? "19";

let db: TestPgDatabase;
let ch: ClickHouse | null = null;
let api: ServiceProcess;
let base: string;
let work: string;

beforeAll(async () => {
  db = testPgDatabase("contract");
  const clickhouseUrl = process.env.CLICKHOUSE_URL;
  if (!clickhouseUrl) throw new Error("CLICKHOUSE_URL must be set (the vitest global setup does this)");
  const chDatabase = `api_contract_${runId}`;
  ch = await seedClickHouse(clickhouseUrl, chDatabase, logger);
  work = mkdtempSync(join(tmpdir(), "api-contract-"));
  api = startServiceProcess("api", {
    API_PORT: "0",
    DATABASE_URL: db.url,
    CLICKHOUSE_URL: clickhouseUrl,
    CLICKHOUSE_DATABASE: chDatabase,
    // An empty registry: the model routes answer as documented (404, 409), not 503 for a missing store.
    MODEL_REGISTRY_DIR: join(work, "models"),
    KAFKA_BROKERS: "",
    // The fuzzer signs in and changes passwords far more often than a person: the limits would leave
    // those routes' logic untested (their behaviour has route tests of its own).
    LOGIN_RATE_LIMIT_PER_MINUTE: "100000",
    LOGIN_LOCKOUT_THRESHOLD: "100",
  });
  base = String((await api.waitForLog((e) => e.msg === "api listening", 60_000)).url);
  await createApiUser(db.url, ADMIN, "admin", PASSWORD);
  await createApiUser(db.url, "fuzz-other", "reviewer", PASSWORD);
  // Cases the fuzzer can find, claim, reveal and decide (besides the random ids that are all 404).
  const pool = createPool(db.url, 2);
  try {
    const store = new CaseStore(pool, { slaHours: 48, claimTtlMinutes: 15, effects: { blockTtlMs: 86_400_000, shortCode: "10086999" } });
    await ingestVerdicts(store, [1, 2, 3].map((i) => flaggedVerdict({ messageId: `contract-${i}`, source: `1380013800${i}` })));
  } finally {
    await pool.end();
  }
}, 180_000);

afterAll(async () => {
  await api?.stop();
  await ch?.close();
  await db?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function signIn(): Promise<{ token: string; sessionId: string }> {
  const login = await fetch(`${base}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: ADMIN, password: PASSWORD }),
  });
  expect(login.status).toBe(200);
  const { token } = (await login.json()) as { token: string };
  const sessions = (await (await fetch(`${base}/api/sessions`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: { id: string; current: boolean }[] };
  const current = sessions.items.find((s) => s.current);
  if (!current) throw new Error("no current session listed");
  return { token, sessionId: current.id };
}

describe("the API's contract (schemathesis)", () => {
  it(
    "holds for every operation of the OpenAPI document with --checks all",
    async () => {
      const { stdout: installed } = await run("bash", [resolve(REPO_ROOT, "infra/bin/schemathesis.sh")], { timeout: 300_000 });
      const st = installed.trim().split("\n").pop() ?? "";
      const { token, sessionId } = await signIn();
      writeFileSync(
        join(work, "schemathesis.toml"),
        [
          "[dictionaries.cases]",
          `values = ["msg:contract-1", "msg:contract-2", "msg:contract-3"]`,
          "",
          "[[operations]]",
          `include-path-regex = "^/api/cases/"`,
          `parameters = { "path.id" = { dictionary = "cases", probability = 0.5 } }`,
          "",
        ].join("\n"),
      );
      const args = [
        "run",
        `${base}/openapi.json`,
        "--checks",
        "all",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        SEED,
        "--header",
        `Authorization: Bearer ${token}`,
        // Signing out would end the fuzzer's own session; the route tests cover it.
        "--exclude-path",
        "/api/auth/logout",
        "--request-timeout",
        "10",
        "--no-color",
        "--continue-on-failure",
      ];
      const child = spawn(st, args, {
        cwd: work,
        env: {
          ...process.env,
          SCHEMATHESIS_HOOKS: "schemathesis_hooks",
          PYTHONPATH: resolve(REPO_ROOT, "test/contract"),
          FUZZ_ADMIN: ADMIN,
          FUZZ_SESSION_ID: sessionId,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      const code = await new Promise<number | null>((r) => child.on("exit", r));
      const results = resolve(REPO_ROOT, "test-results");
      mkdirSync(results, { recursive: true });
      writeFileSync(join(results, "schemathesis.txt"), output);
      // The whole report on failure (test-results/schemathesis.txt keeps it too).
      expect(code, output.slice(-30_000)).toBe(0);
      expect(output).toMatch(/Tested: \d+/);
    },
    240_000,
  );
});
