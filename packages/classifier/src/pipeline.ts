import { categoryGroup } from "@spam/contracts";
import { DEFAULT_FEATURE_OPTIONS, FeatureExtractor, idfTable, LATIN_TAG, weighTerms, type FeatureOptions, type SparseVector } from "./features.js";
import { binaryMetrics, categoryMetrics, type BinaryMetrics, type CategoryMetrics } from "./metrics.js";
import type { CategoryModel, TrainedModel } from "./model.js";
import { fitLatinStack, inBand, stackedProbability, type LatinStack, type LatinStackOptions } from "./stack.js";
import {
  buildDataset,
  decision,
  DEFAULT_TRAIN_OPTIONS,
  fitPlatt,
  plattProbability,
  rng,
  shuffle,
  trainBinary,
  type Dataset,
  type LinearModel,
  type Platt,
  type TrainOptions,
} from "./train.js";

/** One training example; `text` must already be normalised the way scoring normalises. */
export interface Example {
  readonly text: string;
  readonly spam: boolean;
  /** Fine spam category for category data, else null. */
  readonly category: string | null;
  /** Sample weight (default 1): e.g. scarce SMS-like ham counts more than web-text ham. */
  readonly weight?: number;
  /** The text before normalisation (case kept) for features.latinViews; default `text`. */
  readonly raw?: string;
  /** Sentence embedding (Latin-script rows) for the latinStack second look. */
  readonly embedding?: Float32Array;
}

export interface PipelineOptions {
  readonly features: FeatureOptions;
  readonly train: TrainOptions;
  /** Options of the one-vs-rest category models. */
  readonly categoryTrain: TrainOptions;
  readonly categoryBits: number;
  /**
   * One-vs-rest category models weigh a class's own rows by (rows of the other classes / its rows)^balance
   * (0 = off): without it the rare classes (7 to 97 rows of 10,378) lose recall, and macro F1 weighs them
   * like the large ones.
   */
  readonly categoryBalance?: number;
  /** Folds used to collect out-of-fold margins for Platt calibration. */
  readonly calibrationFolds: number;
  /** Also use category rows (all spam) as spam examples of the binary model. */
  readonly categoryAsSpam: boolean;
  /**
   * Latin-script rows train a weight vector of their own (when both scripts have spam and ham): with one
   * joint fit, every change to the English features moved the Chinese weights (check-set notices).
   */
  readonly separateLatin?: boolean;
  /**
   * With separateLatin: the CJK weights are the joint fit over all rows (Latin-script rows included) with
   * the features of the model without latinViews, exactly the weights and CJK calibration such a model
   * would have, so what the CJK weights learn from English spam (URLs, "www", numbers) stays; the
   * Latin-script weights train on the Latin-script rows with `features`. Trained on CJK rows only, the
   * CJK weights lost recall on our Chinese check/holdout spam (MODEL_CARD.md).
   */
  readonly cjkTransfer?: boolean;
  /**
   * With separateLatin: a second look for undecided Latin-script messages that stacks a sentence
   * embedding's score with the n-gram margin (stack.ts). Used only when every Latin-script training
   * row has an embedding; without embeddings the model is the one without it.
   */
  readonly latinStack?: LatinStackOptions | null;
}

