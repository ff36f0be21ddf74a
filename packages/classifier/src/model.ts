import { createHash } from "node:crypto";
import { z } from "zod";
import { categoryGroup, type CategoryGroup } from "@spam/contracts";
import { FeatureExtractor, type FeatureOptions, type SparseVector } from "./features.js";
import { inBand, stackedProbability, type LatinStack } from "./stack.js";
import { plattProbability, type LinearModel, type Platt } from "./train.js";

const MODEL_FORMAT = "spam-classifier";
const MODEL_FORMAT_VERSION = 1;

const SparseWeightsV1 = z.object({
  nnz: z.number().int().nonnegative(),
  /** Delta-encoded LEB128 varints of the sorted non-zero indices, base64. */
  indices: z.string(),
  /** Int16 little-endian quantised weights, base64; weight = q * scale. */
  values: z.string(),
  scale: z.number().nonnegative(),
});
type SparseWeights = z.infer<typeof SparseWeightsV1>;

export const ModelFileV1 = z.object({
  format: z.literal(MODEL_FORMAT),
  formatVersion: z.literal(MODEL_FORMAT_VERSION),
  modelVersion: z.string().min(1).max(64),
  createdAt: z.string(),
  features: z.object({
    bits: z.number().int().min(10).max(24),
    charNgramMax: z.number().int().min(1).max(6),
    latinCharNgramMax: z.number().int().min(0).max(8),
    wordNgrams: z.boolean(),
    sublinearTf: z.boolean(),
    // Optional: files written before token n-grams and IDF existed load unchanged.
    tokenNgramMin: z.number().int().min(0).max(8).optional(),
    tokenNgramMax: z.number().int().min(0).max(8).optional(),
    tokenDigits: z.boolean().optional(),
    idf: z.boolean().optional(),
    latinViews: z.boolean().optional(),
    digitRunMax: z.number().int().min(0).max(64).optional(),
  }),
  /** Per-bucket IDF weights (features.idf), quantised like the weights. */
  idf: SparseWeightsV1.nullable().optional(),
  binary: z.object({
    bias: z.number(),
    platt: z.object({ a: z.number(), b: z.number() }),
    /** Calibration of Latin-script messages (absent in older files: platt for all). */
    plattLatin: z.object({ a: z.number(), b: z.number() }).nullable().optional(),
    weights: SparseWeightsV1,
    /** Weights of Latin-script messages when trained apart (absent in older files: `weights` for all). */
    latin: z.object({ bias: z.number(), weights: SparseWeightsV1 }).nullable().optional(),
    /** Second look for undecided Latin-script messages over a sentence embedding (absent in older files). */
    latinStack: z
      .object({
        embeddingModel: z.string().min(1).max(128),
        /** Dense: an embedding has a few hundred dimensions, all non-zero. */
        weights: z.array(z.number()).min(1).max(4096),
        bias: z.number(),
        stacker: z.object({ margin: z.number(), embedding: z.number(), bias: z.number() }),
        band: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).refine(([lo, hi]) => lo < hi, "band low must be below high"),
      })
      .nullable()
      .optional(),
  }),
  category: z
    .object({
      /** Category features fold the hash space to fewer bits: 14 dense vectors stay small. */
      bits: z.number().int().min(10).max(24),
      labels: z.array(z.string().min(1).max(64)).min(2),
      biases: z.array(z.number()),
      weights: z.array(SparseWeightsV1),
    })
    .nullable(),
  /** Free-form provenance: data sets, parameters, figures. */
  training: z.record(z.string(), z.unknown()),
});
export type ModelFile = z.infer<typeof ModelFileV1>;

export class ModelLoadError extends Error {
  override readonly name = "ModelLoadError";
}

function encodeSparse(w: Float32Array): SparseWeights {
  let max = 0;
  for (let j = 0; j < w.length; j++) max = Math.max(max, Math.abs(w[j]!));
  const scale = max === 0 ? 1 : max / 32767;
  const idx: number[] = [];
  const vals: number[] = [];
  for (let j = 0; j < w.length; j++) {
    const q = Math.round(w[j]! / scale);
    if (q !== 0) {
      idx.push(j);
      vals.push(q);
    }
  }
  const bytes: number[] = [];
  let prev = 0;
  for (const j of idx) {
    let d = j - prev;
    prev = j;
    while (d >= 0x80) {
      bytes.push((d & 0x7f) | 0x80);
      d >>>= 7;
    }
    bytes.push(d);
  }
  const q16 = Int16Array.from(vals);
  return {
    nnz: idx.length,
    indices: Buffer.from(Uint8Array.from(bytes)).toString("base64"),
    values: Buffer.from(q16.buffer, q16.byteOffset, q16.byteLength).toString("base64"),
    scale,
  };
}

