import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginAs as login, startHarness, type Harness } from "./harness.js";
import { REPO_ROOT } from "@spam/repo-paths";

/**
 * The console's Models page in Chromium: an admin promotes a registered version with a reason; an
 * analyst sees the registry but cannot change it, and backtests a candidate rule file; a reviewer
 * sees neither. Under the console's CSP, with no script error.
 */
const run = promisify(execFile);
const ROOT = REPO_ROOT;
const CLI = join(ROOT, "packages/cli/dist/main.js");
const FIXTURE = join(ROOT, "packages/classifier/fixtures/train.tsv");
let h: Harness;
let work: string;
let registry: string;
const ids: string[] = [];
// Without broker settings: the setup's promotion must not reach the shared, unprefixed control topic.
const { KAFKA_BROKERS: _brokers, TOPIC_PREFIX: _prefix, ...cliEnv } = process.env;
const spam = async (...args: string[]) => (await run(process.execPath, [CLI, ...args], { cwd: ROOT, env: cliEnv, maxBuffer: 64 * 1024 * 1024 })).stdout;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "models-browser-"));
  registry = join(work, "registry");
  for (const [name, extra] of [["base", []], ["cand", ["--c", "1"]]] as const) {
    const out = JSON.parse(await spam("train", "--data", FIXTURE, "--out", join(work, `${name}.json`), "--no-embedding", ...extra)) as { modelVersion: string };
    ids.push(out.modelVersion);
    await spam("models", "add", "--model", join(work, `${name}.json`), "--registry", registry);
  }
  await spam("models", "promote", ids[0]!, "--registry", registry, "--by", "setup");
  h = await startHarness(
    "models",
    [
      { username: "reviewer1", displayName: "审核员", role: "reviewer" },
      { username: "analyst1", displayName: "分析师", role: "analyst" },
      { username: "admin1", displayName: "管理员", role: "admin" },
    ],
    { env: { MODEL_REGISTRY_DIR: registry } },
  );
  const fmt = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");
  await h.ch?.insert(
    "traffic_raw",
    [1, 2, 3].map((i) => ({ id: `bt-${i}`, received_at: fmt(Date.now() - i * 3_600_000), inserted_at: fmt(Date.now()), gateway_id: "gw", account: "a", source: `1380000000${i}`, destination: "13900000000", text: i < 3 ? `斑马灯笼特价 ${i}` : "明天开会", data_coding: 8, parts: 1, partial: 0 })),
  );
}, 180_000);

afterAll(async () => {
  await h?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Opens the Models page as `username`, collecting script errors and CSP violations. */
async function open(username: string): Promise<{ page: Page; errors: string[] }> {
  const page = await h.browser.context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  // Answers the page had to show as errors (the browser's own favicon request aside).
  page.on("response", (r) => {
    if (r.status() >= 400 && !r.url().endsWith("/favicon.ico")) errors.push(`${r.status()} ${r.url()}`);
  });
  await login(page, h.base, username);
  await page.goto(`${h.base}/models`);
  await page.waitForSelector("[data-testid=shadow-table], [data-testid=models-table], [data-testid=page-error]");
  return { page, errors };
}

describe("console: Models page", () => {
  it("an admin promotes a version with a reason; the registry, the scorers' state and the audit log follow", async () => {
    const { page, errors } = await open("admin1");
    const row = (id: string) => page.locator(`[data-model="${id}"]`);
    await expect(row(ids[0]!).locator(".tag").textContent()).resolves.toBeTruthy();
    await row(ids[1]!).locator("[data-testid=model-promote]").click();
    expect((await readFile(join(registry, "state.json"), "utf8")).includes(`"live": "${ids[1]}"`)).toBe(false); // no reason, no change
    await page.fill("#model-reason", "better on the held-out weeks");
    await row(ids[1]!).locator("[data-testid=model-promote]").click();
    await page.waitForSelector(`[data-model="${ids[1]}"] .tag`);
    const state = JSON.parse(await readFile(join(registry, "state.json"), "utf8")) as { live: string; changes: { by: string }[] };
    expect(state.live).toBe(ids[1]);
    expect(state.changes.at(-1)!.by).toBe("admin:admin1");
    const audit = await h.pool.query("SELECT action, reason FROM audit_log WHERE action = 'model_promote'");
    expect(audit.rows).toEqual([{ action: "model_promote", reason: "better on the held-out weeks" }]);
    expect(errors, errors.join("\n")).toEqual([]);
    await page.close();
  });

  it("an analyst reads the registry without controls and backtests a candidate rule file", async () => {
    const { page, errors } = await open("analyst1");
    expect(await page.locator("[data-testid=models-table] tbody tr").count()).toBe(2);
    expect(await page.locator("[data-testid=model-promote]").count()).toBe(0);
    expect(await page.locator("#model-reason").count()).toBe(0);
    await page.fill("#bt-rules", "rules:\n  - id: cand.zebra\n    kind: keyword\n    keywords: [斑马灯笼]\n    score: 0.6\n    category: AD_Retail\n    action: flag\n    owner: t\n    version: 1\n    description: d\n");
    await page.click("[data-testid=backtest-run]");
    const result = page.locator("[data-testid=backtest-result]");
    await page.waitForFunction(() => !document.querySelector("[data-testid=backtest-result]")?.textContent?.includes("…"));
    if (h.ch) {
      await expect(result.textContent()).resolves.toContain("cand.zebra");
      expect(await result.textContent()).not.toContain("13800000001");
    }
    expect(errors, errors.join("\n")).toEqual([]);
    await page.close();
  });

  it("a reviewer sees the shadow figures only: no registry, no backtest", async () => {
    const { page, errors } = await open("reviewer1");
    expect(await page.locator("[data-testid=models-table]").count()).toBe(0);
    expect(await page.locator("[data-testid=backtest-run]").count()).toBe(0);
    expect(errors, errors.join("\n")).toEqual([]);
    await page.close();
  });
});
