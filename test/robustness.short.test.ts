import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "@spam/repo-paths";

/**
 * Short forms of the fault test and the SMPP and HTTP fuzzers (the long forms are
 * `pnpm --filter @spam/benchmarks fault` / `fuzz-smpp` / `fuzz-http`, see benchmarks/README.md).
 * Each runs the real tool as a child process: services are real processes too,
 * and the fault test uses a private Kafka broker and ClickHouse server on
 * ports of its own, so the shared servers other tests use are never touched.
 */
const ROOT = REPO_ROOT;

function runTool(script: string, args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [resolve(ROOT, "benchmarks/dist", script), ...args], { cwd: ROOT, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill("SIGINT"), timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolveRun({ code, output });
    });
  });
}

const built = existsSync(resolve(ROOT, "benchmarks/dist/fault.js"));

describe.skipIf(!built)("robustness (short forms)", () => {
  it("SMPP fuzzer: 20,000 random and mutated PDUs; the gateway never crashes or hangs and keeps serving a good session", async () => {
    const { code, output } = await runTool("fuzz-smpp.js", ["--spawn", "--iterations", "20000"], 240_000);
    expect(output).toContain("PASS");
    expect(code).toBe(0);
  }, 300_000);

  it("HTTP fuzzer: every API route from its OpenAPI document, 100 property-based requests each; no 5xx, no unhandled rejection", async () => {
    // A fixed seed keeps npm test repeatable; the long form (`fuzz-http --runs 2000`) draws a new one each run.
    const { code, output } = await runTool("fuzz-http.js", ["--runs", "100", "--seed", "7"], 240_000);
    expect(output).toMatch(/\nPASS/);
    expect(code).toBe(0);
  }, 300_000);

  it("fault test: SIGTERM (clean stop) then SIGKILL each service, restart Kafka, stop ClickHouse; one verdict per accepted message, every report acknowledged and assessed", async () => {
    const { code, output } = await runTool("fault.js", ["--short"], 540_000);
    expect(output).toContain("accepted without a verdict (must be 0)");
    expect(output).toContain("of those not assessed by the decider (must be 0)");
    expect(output).toMatch(/\nPASS/);
    expect(code).toBe(0);
  }, 600_000);
});
