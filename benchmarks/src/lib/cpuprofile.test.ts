import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { repoPath } from "@spam/repo-paths";
import { categorize, summarizeProfile, type CpuProfile } from "./cpuprofile.js";

const PNPM = "file:///repo/node_modules/.pnpm";

describe("categorize", () => {
  it("puts each frame where a change to the hot path would have to win it", () => {
    expect(categorize("(garbage collector)", "")).toEqual({ category: "garbage collector" });
    expect(categorize("_parse", `${PNPM}/zod@3.25.76/node_modules/zod/v3/types.js`).category).toBe("record codec (JSON + zod)");
    expect(categorize("decodeRecord", "file:///repo/packages/kafka/dist/records.js").category).toBe("record codec (JSON + zod)");
    expect(categorize("encodeValue", "file:///repo/packages/kafka/dist/producer.js").category).toBe("record codec (JSON + zod)");
    expect(categorize("#pushRecords", `${PNPM}/@platformatic+kafka@2.12.1/node_modules/@platformatic/kafka/dist/clients/consumer/messages-stream.js`).category).toBe("kafka client");
    expect(categorize("PDU._filter", `${PNPM}/smpp@0.6.0/node_modules/smpp/lib/pdu.js`).category).toBe("smpp library");
    expect(categorize("encodeJSON", `${PNPM}/@clickhouse+client@1.0.0/node_modules/@clickhouse/client-common/dist/formatter.js`).category).toBe("clickhouse client");
    expect(categorize("write", `${PNPM}/pino@9.0.0/node_modules/pino/lib/proto.js`).category).toBe("logging");
    expect(categorize("writeBuffer", "")).toEqual({ category: "socket writes" });
    expect(categorize("debounce", `${PNPM}/lodash@4.17.21/node_modules/lodash/debounce.js`).category).toBe("other dependencies");
    expect(categorize("emit", "node:events").category).toBe("node core");
    expect(categorize("parse", "")).toEqual({ category: "native and builtins" });
  });

  it("names the project's package or service, and does not take another package's function of the same name for the codec", () => {
    expect(categorize("score", "file:///repo/packages/scoring/dist/scorer.js")).toEqual({ category: "project code", part: "packages/scoring" });
    expect(categorize("handle", "file:///repo/services/sink/dist/rows.js")).toEqual({ category: "project code", part: "services/sink" });
    expect(categorize("encodeValue", "file:///repo/packages/clickhouse/dist/values.js")).toEqual({ category: "project code", part: "packages/clickhouse" });
    // A dependency that happens to sit under a folder named packages/ is still a dependency.
    expect(categorize("f", `${PNPM}/x@1.0.0/node_modules/x/packages/core/dist/a.js`).category).toBe("other dependencies");
  });
});

const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: { functionName: "(root)", url: "" } },
    { id: 2, callFrame: { functionName: "(idle)", url: "" } },
    { id: 3, callFrame: { functionName: "(garbage collector)", url: "" } },
    { id: 4, callFrame: { functionName: "decodeRecord", url: "file:///repo/packages/kafka/dist/records.js" } },
    { id: 5, callFrame: { functionName: "score", url: "file:///repo/packages/scoring/dist/scorer.js" } },
  ],
  samples: [2, 3, 4, 4, 5, 5, 5, 2],
  timeDeltas: [1000, 100, 100, 100, 100, 100, 100, 3000],
};

describe("summarizeProfile", () => {
  it("shares the busy time by category and leaves idle time out of it", () => {
    const s = summarizeProfile(profile);
    expect(s.busySeconds).toBeCloseTo(0.0006, 9);
    expect(s.idleSeconds).toBeCloseTo(0.004, 9);
    expect(s.categories).toEqual([
      { category: "project code", share: 0.5 },
      { category: "record codec (JSON + zod)", share: expect.closeTo(1 / 3, 9) },
      { category: "garbage collector", share: expect.closeTo(1 / 6, 9) },
    ]);
    expect(s.projectParts).toEqual([{ part: "packages/scoring", share: 0.5 }]);
    expect(s.topFunctions[0]).toEqual({ name: "score packages/scoring/dist/scorer.js", share: 0.5 });
  });

  it("keeps the top functions to the number asked for", () => {
    expect(summarizeProfile(profile, 1).topFunctions).toHaveLength(1);
  });
});

describe("cpu-profile.js", () => {
  const script = repoPath("benchmarks/dist/cpu-profile.js");
  const run = promisify(execFile);
  /** A fresh folder for one test's profiles, removed after it. */
  const inTempDir = async (body: (dir: string) => Promise<void>) => {
    const dir = mkdtempSync(join(tmpdir(), "cpuprof-"));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("names each profile after its service from the run file and prints its categories", async () =>
    inTempDir(async (dir) => {
      writeFileSync(join(dir, "CPU.20261207.161723.4242.0.001.cpuprofile"), JSON.stringify(profile));
      writeFileSync(join(dir, "run.json"), JSON.stringify({ processes: [{ name: "scorer-1", pid: 4242 }] }));
      const { stdout } = await run(process.execPath, [script, "--dir", dir, "--run", join(dir, "run.json")]);
      expect(stdout).toMatch(/^== scorer-1 \(CPU\.20261207\.161723\.4242\.0\.001\.cpuprofile\): main thread busy 0\.0 s/);
      expect(stdout).toContain(" 50.0 %  project code");
      expect(stdout).toContain(" 33.3 %  record codec (JSON + zod)");
    }));

  it("skips a file that is not JSON or not a CPU profile, saying so, and still summarises the rest", async () =>
    inTempDir(async (dir) => {
      writeFileSync(join(dir, "CPU.20261207.161723.1.0.001.cpuprofile"), "{not json");
      writeFileSync(join(dir, "CPU.20261207.161723.2.0.001.cpuprofile"), JSON.stringify({ nodes: "x" }));
      writeFileSync(
        join(dir, "CPU.20261207.161723.3.0.001.cpuprofile"),
        JSON.stringify({ ...profile, nodes: [...profile.nodes, { id: 9, callFrame: { functionName: 7 } }], samples: [...profile.samples, 9], timeDeltas: [...profile.timeDeltas, 100] }),
      );
      const { stdout } = await run(process.execPath, [script, "--dir", dir]);
      expect(stdout).toMatch(/CPU\.20261207\.161723\.1\.0\.001\.cpuprofile: unreadable \(.+\), skipped/);
      expect(stdout).toContain("CPU.20261207.161723.2.0.001.cpuprofile: not a V8 CPU profile (no nodes, samples and timeDeltas arrays), skipped");
      expect(stdout).toContain("== pid 3 (CPU.20261207.161723.3.0.001.cpuprofile): main thread busy 0.0 s");
      expect(stdout).toContain(" 50.0 %  project code");
    }));

  it("stops quietly when its reader goes away (cpu-profile.js … | head -1)", async () =>
    inTempDir(async (dir) => {
      // Enough output to outlast the pipe's buffer after the reader has gone.
      for (let pid = 1; pid <= 400; pid++) writeFileSync(join(dir, `CPU.20261207.161723.${pid}.0.001.cpuprofile`), JSON.stringify(profile));
      const child = spawn(process.execPath, [script, "--dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      child.stdout.once("data", () => child.stdout.destroy());
      const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
      expect(err).toBe("");
      expect(code).toBe(0);
    }));

  it("says so and exits 2 when the folder holds no profile", async () =>
    inTempDir(async (dir) => {
      const failed = await run(process.execPath, [script, "--dir", dir]).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(failed?.code).toBe(2);
      expect(failed?.stderr).toContain(`no .cpuprofile files in ${dir}`);
    }));
});
