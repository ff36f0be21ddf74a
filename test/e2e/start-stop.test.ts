import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../support/index.js";
import { REPO_ROOT } from "@spam/repo-paths";

/**
 * `npm start` as an operator runs it, stopped the ways a terminal, a supervisor or a closing session
 * stops it: a signal to the top process (npm). Whatever the signal, every service it started must stop
 * (each drains) and the script must say so. The stack runs in a namespace of its own (topics, database,
 * ports, run directory) on the shared test servers, which it finds running and leaves running.
 */
const ROOT = REPO_ROOT;
const runId = process.env.TEST_RUN_ID ?? "local";
const dirs: string[] = [];
const pgServer = process.env.TEST_DATABASE_SERVER_URL;
const pgDatabases: string[] = [];

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function startStack(tag: string, overrides: NodeJS.ProcessEnv = {}): Promise<{ npm: ChildProcess; output: () => string; runDir: string; apiPort: number }> {
  const localDir = mkdtempSync(join(tmpdir(), `spam-start-${tag}-`));
  dirs.push(localDir);
  if (!pgServer) throw new Error("TEST_DATABASE_SERVER_URL must be set (the vitest global setup does this)");
  const pgDatabase = `start_${tag}_${runId}`.replace(/[^A-Za-z0-9_]/g, "_").toLowerCase();
  pgDatabases.push(pgDatabase);
  const databaseUrl = new URL(pgServer);
  databaseUrl.pathname = `/${pgDatabase}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl.toString(),
    LOCAL_DIR: localDir,
    TOPIC_PREFIX: `${runId}.start-${tag}.`,
    CLICKHOUSE_DATABASE: `start_${tag}_${runId}`.replace(/[^A-Za-z0-9_]/g, "_"),
    API_PORT: String(await freePort()),
    SMPP_PORT: String(await freePort()),
    SMSC_STUB_PORT: String(await freePort()),
    SINK_METRICS_PORT: String(await freePort()),
    DECIDER_METRICS_PORT: String(await freePort()),
    SCORER_METRICS_PORT: String(await freePort()),
    GATEWAY_METRICS_PORT: String(await freePort()),
    DEMO_FEED: "0",
    ...overrides,
  };
  delete env.npm_lifecycle_event;
  const npm = spawn("npm", ["start"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  npm.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  npm.stderr!.on("data", (b: Buffer) => (out += b.toString()));
  return { npm, output: () => out, runDir: join(localDir, "run"), apiPort: Number(env.API_PORT) };
}

const servicePids = (runDir: string): number[] =>
  readdirSync(runDir)
    .filter((f) => /^svc-.*\.pid$/.test(f))
    .map((f) => Number(readFileSync(join(runDir, f), "utf8").trim()));

afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (!pgServer || pgDatabases.length === 0) return;
  const client = new pg.Client({ connectionString: pgServer });
  await client.connect();
  try {
    for (const db of pgDatabases) await client.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
});

describe("npm start stops everything it started, whatever signal reaches npm", () => {
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    it(`${signal} to npm`, async () => {
      const { npm, output, runDir } = await startStack(signal.toLowerCase());
      try {
        await until("the platform to come up", () => output().includes("The spam platform is running"), 240_000);
        const pids = servicePids(runDir);
        expect(pids.length, output().slice(-2000)).toBe(6);
        expect(pids.every(isAlive)).toBe(true);
        npm.kill(signal);
        await until("npm to exit", () => npm.exitCode !== null || npm.signalCode !== null, 60_000);
        await until("every service to exit", () => !pids.some(isAlive), 90_000);
        await until("the start script to finish", () => output().includes("all stopped"), 30_000);
        expect(output()).not.toMatch(/did not stop within|killing/);
      } finally {
        if (npm.exitCode === null) npm.kill("SIGKILL");
        for (const pid of servicePids(runDir)) if (isAlive(pid)) process.kill(pid, "SIGKILL");
      }
    }, 420_000);
  }
});

describe("npm start relays the demo feed through the local SMSC stub", () => {
  it("forwards the legitimate messages, stops the spam, and the console counts both", async () => {
    const password = "relay-check-2026";
    const { npm, output, runDir, apiPort } = await startStack("relay", { DEMO_FEED: "1", API_DEMO_PASSWORD: password });
    try {
      await until("the platform to come up and the demo feed to be sent", () => output().includes("The spam platform is running"), 300_000);
      expect(output()).toMatch(/Relay mode \(gateway in front of the local SMSC stub\)/);
      const base = `http://127.0.0.1:${apiPort}`;
      const login = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "analyst", password }) });
      expect(login.status).toBe(200);
      const { token } = (await login.json()) as { token: string };
      let summary: { delivered: number; stopped: number; failOpen: number } = { delivered: 0, stopped: 0, failOpen: 0 };
      // The sink makes the delivery records visible within a few seconds.
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && (summary.delivered === 0 || summary.stopped === 0)) {
        const res = await fetch(`${base}/api/delivery/summary`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(200);
        summary = (await res.json()) as typeof summary;
        if (summary.delivered === 0 || summary.stopped === 0) await new Promise((r) => setTimeout(r, 1_000));
      }
      expect(summary.delivered, output().slice(-2000)).toBeGreaterThan(0);
      expect(summary.stopped, output().slice(-2000)).toBeGreaterThan(0);
    } finally {
      const pids = servicePids(runDir);
      npm.kill("SIGTERM");
      await until("npm to exit", () => npm.exitCode !== null || npm.signalCode !== null, 60_000).catch(() => undefined);
      await until("every service to exit", () => !pids.some(isAlive), 90_000).catch(() => undefined);
      if (npm.exitCode === null) npm.kill("SIGKILL");
      for (const pid of servicePids(runDir)) if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
  }, 480_000);
});