export const DEFAULT_PIPELINE_OPTIONS: PipelineOptions = {
  features: DEFAULT_FEATURE_OPTIONS,
  // Chosen by 5-fold CV (see MODEL_CARD.md): C=3 with spam weighted 2:1 maximised zh F1 at ~0.02 % ham FPR.
  train: { ...DEFAULT_TRAIN_OPTIONS, C: 3, negativeWeight: 0.5 },
  // 5-fold CV on the category set, seed 42 (MODEL_CARD.md "Categories"): 14-class macro F1 0.898 at C 0.5, 0.927 at C 2;
  // 0.930 with 2^18 buckets instead of 2^16 (no folding), 0.934 with the rare classes' rows weighed up as well.
  categoryTrain: { ...DEFAULT_TRAIN_OPTIONS, C: 2, maxEpochs: 30 },
  categoryBits: 18,
  categoryBalance: 0.5,
  calibrationFolds: 3,
  // Off: the segmented category rows pushed more notification-style ham over the line on the check set.
  categoryAsSpam: false,
  // Latin-script messages get weights of their own (latinViews features); the CJK weights are still the joint
  // fit over all rows with token n-grams (cjkTransfer): trained on CJK rows alone they lost recall on our
  // Chinese check/holdout spam (MODEL_CARD.md).
  separateLatin: true,
  cjkTransfer: true,
  // C and stackerC chosen on CV seeds 1–6, never on the reported seeds (MODEL_CARD.md); outside the band
  // (~94 % of English messages) the embedding changed no decision, so it is not computed there.
  latinStack: { C: 1, stackerC: 10, band: [0.02, 0.98], folds: 5, embeddingModel: "unknown" },
};

export type ProgressFn = (stage: string, done: number, total: number) => void;

interface Vectorised {
  /** Weighted, L2-normalised rows (with the IDF of the rows it was weighed for). */
  readonly data: Dataset;
  readonly examples: readonly Example[];
  /** The IDF table `data` was weighed with, null without IDF. */
  readonly idf: Float32Array | null;
  /** 1 for Latin-script rows (own calibration). */
  readonly latin: Uint8Array;
}

interface Counted {
  /** Raw per-row feature counts: IDF depends on the training rows, so weighting happens per fold. */
  readonly counts: Dataset;
  readonly examples: readonly Example[];
  readonly features: FeatureOptions;
}

function count(examples: readonly Example[], features: FeatureOptions, progress?: ProgressFn): Counted {
  const fx = new FeatureExtractor(features);
  const rows: SparseVector[] = [];
  for (let i = 0; i < examples.length; i++) {
    const e = examples[i]!;
    rows.push(fx.extractCounts(e.text, e.raw));
    if (progress && (i % 500 === 0 || i === examples.length - 1)) progress("features", i + 1, examples.length);
  }
  return { counts: buildDataset(rows), examples, features };
}

/** Weigh every row for a model trained on `trainRows` (IDF from those rows only: no test fold leaks in). */
function weigh(c: Counted, trainRows: ArrayLike<number>): Vectorised {
  const f = c.features;
  const idf = f.idf ? idfTable(c.counts, trainRows, f.bits) : null;
  const values = Float32Array.from(c.counts.values);
  const indices = Int32Array.from(c.counts.indices);
  const latin = new Uint8Array(c.counts.n);
  for (let i = 0; i < c.counts.n; i++) {
    const a = c.counts.indptr[i]!;
    const b = c.counts.indptr[i + 1]!;
    if (b > a && indices[a]! & LATIN_TAG) latin[i] = 1;
    weighTerms(indices.subarray(a, b), values.subarray(a, b), b - a, f.sublinearTf, idf);
  }
  return { data: { n: c.counts.n, indptr: c.counts.indptr, indices, values }, examples: c.examples, idf, latin };
}

/** The same rows with the hash space folded to `bits` (for the smaller category models). */
function fold(d: Dataset, bits: number): Dataset {
  const mask = (1 << bits) - 1;
  return { ...d, indices: d.indices.map((j) => j & mask) };
}

interface BinaryRows {
  readonly rows: Int32Array;
  readonly y: Int8Array;
  readonly w: Float32Array;
}

function binaryRows(v: Vectorised, subset: Int32Array, categoryAsSpam: boolean): BinaryRows {
  const rows: number[] = [];
  const y: number[] = [];
  const w: number[] = [];
  for (const i of subset) {
    const e = v.examples[i]!;
    if (e.category !== null && !categoryAsSpam) continue;
    rows.push(i);
    y.push(e.spam ? 1 : -1);
    w.push(e.weight ?? 1);
  }
  return { rows: Int32Array.from(rows), y: Int8Array.from(y), w: Float32Array.from(w) };
}

