import type { SparseVector } from "./features.js";

/** Rows in compressed sparse row form: training touches each row many times. */
export interface Dataset {
  readonly n: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array;
}

export function buildDataset(rows: readonly SparseVector[]): Dataset {
  let nnz = 0;
  for (const r of rows) nnz += r.length;
  const indptr = new Int32Array(rows.length + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let p = 0;
  rows.forEach((r, i) => {
    indices.set(r.indices.subarray(0, r.length), p);
    values.set(r.values.subarray(0, r.length), p);
    p += r.length;
    indptr[i + 1] = p;
  });
  return { n: rows.length, indptr, indices, values };
}

/** A binary linear model: decision = w·x + bias (positive = spam / the class). */
export interface LinearModel {
  readonly weights: Float32Array;
  readonly bias: number;
}

export type Solver = "svm" | "logreg" | "nb";

export interface TrainOptions {
  readonly solver: Solver;
  /** Inverse regularisation strength (SVM, logistic regression). */
  readonly C: number;
  /** Weight of positive / negative examples: >1 on negatives trades recall for fewer false positives. */
  readonly positiveWeight: number;
  readonly negativeWeight: number;
  readonly maxEpochs: number;
  /** Stopping tolerance of the SVM's projected-gradient gap (default 0.05). */
  readonly tolerance?: number;
  readonly seed: number;
  /** Additive smoothing for naive Bayes. */
  readonly nbAlpha: number;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  solver: "svm",
  C: 1,
  positiveWeight: 1,
  negativeWeight: 1,
  maxEpochs: 60,
  seed: 1,
  nbAlpha: 0.1,
};

/** Small deterministic PRNG so training is reproducible. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export function shuffle(a: Int32Array, rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

function dot(w: Float64Array, d: Dataset, i: number): number {
  let s = 0;
  for (let p = d.indptr[i]!, e = d.indptr[i + 1]!; p < e; p++) s += w[d.indices[p]!]! * d.values[p]!;
  return s;
}

/**
 * Train a binary model on `rows` (indices into `d`) with labels y ∈ {+1, -1}.
 * `dim` is the hashed feature space size.
 */
export function trainBinary(
  d: Dataset,
  rows: Int32Array,
  y: Int8Array,
  dim: number,
  opts: TrainOptions,
  sampleWeight?: Float32Array,
): LinearModel {
  switch (opts.solver) {
    case "svm":
      return trainSvmDual(d, rows, y, dim, opts, sampleWeight);
    case "logreg":
      return trainLogRegSgd(d, rows, y, dim, opts);
    case "nb":
      return trainNaiveBayes(d, rows, y, dim, opts);
  }
}

/**
 * L2-regularised L2-loss linear SVM by dual coordinate descent (Hsieh et al. 2008,
 * liblinear's default): converges in a few passes, no learning rate to tune.
 * The bias is an extra feature of constant value 1.
 */
function trainSvmDual(
  d: Dataset,
  rows: Int32Array,
  y: Int8Array,
  dim: number,
  opts: TrainOptions,
  sampleWeight?: Float32Array,
): LinearModel {
  const w = new Float64Array(dim);
  let b = 0;
  const m = rows.length;
  const alpha = new Float64Array(m);
  const diag = new Float64Array(m);
  const qd = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const i = rows[k]!;
    const c = (y[k]! > 0 ? opts.C * opts.positiveWeight : opts.C * opts.negativeWeight) * (sampleWeight?.[k] ?? 1);
    diag[k] = 0.5 / c;
    let s = 1; // bias feature
    for (let p = d.indptr[i]!, e = d.indptr[i + 1]!; p < e; p++) s += d.values[p]! * d.values[p]!;
    qd[k] = s + diag[k]!;
  }
  const order = new Int32Array(m);
  for (let k = 0; k < m; k++) order[k] = k;
  const rand = rng(opts.seed);
  const eps = opts.tolerance ?? 0.05;
  for (let epoch = 0; epoch < opts.maxEpochs; epoch++) {
    shuffle(order, rand);
    let maxPG = -Infinity;
    let minPG = Infinity;
    for (let t = 0; t < m; t++) {
      const k = order[t]!;
      const i = rows[k]!;
      const yi = y[k]!;
      const G = yi * (dot(w, d, i) + b) - 1 + diag[k]! * alpha[k]!;
      let pg = G;
      if (alpha[k] === 0 && G > 0) pg = 0;
      if (pg > maxPG) maxPG = pg;
      if (pg < minPG) minPG = pg;
      if (pg !== 0) {
        const old = alpha[k]!;
        const a = Math.max(old - G / qd[k]!, 0);
        alpha[k] = a;
        const delta = (a - old) * yi;
        if (delta !== 0) {
          for (let p = d.indptr[i]!, e = d.indptr[i + 1]!; p < e; p++) w[d.indices[p]!]! += delta * d.values[p]!;
          b += delta;
        }
      }
    }
    if (maxPG - minPG < eps) break;
  }
  return { weights: Float32Array.from(w), bias: b };
}