function decodeSparse(s: SparseWeights, dim: number, what: string): Float32Array {
  const w = new Float32Array(dim);
  const ib = Buffer.from(s.indices, "base64");
  const vb = Buffer.from(s.values, "base64");
  if (vb.length !== s.nnz * 2) throw new ModelLoadError(`${what}: ${vb.length} value bytes for ${s.nnz} weights`);
  let p = 0;
  let j = 0;
  for (let k = 0; k < s.nnz; k++) {
    let d = 0;
    let shift = 0;
    for (;;) {
      if (p >= ib.length) throw new ModelLoadError(`${what}: index stream ends at weight ${k}`);
      const b = ib[p++]!;
      d += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) break;
    }
    j += d;
    if (j >= dim) throw new ModelLoadError(`${what}: index ${j} outside ${dim}`);
    w[j] = vb.readInt16LE(k * 2) * s.scale;
  }
  return w;
}

export interface CategoryModel {
  readonly bits: number;
  readonly labels: readonly string[];
  readonly models: readonly LinearModel[];
}

export interface TrainedModel {
  readonly features: FeatureOptions;
  /** IDF table (2^bits) when features.idf is on, else null. */
  readonly idf: Float32Array | null;
  readonly binary: LinearModel;
  /** Weights of Latin-script messages when trained apart from CJK ones; null = `binary` for all. */
  readonly latinBinary?: LinearModel | null;
  readonly platt: Platt;
  /** Platt fit of Latin-script messages; null = platt for every message. */
  readonly plattLatin: Platt | null;
  /** Embedding second look for Latin-script messages (stack.ts); absent = none. */
  readonly latinStack?: LatinStack | null;
  readonly category: CategoryModel | null;
  readonly training: Record<string, unknown>;
}

function versionOf(body: Omit<ModelFile, "modelVersion" | "createdAt">): string {
  return createHash("sha256").update(JSON.stringify(body)).digest("hex").slice(0, 16);
}

/** Serialise to the versioned JSON file format; the version is a hash of the weights and settings. */
export function serializeModel(m: TrainedModel, createdAt = new Date()): string {
  const body = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    features: { ...m.features },
    idf: m.idf ? encodeSparse(m.idf) : null,
    binary: {
      bias: m.binary.bias,
      platt: { ...m.platt },
      plattLatin: m.plattLatin ? { ...m.plattLatin } : null,
      weights: encodeSparse(m.binary.weights),
      latin: m.latinBinary ? { bias: m.latinBinary.bias, weights: encodeSparse(m.latinBinary.weights) } : null,
      latinStack: m.latinStack
        ? {
            embeddingModel: m.latinStack.embeddingModel,
            weights: Array.from(m.latinStack.embedding.weights),
            bias: m.latinStack.embedding.bias,
            stacker: { ...m.latinStack.stacker },
            band: [m.latinStack.band[0], m.latinStack.band[1]] as [number, number],
          }
        : null,
    },
    category: m.category
      ? {
          bits: m.category.bits,
          labels: [...m.category.labels],
          biases: m.category.models.map((c) => c.bias),
          weights: m.category.models.map((c) => encodeSparse(c.weights)),
        }
      : null,
    training: m.training,
  } satisfies Omit<ModelFile, "modelVersion" | "createdAt">;
  const file: ModelFile = { ...body, modelVersion: versionOf(body), createdAt: createdAt.toISOString() };
  return JSON.stringify(file);
}

/**
 * A model file whose Latin-script side (weights, calibration, IDF table, embedding second look) is that of
 * `donor`: for retraining the CJK side when the embedding model the second look needs is not at hand.
 * Both files must have the same feature settings (digitRunMax aside: it applies to CJK messages only).
 * The result gets the version of what it holds; its provenance names the donor.
 */
