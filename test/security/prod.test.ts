import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "@spam/repo-paths";

/**
 * Finding 8: production must refuse development secrets. Each real service process is started with
 * NODE_ENV=production and a development default; it must exit non-zero at once, naming the variable
 * and never printing its value. Brokers and databases point at a closed port: a service that does not
 * refuse would sit retrying its connections (and the test would see no exit).
 */
const CLOSED = "127.0.0.1:1";
const key = () => randomBytes(32).toString("hex");
/** Production-grade values: with these the guard has nothing to refuse. */
const SAFE = {
  NODE_ENV: "production",
  LOG_LEVEL: "error",
  KAFKA_BROKERS: CLOSED,
  CLICKHOUSE_URL: `http://spam_app:${key()}@${CLOSED}`,
  CLICKHOUSE_RESTRICTED_URL: `http://spam_restricted:${key()}@${CLOSED}`,
  DATABASE_URL: `postgres://review:${key()}@${CLOSED}/spam_api`,
  COOKIE_SECURE: "true",
  API_DEMO_PASSWORD: "",
  REPORTER_HASH_KEY: key(),
  SMPP_ACCOUNTS: `mo-link:${randomBytes(4).toString("hex")}:report+traffic:13*`,
  SMPP_PORT: "0",
  API_PORT: "0",
} as const;

interface Run {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a service until it exits or `timeoutMs` passes (then SIGKILL: code null). */
function run(service: string, env: Record<string, string | undefined>, timeoutMs = 8_000): Promise<Run> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, ...env })) if (v !== undefined) clean[k] = v;
  const child = spawn(process.execPath, [resolve(REPO_ROOT, `services/${service}/dist/main.js`)], { cwd: REPO_ROOT, env: clean, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (b: Buffer) => (output += b.toString()));
  child.stderr.on("data", (b: Buffer) => (output += b.toString()));
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

async function expectRefusal(service: string, env: Record<string, string | undefined>, variables: readonly string[], secrets: readonly string[]): Promise<void> {
  const r = await run(service, env);
  expect(r.code, `${service} should exit on its own, non-zero; output:\n${r.output.slice(-1500)}`).not.toBeNull();
  expect(r.code).not.toBe(0);
  expect(r.output).toContain("NODE_ENV=production");
  for (const v of variables) expect(r.output).toContain(v);
  for (const s of secrets) expect(r.output).not.toContain(s);
}

describe("production refuses development defaults (finding 8)", () => {
  it("gateway: the public reporter hash key and the demo SMPP account", async () => {
    await expectRefusal("gateway", { ...SAFE, REPORTER_HASH_KEY: undefined, SMPP_ACCOUNTS: "mo-link:mo-demo1:report+traffic:13*" }, ["REPORTER_HASH_KEY", "SMPP_ACCOUNTS"], [
      "dev-only-reporter-hash-key",
      "mo-demo1",
    ]);
  });

  it("gateway: a reporter hash key with less than 32 bytes of key material", async () => {
    const short = randomBytes(16).toString("hex");
    await expectRefusal("gateway", { ...SAFE, REPORTER_HASH_KEY: short }, ["REPORTER_HASH_KEY"], [short]);
  });

  it("api: default PostgreSQL password, demo users, insecure cookie, ClickHouse default user", async () => {
    await expectRefusal(
      "api",
      { ...SAFE, DATABASE_URL: `postgres://spam:spam@${CLOSED}/spam_api`, API_DEMO_PASSWORD: "demo-console-2026", COOKIE_SECURE: undefined, CLICKHOUSE_URL: `http://${CLOSED}` },
      ["DATABASE_URL", "API_DEMO_PASSWORD", "COOKIE_SECURE", "CLICKHOUSE_URL"],
      ["spam:spam", "demo-console-2026"],
    );
  });

  it("api: the PostgreSQL URL alone", async () => {
    await expectRefusal("api", { ...SAFE, DATABASE_URL: `postgres://spam:spam@${CLOSED}/spam_api` }, ["DATABASE_URL"], ["spam:spam"]);
  });

  it("decider: ClickHouse as `default` with an empty password", async () => {
    await expectRefusal("decider", { ...SAFE, CLICKHOUSE_URL: `http://${CLOSED}` }, ["CLICKHOUSE_URL"], []);
  });

  it("sink: ClickHouse as `default`, and the restricted store on a development password", async () => {
    await expectRefusal(
      "sink",
      { ...SAFE, CLICKHOUSE_URL: `http://${CLOSED}`, CLICKHOUSE_RESTRICTED_URL: `http://spam_restricted:dev-restricted-password@${CLOSED}` },
      ["CLICKHOUSE_URL", "CLICKHOUSE_RESTRICTED_URL"],
      ["dev-restricted-password"],
    );
  });

  it("decider: no restricted-store credentials of its own (it would read reporters' numbers as the platform's user)", async () => {
    await expectRefusal("decider", { ...SAFE, CLICKHOUSE_RESTRICTED_URL: undefined }, ["CLICKHOUSE_RESTRICTED_URL"], []);
  });

  it("a production-grade env is not refused (the guard is what stops the cases above)", async () => {
    // The decider then tries the closed broker port and keeps retrying: no refusal, no quick exit.
    const r = await run("decider", SAFE, 3_000);
    expect(r.output).not.toContain("NODE_ENV=production");
  });
});