/** Stratified fold assignment (by label and category) with a fixed seed. */
export function assignFolds(examples: readonly Example[], k: number, seed: number): Int32Array {
  const byKey = new Map<string, number[]>();
  examples.forEach((e, i) => {
    const key = e.category ?? (e.spam ? "spam" : "ham");
    let a = byKey.get(key);
    if (!a) byKey.set(key, (a = []));
    a.push(i);
  });
  const foldOf = new Int32Array(examples.length);
  const rand = rng(seed);
  let offset = 0;
  for (const key of [...byKey.keys()].sort()) {
    const idx = Int32Array.from(byKey.get(key)!);
    shuffle(idx, rand);
    idx.forEach((i, r) => {
      foldOf[i] = (r + offset) % k;
    });
    offset += idx.length;
  }
  return foldOf;
}

/** Platt fits for CJK messages (also the fallback) and for Latin-script messages (null: use the first). */
interface Calibration {
  readonly platt: Platt;
  readonly plattLatin: Platt | null;
}

/** Fewest rows of each class a script needs for a calibration of its own. */
const MIN_CALIBRATION_ROWS = 20;

function fitSubset(margins: Float64Array, y: Int8Array, keep: (r: number) => boolean): Platt | null {
  const m: number[] = [];
  const l: number[] = [];
  let pos = 0;
  for (let r = 0; r < y.length; r++) {
    if (!keep(r)) continue;
    m.push(margins[r]!);
    l.push(y[r]!);
    if (y[r]! > 0) pos++;
  }
  return pos >= MIN_CALIBRATION_ROWS && l.length - pos >= MIN_CALIBRATION_ROWS ? fitPlatt(m, l) : null;
}

/** Out-of-fold margins of `k` models over the rows of a BinaryRows (row r), with their fold of each row. */
function outOfFoldMargins(v: Vectorised, { rows, y, w }: BinaryRows, dim: number, train: TrainOptions, k: number, seed: number): { margins: Float64Array; foldOf: Int32Array } {
  const margins = new Float64Array(rows.length);
  const foldOf = new Int32Array(rows.length);
  const perm = Int32Array.from(rows.keys());
  shuffle(perm, rng(seed));
  perm.forEach((r, pos) => {
    foldOf[r] = pos % k;
  });
  for (let f = 0; f < k; f++) {
    const trIdx: number[] = [];
    for (let r = 0; r < rows.length; r++) if (foldOf[r] !== f) trIdx.push(r);
    const m = trainBinary(
      v.data,
      Int32Array.from(trIdx, (r) => rows[r]!),
      Int8Array.from(trIdx, (r) => y[r]!),
      dim,
      train,
      Float32Array.from(trIdx, (r) => w[r]!),
    );
    for (let r = 0; r < rows.length; r++) if (foldOf[r] === f) margins[r] = decision(m, v.data, rows[r]!);
  }
  return { margins, foldOf };
}

/**
 * Platt scaling on out-of-fold margins, per script: the two scripts have different features
 * (Latin-script messages add token n-grams and IDF), so one joint fit would shift Chinese
 * probabilities with every change to the English features.
 */
function calibrate(v: Vectorised, br: BinaryRows, dim: number, opts: PipelineOptions): Calibration {
  const { margins } = outOfFoldMargins(v, br, dim, opts.train, opts.calibrationFolds, opts.train.seed + 17);
  const { rows, y } = br;
  const isLatin = (r: number): boolean => v.latin[rows[r]!] === 1;
  const platt = fitSubset(margins, y, (r) => !isLatin(r)) ?? fitPlatt(margins, y);
  return { platt, plattLatin: fitSubset(margins, y, isLatin) };
}