export function graftLatinSide(file: string, donor: string): string {
  const a = ModelFileV1.parse(JSON.parse(file));
  const d = ModelFileV1.parse(JSON.parse(donor));
  const settings = (f: ModelFile["features"]): string => JSON.stringify({ ...f, digitRunMax: undefined });
  if (settings(a.features) !== settings(d.features)) throw new ModelLoadError("the donor model has other feature settings: its Latin-script side does not fit");
  if (!d.binary.latin) throw new ModelLoadError("the donor model has no Latin-script weights of its own");
  const body = {
    format: a.format,
    formatVersion: a.formatVersion,
    features: a.features,
    idf: d.idf ?? null,
    binary: { ...a.binary, latin: d.binary.latin, plattLatin: d.binary.plattLatin ?? null, latinStack: d.binary.latinStack ?? null },
    category: a.category,
    training: { ...a.training, latinSideFrom: d.modelVersion },
  } satisfies Omit<ModelFile, "modelVersion" | "createdAt">;
  return JSON.stringify({ ...body, modelVersion: versionOf(body), createdAt: a.createdAt } satisfies ModelFile);
}

export interface Prediction {
  /** Raw margin of the binary model (positive = spam side). */
  readonly decision: number;
  /** Calibrated probability of spam. */
  readonly spamProbability: number;
  /** Fine category (one of the 14 labels) or null when the model has none. */
  readonly fineCategory: string | null;
  /** advertising / fraud / illegal / other, or null. */
  readonly category: CategoryGroup | null;
  /**
   * The embedding second look (latinStack): "none" when the message does not need it, "used" when
   * spamProbability includes it, "wanted" when it would have but no embedding was given (the
   * probability is then the n-gram one).
   */
  readonly secondLook: "none" | "used" | "wanted";
}

/** A loaded model: dense weights in memory so scoring is a handful of array reads. */
export class SpamClassifier {
  readonly modelVersion: string;
  readonly file: Pick<ModelFile, "createdAt" | "features" | "training">;
  private readonly extractor: FeatureExtractor;
  private readonly weights: Float32Array;
  private readonly bias: number;
  private readonly latinWeights: Float32Array;
  private readonly latinBias: number;
  private readonly platt: Platt;
  private readonly plattLatin: Platt;
  private readonly catMask: number;
  private readonly catLabels: readonly string[];
  /** Feature-major [feature][class]: one cache line per feature instead of one per class. */
  private readonly catWeights: Float32Array;
  private readonly catBiases: Float64Array;
  private readonly catScratch: Float64Array;
  /** Embedding second look for undecided Latin-script messages, or null. */
  readonly latinStack: LatinStack | null;

  constructor(model: TrainedModel, modelVersion: string, createdAt: string) {
    this.modelVersion = modelVersion;
    this.file = { createdAt, features: { ...model.features }, training: model.training };
    this.extractor = new FeatureExtractor(model.features, model.idf);
    this.weights = model.binary.weights;
    this.bias = model.binary.bias;
    this.latinWeights = model.latinBinary?.weights ?? model.binary.weights;
    this.latinBias = model.latinBinary?.bias ?? model.binary.bias;
    this.platt = model.platt;
    this.plattLatin = model.plattLatin ?? model.platt;
    this.catMask = model.category ? (1 << model.category.bits) - 1 : 0;
    this.catLabels = model.category?.labels ?? [];
    const k = this.catLabels.length;
    this.catWeights = new Float32Array(model.category ? (1 << model.category.bits) * k : 0);
    model.category?.models.forEach((m, c) => {
      for (let j = 0; j < m.weights.length; j++) this.catWeights[j * k + c] = m.weights[j]!;
    });
    this.catBiases = Float64Array.from(model.category?.models.map((m) => m.bias) ?? []);
    this.catScratch = new Float64Array(k);
    this.latinStack = model.latinStack ?? null;
  }

  /** Features of normalised text (exposed for campaign/debug tooling); `rawText` as for predict. */
  features(normalizedText: string, rawText?: string): SparseVector {
    return this.extractor.extract(normalizedText, rawText);
  }

  /**
   * Score text already normalised by @spam/normalize. `rawText` is the message before normalisation:
   * models with features.latinViews read letter case from it (without it they see the lower-case text).
   */
  predict(normalizedText: string, rawText?: string, embedding?: ArrayLike<number>): Prediction {
    return this.predictVector(this.extractor.extractShared(normalizedText, rawText), true, embedding);
  }

