import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { repoPath, REPO_ROOT } from "@spam/repo-paths";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

// A package's index.ts lists what others use, nothing more: knip (knip.json) finds every export,
// file and dependency nothing uses, across all workspaces.
describe("unused code", () => {
  it("knip finds no unused export, type, file or dependency", async () => {
    const result = await run(process.execPath, [repoPath("node_modules/knip/bin/knip.js"), "--no-progress", "--no-exit-code"], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
    expect(result.stdout.trim()).toBe("");
  }, 180_000);
});