/** The latinStack second look over the Latin-script rows, when every one of them has an embedding. */
function fitStackFor(v: Vectorised, latin: BinaryRows, dim: number, opts: PipelineOptions): LatinStack | null {
  const o = opts.latinStack;
  if (!o) return null;
  const vectors = Array.from(latin.rows, (i) => v.examples[i]!.embedding);
  if (!vectors.every((e): e is Float32Array => e !== undefined)) return null;
  // The stacker learns from out-of-fold scores of both models over the same folds.
  const { margins, foldOf } = outOfFoldMargins(v, latin, dim, opts.train, o.folds, opts.train.seed + 29);
  return fitLatinStack(vectors, latin.y, latin.w, margins, foldOf, o.folds, opts.train, o);
}

/** The binary model(s): one joint fit, or CJK and Latin-script rows each with their own weights. */
interface BinaryFit extends Calibration {
  readonly binary: LinearModel;
  readonly latinBinary: LinearModel | null;
  readonly latinStack: LatinStack | null;
}

function subsetRows({ rows, y, w }: BinaryRows, keep: (i: number) => boolean): BinaryRows {
  const ks = Array.from(rows.keys()).filter((r) => keep(rows[r]!));
  return { rows: Int32Array.from(ks, (r) => rows[r]!), y: Int8Array.from(ks, (r) => y[r]!), w: Float32Array.from(ks, (r) => w[r]!) };
}

function hasBothClasses(b: BinaryRows, min = 1): boolean {
  let pos = 0;
  for (const y of b.y) if (y > 0) pos++;
  return pos >= min && b.y.length - pos >= min;
}

/** The CJK weights' training set under cjkTransfer: every row, weighed with the features without latinViews. */
interface BaseRows {
  readonly v: Vectorised;
  readonly br: BinaryRows;
}

function fitBinary(v: Vectorised, br: BinaryRows, dim: number, opts: PipelineOptions, calibrated: boolean, base?: BaseRows): BinaryFit {
  const identity: Platt = { a: -1, b: 0 };
  if (opts.separateLatin) {
    const cjk = base ?? { v, br: subsetRows(br, (i) => v.latin[i] === 0) };
    const latin = subsetRows(br, (i) => v.latin[i] === 1);
    // Latin rows need enough of each class for their own calibration; fewer share the joint fit.
    if (hasBothClasses(cjk.br) && hasBothClasses(latin, MIN_CALIBRATION_ROWS)) {
      const binary = trainBinary(cjk.v.data, cjk.br.rows, cjk.br.y, dim, opts.train, cjk.br.w);
      const latinBinary = trainBinary(v.data, latin.rows, latin.y, dim, opts.train, latin.w);
      if (!calibrated) return { binary, latinBinary, platt: identity, plattLatin: identity, latinStack: null };
      // Under cjkTransfer this is the CJK Platt fit of the joint model (per-script fit over all rows).
      const c = calibrate(cjk.v, cjk.br, dim, opts);
      const l = calibrate(v, latin, dim, opts);
      const latinStack = fitStackFor(v, latin, dim, opts);
      return { binary, latinBinary, platt: c.platt, plattLatin: l.plattLatin, latinStack };
    }
  }
  // Joint fit; under cjkTransfer with too few Latin-script rows that is the model without latinViews.
  const j = base ?? { v, br };
  const binary = trainBinary(j.v.data, j.br.rows, j.br.y, dim, opts.train, j.br.w);
  const cal = calibrated ? calibrate(j.v, j.br, dim, opts) : { platt: identity, plattLatin: null };
  return { binary, latinBinary: null, platt: cal.platt, plattLatin: cal.plattLatin, latinStack: null };
}

/** Counts with the features of the CJK weights under cjkTransfer (null: not needed, or the same as `c`). */
function countBase(c: Counted, opts: PipelineOptions, progress?: ProgressFn): Counted | null {
  if (!opts.separateLatin || !opts.cjkTransfer) return null;
  if (!opts.features.latinViews) return c;
  return count(c.examples, { ...opts.features, latinViews: false }, progress);
}