  /** `embedding`: the message's sentence embedding, used only where latinStack wants it. */
  predictVector(x: SparseVector, withCategory = true, embedding?: ArrayLike<number>): Prediction {
    let s = x.latin ? this.latinBias : this.bias;
    const w = x.latin ? this.latinWeights : this.weights;
    for (let k = 0; k < x.length; k++) s += w[x.indices[k]!]! * x.values[k]!;
    const fine = withCategory ? this.fineCategoryOf(x) : null;
    let p = plattProbability(x.latin ? this.plattLatin : this.platt, s);
    let secondLook: Prediction["secondLook"] = "none";
    const stack = this.latinStack;
    if (x.latin && stack && inBand(stack, p)) {
      if (embedding) {
        p = stackedProbability(stack, s, embedding);
        secondLook = "used";
      } else secondLook = "wanted";
    }
    return { decision: s, spamProbability: p, fineCategory: fine, category: fine === null ? null : categoryGroup(fine), secondLook };
  }

  /** Whether predict would use a sentence embedding for this message (compute one only then). */
  wantsEmbedding(normalizedText: string, rawText?: string): boolean {
    if (!this.latinStack) return false;
    return this.predictVector(this.extractor.extractShared(normalizedText, rawText), false).secondLook === "wanted";
  }

  /**
   * Score without the category models (cheaper: most traffic is ham and needs none).
   * `vector` lives in scratch buffers: pass it to fineCategoryOf before the next call.
   */
  predictSpam(normalizedText: string, rawText?: string, embedding?: ArrayLike<number>): Prediction & { readonly vector: SparseVector } {
    const vector = this.extractor.extractShared(normalizedText, rawText);
    return { ...this.predictVector(vector, false, embedding), vector };
  }

  /** Category of a feature vector: the best-scoring one-vs-rest model. */
  fineCategoryOf(x: SparseVector): string | null {
    const k = this.catLabels.length;
    if (k === 0) return null;
    const t = this.catScratch;
    t.set(this.catBiases);
    const cw = this.catWeights;
    const mask = this.catMask;
    for (let f = 0; f < x.length; f++) {
      const base = (x.indices[f]! & mask) * k;
      const v = x.values[f]!;
      for (let c = 0; c < k; c++) t[c]! += cw[base + c]! * v;
    }
    let best = 0;
    for (let c = 1; c < k; c++) if (t[c]! > t[best]!) best = c;
    return this.catLabels[best]!;
  }
}

/** Parse and validate a model file's contents. */
export function loadModelFromString(content: string): SpamClassifier {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (e) {
    throw new ModelLoadError(`model file is not JSON: ${(e as Error).message}`);
  }
  const parsed = ModelFileV1.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new ModelLoadError(`invalid model file at ${first?.path.join(".") ?? "?"}: ${first?.message ?? "unknown"}`);
  }
  const f = parsed.data;
  const { modelVersion, createdAt, ...body } = f;
  if (versionOf(body) !== modelVersion) throw new ModelLoadError(`modelVersion ${modelVersion} does not match the contents`);
  const dim = 2 ** f.features.bits;
  const cat = f.category;
  if (cat && (cat.biases.length !== cat.labels.length || cat.weights.length !== cat.labels.length)) {
    throw new ModelLoadError("category labels, biases and weights differ in length");
  }
  if (f.features.idf && !f.idf) throw new ModelLoadError("features.idf is on but the file has no IDF table");
  const model: TrainedModel = {
    features: f.features,
    idf: f.features.idf && f.idf ? decodeSparse(f.idf, dim, "idf") : null,
    binary: { weights: decodeSparse(f.binary.weights, dim, "binary"), bias: f.binary.bias },
    latinBinary: f.binary.latin ? { weights: decodeSparse(f.binary.latin.weights, dim, "binary.latin"), bias: f.binary.latin.bias } : null,
    platt: f.binary.platt,
    plattLatin: f.binary.plattLatin ?? null,
    latinStack: f.binary.latinStack
      ? {
          embeddingModel: f.binary.latinStack.embeddingModel,
          embedding: { weights: Float32Array.from(f.binary.latinStack.weights), bias: f.binary.latinStack.bias },
          stacker: f.binary.latinStack.stacker,
          band: f.binary.latinStack.band,
        }
      : null,
    category: cat
      ? {
          bits: cat.bits,
          labels: cat.labels,
          models: cat.labels.map((l, i) => ({
            weights: decodeSparse(cat.weights[i]!, 2 ** cat.bits, `category ${l}`),
            bias: cat.biases[i]!,
          })),
        }
      : null,
    training: f.training,
  };
  return new SpamClassifier(model, modelVersion, createdAt);
}

export async function loadModel(path: string): Promise<SpamClassifier> {
  const { readFile } = await import("node:fs/promises");
  return loadModelFromString(await readFile(path, "utf8"));
}
