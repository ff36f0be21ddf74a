import { DEFAULT_PIPELINE_OPTIONS, type PipelineOptions, type Solver } from "@spam/classifier";
import { UsageError } from "./command.js";

/** Training knobs shared by `train` and `cv`. */
export const TRAIN_ARG_OPTIONS = {
  solver: { type: "string" },
  c: { type: "string" },
  "neg-weight": { type: "string" },
  bits: { type: "string" },
  "category-bits": { type: "string" },
  "category-as-spam": { type: "boolean" },
} as const;

function num(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number`);
  return n;
}

export function pipelineOptions(v: {
  solver?: string | undefined;
  c?: string | undefined;
  "neg-weight"?: string | undefined;
  bits?: string | undefined;
  "category-bits"?: string | undefined;
  "category-as-spam"?: boolean | undefined;
}): PipelineOptions {
  const d = DEFAULT_PIPELINE_OPTIONS;
  const solver = (v.solver ?? d.train.solver) as Solver;
  if (!["svm", "logreg", "nb"].includes(solver)) throw new UsageError("--solver must be svm, logreg or nb");
  const bits = num(v.bits, "bits", d.features.bits);
  if (!Number.isInteger(bits) || bits < 12 || bits > 24) throw new UsageError("--bits must be an integer 12…24");
  const categoryBits = Math.min(bits, num(v["category-bits"], "category-bits", d.categoryBits));
  if (!Number.isInteger(categoryBits) || categoryBits < 10) throw new UsageError("--category-bits must be an integer ≥ 10");
  return {
    ...d,
    features: { ...d.features, bits },
    categoryBits,
    train: { ...d.train, solver, C: num(v.c, "c", d.train.C), negativeWeight: num(v["neg-weight"], "neg-weight", d.train.negativeWeight) },
    categoryAsSpam: v["category-as-spam"] ?? d.categoryAsSpam,
  };
}

/** `--fixture-weight`: fixtures (SMS-like ham) count more than the web-text ham of the shared set. */
export function fixtureWeight(file: string, weight: number): number {
  return /fixtures\//.test(file.replace(/\\/g, "/")) ? weight : 1;
}