function baseRows(c: Counted, subset: Int32Array, opts: PipelineOptions): BaseRows {
  const v = weigh(c, subset);
  return { v, br: binaryRows(v, subset, opts.categoryAsSpam) };
}

function trainCategories(v: Vectorised, subset: Int32Array, opts: PipelineOptions, progress?: ProgressFn): CategoryModel | null {
  const rows = subset.filter((i) => v.examples[i]!.category !== null);
  if (rows.length === 0) return null;
  const labels = [...new Set(Array.from(rows, (i) => v.examples[i]!.category!))].sort();
  if (labels.length < 2) return null;
  const folded = fold(v.data, opts.categoryBits);
  const models: LinearModel[] = labels.map((label, c) => {
    progress?.("categories", c, labels.length);
    const y = Int8Array.from(rows, (i) => (v.examples[i]!.category === label ? 1 : -1));
    const own = y.reduce((n, t) => n + (t > 0 ? 1 : 0), 0);
    const positiveWeight = (opts.categoryBalance ?? 0) > 0 ? ((rows.length - own) / own) ** opts.categoryBalance! : opts.categoryTrain.positiveWeight;
    return trainBinary(folded, rows, y, 2 ** opts.categoryBits, { ...opts.categoryTrain, positiveWeight });
  });
  progress?.("categories", labels.length, labels.length);
  return { bits: opts.categoryBits, labels, models };
}

function predictCategory(cat: CategoryModel, d: Dataset, i: number): string {
  let best = 0;
  let bestScore = -Infinity;
  cat.models.forEach((m, c) => {
    const s = decision(m, d, i);
    if (s > bestScore) {
      bestScore = s;
      best = c;
    }
  });
  return cat.labels[best]!;
}

/** Train the binary spam model (calibrated) and, when category rows exist, the category models. */
export function trainModel(
  examples: readonly Example[],
  opts: PipelineOptions = DEFAULT_PIPELINE_OPTIONS,
  progress?: ProgressFn,
  training: Record<string, unknown> = {},
): TrainedModel {
  const all = Int32Array.from(examples.keys());
  const counted = count(examples, opts.features, progress);
  const v = weigh(counted, all);
  const dim = 2 ** opts.features.bits;
  const br = binaryRows(v, all, opts.categoryAsSpam);
  if (!br.y.includes(1) || !br.y.includes(-1)) throw new Error("training needs both spam and ham examples");
  const based = countBase(counted, opts);
  const base = based && (based === counted ? { v, br } : baseRows(based, all, opts));
  progress?.("binary model", 0, 1);
  const { binary, latinBinary, platt, plattLatin, latinStack } = fitBinary(v, br, dim, opts, true, base ?? undefined);
  progress?.("binary model", 1, 1);
  // The category rows are Chinese: under cjkTransfer the category models see what the CJK weights see
  // (the few Latin-only category rows keep their token n-grams), so they stay those of the model without it.
  const category = trainCategories(base?.v ?? v, all, opts, progress);
  // Under cjkTransfer without Latin-script weights of its own the model is the one without latinViews.
  const own = latinBinary !== null || base === null;
  return {
    features: own ? opts.features : { ...opts.features, latinViews: false },
    idf: own ? v.idf : base.v.idf,
    binary,
    latinBinary,
    platt,
    plattLatin,
    latinStack,
    category,
    training: { ...training, options: opts, examples: examples.length },
  };
}

export interface CrossValidationResult {
  readonly folds: number;
  /** Binary metrics over the target's spam/ham rows (threshold: calibrated p ≥ threshold). */
  readonly binary: BinaryMetrics | null;
  /** Same rows at the raw margin threshold 0 (uncalibrated). */
  readonly binaryAtZero: BinaryMetrics | null;
  readonly category: CategoryMetrics | null;
  readonly categoryGroups: CategoryMetrics | null;
  /** Out-of-fold spam probabilities of the target's binary rows, in order. */
  readonly probabilities: Float64Array;
}

