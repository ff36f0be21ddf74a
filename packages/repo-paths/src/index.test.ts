import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, repoPath } from "./index.js";

describe("repoPath", () => {
  it("finds the repository's own files from the package", () => {
    expect(existsSync(repoPath("pnpm-workspace.yaml"))).toBe(true);
    expect(existsSync(repoPath("rules", "policy.yaml"))).toBe(true);
  });

  it("is absolute and has no trailing slash", () => {
    expect(REPO_ROOT.startsWith("/")).toBe(true);
    expect(REPO_ROOT.endsWith("/")).toBe(false);
    expect(repoPath()).toBe(REPO_ROOT);
  });
});
