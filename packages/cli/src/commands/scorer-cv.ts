import { writeFile } from "node:fs/promises";
import { assignFolds, binaryMetrics, type BinaryMetrics, loadModelFromString, serializeModel, trainModel, type Example, type PipelineOptions, type ProgressFn } from "@spam/classifier";
import type { Verdict } from "@spam/contracts";
import { createScorer, type RuleEngine, type Thresholds } from "@spam/scoring";
import { classFigures, type ClassFigures, type Outcome } from "./classes.js";

/** One out-of-fold verdict of the deployed scorer, for choosing thresholds. */
export interface OutOfFold {
  readonly spam: boolean;
  /** The model's calibrated probability. */
  readonly p: number;
  readonly verdict: Verdict;
}

/**
 * k-fold CV of the whole scorer as deployed: each fold trains a full model on the other folds of
 * `target` plus every `extra` row, and the scorer (with `ruleSet`) scores the held-out fold.
 */
export function scorerCrossValidate(
  target: readonly Example[],
  extra: readonly Example[],
  opts: PipelineOptions,
  ruleSet: RuleEngine | null,
  thresholds: Partial<Thresholds> | undefined,
  k: number,
  seed: number,
  progress?: ProgressFn,
): OutOfFold[] {
  const foldOf = assignFolds(target, k, seed);
  const out = new Array<OutOfFold>(target.length);
  for (let f = 0; f < k; f++) {
    progress?.("scorer folds", f, k);
    const train = [...target.filter((_, i) => foldOf[i] !== f), ...extra];
    const model = loadModelFromString(serializeModel(trainModel(train, opts)));
    const scorer = createScorer({ ruleSet, model, ...(thresholds ? { thresholds } : {}) });
    target.forEach((e, i) => {
      if (foldOf[i] !== f) return;
      const raw = e.raw ?? e.text;
      const p = model.predict(e.text, raw).spamProbability;
      out[i] = { spam: e.spam, p, verdict: scorer.score({ id: `cv-${i}`, text: raw, source: "", destination: "", receivedAt: 0 }) };
    });
  }
  progress?.("scorer folds", k, k);
  return out;
}

/** Figures of out-of-fold verdicts: scorer metrics (called = flagged or blocked), blocked-only metrics, per class. */
export function scorerCvFigures(
  target: readonly Example[],
  oof: readonly OutOfFold[],
  file: string,
): { scorer: BinaryMetrics; scorerBlocked: BinaryMetrics; model: BinaryMetrics; classes: ClassFigures[] } {
  const spam = oof.map((o) => o.spam);
  const outcomes: Outcome[] = oof.map((o, i) => ({
    spam: o.spam,
    raw: target[i]!.raw ?? target[i]!.text,
    file,
    action: o.verdict.action,
    category: o.verdict.category,
    model: o.p >= 0.5,
  }));
  return {
    scorer: binaryMetrics(spam, oof.map((o) => o.verdict.action !== "allow")),
    scorerBlocked: binaryMetrics(spam, oof.map((o) => o.verdict.action === "block")),
    model: binaryMetrics(spam, oof.map((o) => o.p >= 0.5)),
    classes: classFigures(outcomes),
  };
}

/** Out-of-fold rows as JSON lines (label, model p, scorer score, label, action, category, contribution ids). */
export async function writeOutOfFold(path: string, oof: readonly OutOfFold[]): Promise<void> {
  const lines = oof.map((o, i) =>
    JSON.stringify({
      i,
      spam: o.spam,
      p: Math.round(o.p * 1e6) / 1e6,
      score: o.verdict.score,
      label: o.verdict.label,
      action: o.verdict.action,
      category: o.verdict.category,
      contributions: o.verdict.contributions.slice(1).map((c) => `${c.id}:${c.score}`),
    }),
  );
  await writeFile(path, `${lines.join("\n")}\n`);
}