/**
 * k-fold cross-validation on `target`; `extra` examples join every training fold
 * (e.g. fixtures or another language) but are never scored.
 */
export function crossValidate(
  target: readonly Example[],
  extra: readonly Example[],
  opts: PipelineOptions,
  k = 5,
  seed = 42,
  calibrated = true,
  threshold = 0.5,
  progress?: ProgressFn,
): CrossValidationResult {
  const all = [...target, ...extra];
  const counted = count(all, opts.features, progress);
  const based = countBase(counted, opts);
  const dim = 2 ** opts.features.bits;
  const foldOf = assignFolds(target, k, seed);
  const extraIdx = Int32Array.from(extra.keys(), (i) => i + target.length);
  const hasBinary = target.some((e) => e.category === null && e.spam) && target.some((e) => !e.spam);
  const hasCategory = target.some((e) => e.category !== null);
  const probs = new Float64Array(target.length).fill(NaN);
  const margins = new Float64Array(target.length).fill(NaN);
  const catPred: string[] = [];
  const catTrue: string[] = [];
  for (let f = 0; f < k; f++) {
    progress?.("cv folds", f, k);
    const trainIdx = Int32Array.from([...Array.from(target.keys()).filter((i) => foldOf[i] !== f), ...extraIdx]);
    const testIdx = Int32Array.from(Array.from(target.keys()).filter((i) => foldOf[i] === f));
    const v = weigh(counted, trainIdx);
    const br = binaryRows(v, trainIdx, opts.categoryAsSpam);
    const base = based && (based === counted ? { v, br } : baseRows(based, trainIdx, opts));
    if (hasBinary) {
      const fit = fitBinary(v, br, dim, opts, calibrated, base ?? undefined);
      for (const i of testIdx) {
        if (target[i]!.category !== null) continue;
        const latin = v.latin[i] === 1;
        const m = latin && fit.latinBinary ? decision(fit.latinBinary, v.data, i) : decision(fit.binary, (base?.v ?? v).data, i);
        margins[i] = m;
        probs[i] = plattProbability(latin && fit.plattLatin ? fit.plattLatin : fit.platt, m);
        const e = target[i]!.embedding;
        if (latin && fit.latinStack && e && inBand(fit.latinStack, probs[i]!)) probs[i] = stackedProbability(fit.latinStack, m, e);
      }
    }
    if (hasCategory) {
      const cv = base?.v ?? v;
      const cat = trainCategories(cv, trainIdx, opts);
      if (cat) {
        const folded = fold(cv.data, opts.categoryBits);
        for (const i of testIdx) {
          const e = target[i]!;
          if (e.category === null) continue;
          catTrue.push(e.category);
          catPred.push(predictCategory(cat, folded, i));
        }
      }
    }
  }
  progress?.("cv folds", k, k);
  let binary: BinaryMetrics | null = null;
  let binaryAtZero: BinaryMetrics | null = null;
  if (hasBinary) {
    const act: boolean[] = [];
    const pred: boolean[] = [];
    const pred0: boolean[] = [];
    target.forEach((e, i) => {
      if (e.category !== null) return;
      act.push(e.spam);
      pred.push(probs[i]! >= threshold);
      pred0.push(margins[i]! > 0);
    });
    binary = binaryMetrics(act, pred);
    binaryAtZero = binaryMetrics(act, pred0);
  }
  return {
    folds: k,
    binary,
    binaryAtZero,
    category: hasCategory ? categoryMetrics(catTrue, catPred) : null,
    categoryGroups: hasCategory ? categoryMetrics(catTrue.map(categoryGroup), catPred.map(categoryGroup)) : null,
    probabilities: probs,
  };
}
