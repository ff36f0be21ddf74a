import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import { repoPath } from "@spam/repo-paths";

const positive = z.number().positive();
const share = z.number().min(0).max(1);

const PolicyFile = z
  .object({
    windowHours: positive,
    verification: z.object({ lookbackHours: positive, minSimilarity: share }).strict(),
    reputation: z.object({ priorUpheld: z.number().nonnegative(), priorRejected: z.number().nonnegative(), minReputation: share }).strict(),
    autoBlock: z
      .object({
        minDistinctVerifiedReporters: z.number().int().min(1),
        minWeightedReporters: z.number().nonnegative(),
        minClassifierAgreement: share,
        minEstablishedReporters: z.number().int().min(1),
        velocityMinScore: share,
        velocityRulePrefix: z.string().min(1),
        velocityMinVerifiedReports: z.number().int().min(0),
      })
      .strict(),
    brigading: z.object({ minVerifiedShare: share, maxNewReporterShare: share }).strict(),
    block: z.object({ ttlHours: positive }).strict(),
    slaHours: positive,
    sweepIntervalSeconds: positive,
  })
  .strict();
export type Policy = z.infer<typeof PolicyFile>;

class PolicyError extends Error {
  override readonly name = "PolicyError";
}

export function parsePolicy(text: string, origin = "policy"): Policy {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    throw new PolicyError(`${origin}: invalid YAML: ${(e as Error).message}`);
  }
  const parsed = PolicyFile.safeParse(raw);
  if (!parsed.success) {
    throw new PolicyError(`${origin}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  }
  return parsed.data;
}

export function loadPolicy(path: string): Policy {
  return parsePolicy(readFileSync(path, "utf8"), path);
}

/** rules/policy.yaml of the repository (services run from the repo). */
export function defaultPolicyPath(): string {
  return repoPath("rules/policy.yaml");
}