/** Logistic regression by SGD with AdaGrad step sizes and L2 applied lazily per touched feature. */
function trainLogRegSgd(d: Dataset, rows: Int32Array, y: Int8Array, dim: number, opts: TrainOptions): LinearModel {
  const w = new Float64Array(dim);
  const g2 = new Float64Array(dim);
  let b = 0;
  let gb = 1e-8;
  const m = rows.length;
  const lambda = 1 / (opts.C * m);
  const eta = 0.5;
  const order = new Int32Array(m);
  for (let k = 0; k < m; k++) order[k] = k;
  const rand = rng(opts.seed);
  const epochs = Math.min(opts.maxEpochs, 15);
  for (let epoch = 0; epoch < epochs; epoch++) {
    shuffle(order, rand);
    for (let t = 0; t < m; t++) {
      const k = order[t]!;
      const i = rows[k]!;
      const yi = y[k]!;
      const cw = yi > 0 ? opts.positiveWeight : opts.negativeWeight;
      const z = yi * (dot(w, d, i) + b);
      const g = (-yi * cw) / (1 + Math.exp(z));
      for (let p = d.indptr[i]!, e = d.indptr[i + 1]!; p < e; p++) {
        const j = d.indices[p]!;
        const gj = g * d.values[p]! + lambda * m * w[j]! * 0.01;
        g2[j]! += gj * gj;
        w[j]! -= (eta * gj) / Math.sqrt(g2[j]! + 1e-8);
      }
      gb += g * g;
      b -= (eta * g) / Math.sqrt(gb);
    }
  }
  return { weights: Float32Array.from(w), bias: b };
}

/** Multinomial naive Bayes over the (normalised TF) feature values. */
function trainNaiveBayes(d: Dataset, rows: Int32Array, y: Int8Array, dim: number, opts: TrainOptions): LinearModel {
  const pos = new Float64Array(dim);
  const neg = new Float64Array(dim);
  const seen = new Uint8Array(dim);
  let totP = 0;
  let totN = 0;
  let nP = 0;
  let nN = 0;
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k]!;
    const target = y[k]! > 0 ? pos : neg;
    if (y[k]! > 0) nP++;
    else nN++;
    for (let p = d.indptr[i]!, e = d.indptr[i + 1]!; p < e; p++) {
      const j = d.indices[p]!;
      target[j]! += d.values[p]!;
      seen[j] = 1;
      if (y[k]! > 0) totP += d.values[p]!;
      else totN += d.values[p]!;
    }
  }
  let vocab = 0;
  for (let j = 0; j < dim; j++) vocab += seen[j]!;
  const a = opts.nbAlpha;
  const w = new Float32Array(dim);
  const lp = Math.log(totP + a * vocab);
  const ln = Math.log(totN + a * vocab);
  for (let j = 0; j < dim; j++) {
    if (!seen[j]) continue;
    w[j] = Math.log(pos[j]! + a) - lp - (Math.log(neg[j]! + a) - ln);
  }
  return { weights: w, bias: Math.log((nP * opts.positiveWeight) / (nN * opts.negativeWeight)) };
}

export function decision(model: LinearModel, d: Dataset, i: number): number {
  let s = model.bias;
  const w = model.weights;
  for (let p = d.indptr[i]!, e = d.indptr[i + 1]!; p < e; p++) s += w[d.indices[p]!]! * d.values[p]!;
  return s;
}

/** Platt scaling: P(spam | f) = 1 / (1 + exp(A f + B)), fitted by Newton's method (Lin, Lin & Weng 2007). */
export interface Platt {
  readonly a: number;
  readonly b: number;
}

export function fitPlatt(dec: ArrayLike<number>, labels: ArrayLike<number>): Platt {
  const n = dec.length;
  let prior1 = 0;
  for (let i = 0; i < n; i++) if (labels[i]! > 0) prior1++;
  const prior0 = n - prior1;
  const hiTarget = (prior1 + 1) / (prior1 + 2);
  const loTarget = 1 / (prior0 + 2);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) t[i] = labels[i]! > 0 ? hiTarget : loTarget;
  let A = 0;
  let B = Math.log((prior0 + 1) / (prior1 + 1));
  const sigma = 1e-12;
  const fval = (a: number, b: number): number => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      const fApB = dec[i]! * a + b;
      f += fApB >= 0 ? t[i]! * fApB + Math.log(1 + Math.exp(-fApB)) : (t[i]! - 1) * fApB + Math.log(1 + Math.exp(fApB));
    }
    return f;
  };
  let fv = fval(A, B);
  for (let it = 0; it < 100; it++) {
    let h11 = sigma;
    let h22 = sigma;
    let h21 = 0;
    let g1 = 0;
    let g2 = 0;
    for (let i = 0; i < n; i++) {
      const fApB = dec[i]! * A + B;
      let p: number;
      let q: number;
      if (fApB >= 0) {
        p = Math.exp(-fApB) / (1 + Math.exp(-fApB));
        q = 1 / (1 + Math.exp(-fApB));
      } else {
        p = 1 / (1 + Math.exp(fApB));
        q = Math.exp(fApB) / (1 + Math.exp(fApB));
      }
      const d2 = p * q;
      h11 += dec[i]! * dec[i]! * d2;
      h22 += d2;
      h21 += dec[i]! * d2;
      const d1 = t[i]! - p;
      g1 += dec[i]! * d1;
      g2 += d1;
    }
    if (Math.abs(g1) < 1e-5 && Math.abs(g2) < 1e-5) break;
    const det = h11 * h22 - h21 * h21;
    const dA = -(h22 * g1 - h21 * g2) / det;
    const dB = -(-h21 * g1 + h11 * g2) / det;
    const gd = g1 * dA + g2 * dB;
    let step = 1;
    while (step >= 1e-10) {
      const nA = A + step * dA;
      const nB = B + step * dB;
      const nf = fval(nA, nB);
      if (nf < fv + 1e-4 * step * gd) {
        A = nA;
        B = nB;
        fv = nf;
        break;
      }
      step /= 2;
    }
    if (step < 1e-10) break;
  }
  return { a: A, b: B };
}

export function plattProbability(p: Platt, dec: number): number {
  const f = dec * p.a + p.b;
  return f >= 0 ? Math.exp(-f) / (1 + Math.exp(-f)) : 1 / (1 + Math.exp(f));
}
