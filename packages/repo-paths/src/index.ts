import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The repository's root directory. Every package and service sits two levels below it and runs from
 * `src/` (tests) or `dist/` (build), both one level deeper, so the same relative step finds it from either.
 */
export const REPO_ROOT: string = fileURLToPath(new URL("../../../", import.meta.url)).replace(/\/$/, "");

/** An absolute path inside the repository, e.g. `repoPath("rules", "policy.yaml")`. */
export function repoPath(...segments: string[]): string {
  return join(REPO_ROOT, ...segments);
}
