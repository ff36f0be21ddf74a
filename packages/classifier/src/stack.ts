import { decision, trainBinary, type Dataset, type LinearModel, type TrainOptions } from "./train.js";

/**
 * A second look for Latin-script messages whose n-gram probability is undecided: a linear score
 * over a sentence embedding (computed outside this package, e.g. by @spam/embedding), stacked
 * with the n-gram margin in a small logistic model. The embedding catches spam written as chat
 * that no bag of n-grams separates (MODEL_CARD.md, "Issue #8").
 */
export interface LatinStack {
  /** Id of the embedding model the weights belong to (checked by whoever supplies embeddings). */
  readonly embeddingModel: string;
  /** Linear model over the embedding (weights of the embedding's length). */
  readonly embedding: LinearModel;
  /** p = σ(margin·n-gram margin + embedding·embedding score + bias). */
  readonly stacker: StackerWeights;
  /** Calibrated n-gram probabilities [low, high] between which the embedding is consulted. */
  readonly band: readonly [number, number];
}

export interface StackerWeights {
  readonly margin: number;
  readonly embedding: number;
  readonly bias: number;
}

export interface LatinStackOptions {
  /** SVM C of the embedding model. */
  readonly C: number;
  readonly band: readonly [number, number];
  /** Inverse regularisation of the stacker (logistic regression on the two scores). */
  readonly stackerC?: number;
  /** Folds of the out-of-fold scores the stacker is fitted on. */
  readonly folds: number;
  /** Recorded in the model so a scorer can refuse embeddings from another model. */
  readonly embeddingModel: string;
}

/** Dense vectors as a Dataset (row r = vectors[r]); all must have one length. */
export function embeddingDataset(vectors: readonly Float32Array[]): Dataset {
  const dim = vectors[0]?.length ?? 0;
  const n = vectors.length;
  const indptr = new Int32Array(n + 1);
  const indices = new Int32Array(n * dim);
  const values = new Float32Array(n * dim);
  vectors.forEach((v, r) => {
    if (v.length !== dim) throw new RangeError(`embedding ${r} has ${v.length} dimensions, expected ${dim}`);
    values.set(v, r * dim);
    for (let j = 0; j < dim; j++) indices[r * dim + j] = j;
    indptr[r + 1] = (r + 1) * dim;
  });
  return { n, indptr, indices, values };
}

/**
 * L2-regularised logistic regression on two inputs plus an unpenalised bias, by Newton's method:
 * minimises ½(w₁² + w₂²) + C Σ log(1 + e^(−y·z)), z = w₁x₁ + w₂x₂ + b, y ∈ {+1, −1}.
 */
export function fitStacker(x1: ArrayLike<number>, x2: ArrayLike<number>, y: ArrayLike<number>, C = 1): StackerWeights {
  const w = [0, 0, 0];
  const n = y.length;
  for (let it = 0; it < 50; it++) {
    const g = [w[0]!, w[1]!, 0];
    const h = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1e-9],
    ];
    for (let i = 0; i < n; i++) {
      const xi = [x1[i]!, x2[i]!, 1];
      const z = w[0]! * xi[0]! + w[1]! * xi[1]! + w[2]!;
      const yi = y[i]! > 0 ? 1 : -1;
      const s = 1 / (1 + Math.exp(yi * z)); // σ(−y z)
      const d = C * s * (1 - s);
      for (let a = 0; a < 3; a++) {
        g[a]! -= C * yi * s * xi[a]!;
        for (let b = 0; b < 3; b++) h[a]![b]! += d * xi[a]! * xi[b]!;
      }
    }
    const step = solve3(h, g);
    for (let a = 0; a < 3; a++) w[a]! -= step[a]!;
    if (Math.hypot(...step) < 1e-9) break;
  }
  return { margin: w[0]!, embedding: w[1]!, bias: w[2]! };
}

function solve3(m: number[][], v: number[]): number[] {
  // Cramer's rule: the Hessian is 3×3 and positive definite.
  const det = (a: number[][]): number =>
    a[0]![0]! * (a[1]![1]! * a[2]![2]! - a[1]![2]! * a[2]![1]!) -
    a[0]![1]! * (a[1]![0]! * a[2]![2]! - a[1]![2]! * a[2]![0]!) +
    a[0]![2]! * (a[1]![0]! * a[2]![1]! - a[1]![1]! * a[2]![0]!);
  const d = det(m);
  return [0, 1, 2].map((c) => det(m.map((row, r) => row.map((x, k) => (k === c ? v[r]! : x)))) / d);
}

/** Embedding score: w·e + b. */
function embeddingScore(stack: LatinStack, e: ArrayLike<number>): number {
  const w = stack.embedding.weights;
  if (e.length !== w.length) throw new RangeError(`embedding has ${e.length} dimensions, the model expects ${w.length}`);
  let s = stack.embedding.bias;
  for (let j = 0; j < w.length; j++) s += w[j]! * e[j]!;
  return s;
}

export function inBand(stack: LatinStack, probability: number): boolean {
  return probability > stack.band[0] && probability < stack.band[1];
}

export function stackedProbability(stack: LatinStack, margin: number, e: ArrayLike<number>): number {
  const z = stack.stacker.margin * margin + stack.stacker.embedding * embeddingScore(stack, e) + stack.stacker.bias;
  return 1 / (1 + Math.exp(-z));
}

/**
 * Fit the embedding model on all rows and the stacker on out-of-fold scores: `margins` are the
 * n-gram model's out-of-fold margins for the same rows under the fold assignment `foldOf`, and the
 * embedding model's out-of-fold scores use the same folds.
 */
export function fitLatinStack(
  vectors: readonly Float32Array[],
  y: Int8Array,
  weights: Float32Array,
  margins: ArrayLike<number>,
  foldOf: Int32Array,
  folds: number,
  base: TrainOptions,
  options: LatinStackOptions,
): LatinStack {
  const d = embeddingDataset(vectors);
  const dim = vectors[0]?.length ?? 0;
  // A few hundred dense dimensions: cheap to solve to a tight tolerance (the n-gram default stops early).
  const train: TrainOptions = { ...base, solver: "svm", C: options.C, positiveWeight: 1, negativeWeight: 1, tolerance: 1e-3, maxEpochs: 1000 };
  const all = Int32Array.from(vectors.keys());
  const embedding = trainBinary(d, all, y, dim, train, weights);
  const oof = new Float64Array(vectors.length);
  for (let f = 0; f < folds; f++) {
    const tr = all.filter((r) => foldOf[r] !== f);
    const m = trainBinary(d, tr, Int8Array.from(tr, (r) => y[r]!), dim, train, Float32Array.from(tr, (r) => weights[r]!));
    for (const r of all) if (foldOf[r] === f) oof[r] = decision(m, d, r);
  }
  return { embeddingModel: options.embeddingModel, embedding, stacker: fitStacker(margins, oof, y, options.stackerC ?? 1), band: options.band };
}
