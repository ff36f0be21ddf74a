import { describe, expect, it } from "vitest";
import { loadModelFromString, serializeModel } from "./model.js";
import { crossValidate, DEFAULT_PIPELINE_OPTIONS, trainModel, type Example } from "./pipeline.js";
import { embeddingDataset, fitStacker, inBand, stackedProbability, type LatinStack } from "./stack.js";
import { DEFAULT_FEATURE_OPTIONS } from "./features.js";

/** Deterministic LCG so the data (and the reference fit below) never change. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

describe("fitStacker", () => {
  it("matches scikit-learn's LogisticRegression(C=1) on the same data", () => {
    const r = lcg(7);
    const x1: number[] = [];
    const x2: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 500; i++) {
      const yi = r() < 0.3 ? 1 : -1;
      x1.push(yi * 1.5 + (r() - 0.5) * 6);
      x2.push(yi * 0.8 + (r() - 0.5) * 4);
      y.push(yi);
    }
    const w = fitStacker(x1, x2, y, 1);
    // scikit-learn 1.x, lbfgs, on these 500 rows: coef [0.87493, 1.05316], intercept −0.76263.
    expect(w.margin).toBeCloseTo(0.87493, 3);
    expect(w.embedding).toBeCloseTo(1.05316, 3);
    expect(w.bias).toBeCloseTo(-0.76263, 3);
  });
});

describe("embeddingDataset", () => {
  it("lays out dense rows and refuses vectors of another length", () => {
    const d = embeddingDataset([Float32Array.of(1, 2), Float32Array.of(3, 4)]);
    expect(Array.from(d.indptr)).toEqual([0, 2, 4]);
    expect(Array.from(d.indices)).toEqual([0, 1, 0, 1]);
    expect(Array.from(d.values)).toEqual([1, 2, 3, 4]);
    expect(() => embeddingDataset([Float32Array.of(1, 2), Float32Array.of(3)])).toThrow(/1 dimensions, expected 2/);
  });
});

describe("stackedProbability and the band", () => {
  const stack: LatinStack = {
    embeddingModel: "test",
    embedding: { weights: Float32Array.of(2, 0), bias: -0.5 },
    stacker: { margin: 1, embedding: 3, bias: 0.25 },
    band: [0.1, 0.9],
  };
  it("combines the margin and the embedding score", () => {
    // z = 1·0.4 + 3·(2·0.6 − 0.5) + 0.25 = 2.75
    expect(stackedProbability(stack, 0.4, [0.6, 0.8])).toBeCloseTo(1 / (1 + Math.exp(-2.75)), 12);
    expect(() => stackedProbability(stack, 0, [1, 2, 3])).toThrow(/3 dimensions/);
  });
  it("consults the embedding only strictly inside the band", () => {
    expect(inBand(stack, 0.5)).toBe(true);
    expect(inBand(stack, 0.1)).toBe(false);
    expect(inBand(stack, 0.95)).toBe(false);
  });
});

/**
 * Latin-script messages whose words say nothing about the label (both classes draw from one
 * vocabulary) while their "embedding" does: only the second look can separate them.
 */
function dataset(withEmbeddings: boolean): Example[] {
  const r = lcg(11);
  const words = ["hello", "call", "later", "ok", "see", "you", "tomorrow", "text", "now", "thanks", "home", "work"];
  const out: Example[] = [];
  for (let i = 0; i < 120; i++) {
    const spam = i % 2 === 0;
    const text = Array.from({ length: 6 }, () => words[Math.floor(r() * words.length)]!).join(" ");
    const e = Float32Array.from({ length: 8 }, (_, j) => (j === 0 ? (spam ? 1 : -1) + (r() - 0.5) : r() - 0.5));
    const n = Math.hypot(...e);
    out.push({ text, raw: text, spam, category: null, ...(withEmbeddings ? { embedding: e.map((x) => x / n) } : {}) });
  }
  // CJK rows of both classes, so the Latin-script rows get weights of their own.
  for (const t of ["今晚一起吃饭吗", "明天开会改到三点", "快递到了取件码", "周五回家不用接"]) out.push({ text: t, spam: false, category: null });
  for (const t of ["无抵押贷款当天放款", "代开各类发票优惠", "澳门赌场注册送彩金", "高薪兼职刷单日结"]) out.push({ text: t, spam: true, category: null });
  return out;
}

const opts = {
  ...DEFAULT_PIPELINE_OPTIONS,
  features: { ...DEFAULT_FEATURE_OPTIONS, bits: 14 },
  categoryBits: 12,
  latinStack: { C: 1, stackerC: 10, band: [0.02, 0.98] as const, folds: 3, embeddingModel: "test-embedding@1" },
};

describe("latinStack in the pipeline", () => {
  it("is trained only when every Latin-script row has an embedding", () => {
    expect(trainModel(dataset(false), opts).latinStack).toBeNull();
    const withStack = trainModel(dataset(true), opts).latinStack;
    expect(withStack?.embeddingModel).toBe("test-embedding@1");
    expect(withStack?.embedding.weights.length).toBe(8);
  });

  it("separates by the embedding what the words cannot (cross-validated)", () => {
    const rows = dataset(true).length;
    const without = crossValidate(dataset(false), [], opts, 4, 3).binary!;
    const withEmb = crossValidate(dataset(true), [], opts, 4, 3).binary!;
    expect(withEmb.n).toBe(rows);
    expect(without.mcc).toBeLessThan(0.5);
    expect(withEmb.mcc).toBeGreaterThan(0.9);
  });

  it("predicts with the embedding in the band, says when one is wanted, and survives a file round trip", () => {
    const trained = trainModel(dataset(true), opts);
    const model = loadModelFromString(serializeModel(trained));
    expect(model.latinStack?.embeddingModel).toBe("test-embedding@1");
    const text = "hello call later ok see you";
    const plain = model.predict(text, text);
    expect(plain.secondLook).toBe("wanted");
    expect(model.wantsEmbedding(text, text)).toBe(true);
    const spamLike = Float32Array.from({ length: 8 }, (_, j) => (j === 0 ? 1 : 0));
    const hamLike = Float32Array.from({ length: 8 }, (_, j) => (j === 0 ? -1 : 0));
    const asSpam = model.predict(text, text, spamLike);
    const asHam = model.predict(text, text, hamLike);
    expect(asSpam.secondLook).toBe("used");
    expect(asSpam.spamProbability).toBeGreaterThan(0.9);
    expect(asHam.spamProbability).toBeLessThan(0.1);
    // Bit for bit what the trained (unserialised) stack computes.
    expect(asSpam.spamProbability).toBeCloseTo(stackedProbability(trained.latinStack!, asSpam.decision, spamLike), 5);
    // CJK messages never take the second look, with or without an embedding.
    const cjk = model.predict("无抵押贷款当天放款", "无抵押贷款当天放款", spamLike);
    expect(cjk.secondLook).toBe("none");
    expect(model.wantsEmbedding("无抵押贷款当天放款")).toBe(false);
  });

  it("leaves a message outside the band to the n-gram model", () => {
    const trained = trainModel(dataset(true), { ...opts, latinStack: { ...opts.latinStack, band: [0.999, 0.9999] as const } });
    const model = loadModelFromString(serializeModel(trained));
    const text = "hello call later ok see you";
    const p = model.predict(text, text);
    const q = model.predict(text, text, Float32Array.from({ length: 8 }, (_, j) => (j === 0 ? 1 : 0)));
    expect(p.secondLook).toBe("none");
    expect(q.secondLook).toBe("none");
    expect(q.spamProbability).toBe(p.spamProbability);
  });
});
