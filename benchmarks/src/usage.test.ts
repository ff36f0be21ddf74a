import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { repoPath } from "@spam/repo-paths";

const run = promisify(execFile);
const dir = repoPath("benchmarks");
const scripts = (JSON.parse(readFileSync(`${dir}/package.json`, "utf8")) as { scripts: Record<string, string> }).scripts;
/** Each entry point once: `node dist/load.js --gateway-only` and `node dist/load.js` are one script. */
const entries = [...new Set(Object.values(scripts).map((command) => /^node (dist\/[\w.-]+\.js)/.exec(command)?.[1]).filter((e): e is string => e !== undefined))];

describe("benchmark scripts", () => {
  it("every built script is an entry of package.json (corpus.js is a library)", () => {
    const built = readdirSync(`${dir}/dist`).filter((f) => f.endsWith(".js") && !f.endsWith(".test.js") && f !== "corpus.js");
    expect(built.map((f) => `dist/${f}`).sort()).toEqual([...entries].sort());
  });

  it("each answers --help with its usage and exit 0, before it starts anything", async () => {
    const results = await Promise.all(
      entries.map(async (entry) => {
        const { stdout } = await run(process.execPath, [entry, "--help"], { cwd: dir, timeout: 30_000 });
        return { entry, stdout };
      }),
    );
    for (const { entry, stdout } of results) {
      expect(stdout, entry).toMatch(new RegExp(`^usage: (nice -n 10 )?node benchmarks/${entry.replace(/\./g, "\\.")}`));
    }
  }, 60_000);
});
