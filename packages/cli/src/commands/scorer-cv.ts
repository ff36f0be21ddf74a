import { writeFile } from "node:fs/promises";
import { assignFolds, binaryMetrics, type BinaryMetrics, loadModelFromString, serializeModel, trainModel, type Example, type PipelineOptions, type ProgressFn } from "@spam/classifier";
import type { Verdict } from "@spam/contracts";
import { normalize } from "@spam/normalize";
import { CORROBORATING_BUILTINS, createScorer, isCorroborating, type RuleEngine, type Thresholds } from "@spam/scoring";
import { classFigures, type ClassFigures, type Outcome } from "./classes.js";

/** One out-of-fold verdict of the deployed scorer, for choosing thresholds. */
export interface OutOfFold {
  readonly spam: boolean;
  /** The model's calibrated probability. */
  readonly p: number;
  readonly verdict: Verdict;
  /** A second signal besides the text (block-action or velocity rule, campaign boost). */
  readonly corroborated: boolean;
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
  /** Applied to the target's training rows of each fold (not to the rows it scores). */
  relabel?: (e: Example) => Example | null,
): OutOfFold[] {
  const foldOf = assignFolds(target, k, seed);
  const out = new Array<OutOfFold>(target.length);
  for (let f = 0; f < k; f++) {
    progress?.("scorer folds", f, k);
    const own = target.filter((_, i) => foldOf[i] !== f);
    const train = [...(relabel ? own.flatMap((e) => relabel(e) ?? []) : own), ...extra];
    const model = loadModelFromString(serializeModel(trainModel(train, opts)));
    const scorer = createScorer({ ruleSet, model, ...(thresholds ? { thresholds } : {}) });
    target.forEach((e, i) => {
      if (foldOf[i] !== f) return;
      const raw = e.raw ?? e.text;
      const p = model.predict(e.text, raw).spamProbability;
      const verdict = scorer.score({ id: `cv-${i}`, text: raw, source: "", destination: "", receivedAt: 0 });
      const hits = ruleSet ? ruleSet.evaluate({ normalized: normalize(raw), sender: "", recipient: "", at: 0 }) : [];
      const corroborated = hits.some(isCorroborating) || verdict.contributions.some((c) => CORROBORATING_BUILTINS.includes(c.id));
      out[i] = { spam: e.spam, p, verdict, corroborated };
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
    label: o.verdict.label,
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
      corroborated: o.corroborated,
      contributions: o.verdict.contributions.slice(1).map((c) => `${c.id}:${c.score}`),
    }),
  );
  await writeFile(path, `${lines.join("\n")}\n`);
}

/** Share of ham and of spam at or above each threshold, over messages outside the commercial class. */
export interface ThresholdRow {
  readonly t: number;
  /** Ham with final score ≥ t (what `suspect` = t would flag, rules' own flags aside). */
  readonly ham: number;
  /** Ham with final score ≥ t and no second signal (what `modelBlock` = t would block). */
  readonly hamUncorroborated: number;
  readonly spamRecall: number;
  /** Spam blocked with `spam` = t for corroborated and `modelBlock` = t for the rest. */
  readonly spamUncorroborated: number;
}

const GRID = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 0.9999];

/** The threshold table the scorer's thresholds are chosen from (DEFAULT_THRESHOLDS, for the budget written there). */
export function thresholdTable(oof: readonly OutOfFold[]): ThresholdRow[] {
  const rows = oof.filter((o) => o.verdict.category !== "commercial");
  const ham = rows.filter((o) => !o.spam);
  const spam = rows.filter((o) => o.spam);
  const r = (k: number, n: number): number => (n === 0 ? 0 : Math.round((k / n) * 100_000) / 100_000);
  return GRID.map((t) => ({
    t,
    ham: r(ham.filter((o) => o.verdict.score >= t).length, ham.length),
    hamUncorroborated: r(ham.filter((o) => !o.corroborated && o.verdict.score >= t).length, ham.length),
    spamRecall: r(spam.filter((o) => o.verdict.score >= t).length, spam.length),
    spamUncorroborated: r(spam.filter((o) => !o.corroborated && o.verdict.score >= t).length, spam.length),
  }));
}
