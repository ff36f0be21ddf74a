import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { repoPath } from "@spam/repo-paths";
// onnxruntime-node is imported when a model is loaded, not with this module: a scorer that never sees
// an undecided English message never loads the native runtime.
type OnnxRuntime = typeof import("onnxruntime-node");

export interface SentenceEmbedder {
  /** From model.json, e.g. "all-MiniLM-L6-v2@53aa5117". */
  readonly modelId: string;
  /** 384 for all-MiniLM-L6-v2. */
  readonly dimension: number;
  /** One L2-normalised Float32Array per text, same order. Texts are truncated to 256 tokens. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

export interface EmbedderOptions {
  /** Directory built by infra/bin/bootstrap.sh; default defaultEmbeddingModelDir(). */
  modelDir?: string;
  /** onnxruntime intra-op threads; default 1. */
  threads?: number;
  /** Most texts run through the model at once; default 16. */
  maxBatch?: number;
  logger?: { info(obj: object, msg?: string): void };
  /** Refuse a model directory holding another model (e.g. the one a classifier was trained with). */
  expectedModelId?: string;
}

/** The model directory is missing or incomplete. */
export class EmbeddingModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EmbeddingModelError";
  }
}

const MODEL_FILES = ["model.json", "model.onnx", "tokenizer.json", "tokenizer_config.json"] as const;

/**
 * <repo>/.tools/models/all-minilm-l6-v2, where bootstrap.sh builds it. The library reads no environment:
 * a service's env.ts (EMBEDDING_MODEL_DIR) or the CLI passes another directory as `modelDir`.
 */
export function defaultEmbeddingModelDir(): string {
  // Both src/ and dist/ sit at packages/embedding/<dir>, three levels below the repo root.
  return repoPath(".tools/models/all-minilm-l6-v2");
}

interface ModelInfo {
  id: string;
  dimension: number;
  maxTokens: number;
}

function readModelInfo(path: string): ModelInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new EmbeddingModelError(`${path} is not valid JSON (${(err as Error).message}); run infra/bin/bootstrap.sh (npm start / npm test do it)`);
  }
  const m = raw as Partial<Record<keyof ModelInfo, unknown>>;
  if (typeof m.id !== "string" || !Number.isInteger(m.dimension) || !Number.isInteger(m.maxTokens) || (m.maxTokens as number) < 2) {
    throw new EmbeddingModelError(`${path} lacks id, dimension or maxTokens; run infra/bin/bootstrap.sh (npm start / npm test do it)`);
  }
  return { id: m.id, dimension: m.dimension as number, maxTokens: m.maxTokens as number };
}

/**
 * Indices of `tokens` in groups of at most maxBatch, sorted by length, a group
 * closing early once padding would exceed a quarter of its real tokens: on one
 * CPU thread padded positions cost as much as real ones, so batching only pays
 * when the lengths are close.
 */
export function lengthGroups(tokens: readonly (readonly number[])[], maxBatch: number): number[][] {
  const order = tokens.map((_, i) => i).sort((a, b) => tokens[a]!.length - tokens[b]!.length);
  const groups: number[][] = [];
  let group: number[] = [];
  let real = 0;
  for (const i of order) {
    const len = tokens[i]!.length;
    // Sorted ascending, so adding i pads every earlier member to len.
    if (group.length > 0 && (group.length === maxBatch || len * (group.length + 1) > 1.25 * (real + len))) {
      groups.push(group);
      group = [];
      real = 0;
    }
    group.push(i);
    real += len;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/** The model directory's info, once its files are all there (and it holds `expected`, when given). */
function checkModelDir(modelDir: string, expected: string | undefined): ModelInfo {
  for (const file of MODEL_FILES) {
    if (!existsSync(join(modelDir, file))) {
      throw new EmbeddingModelError(`embedding model file ${join(modelDir, file)} is missing; run infra/bin/bootstrap.sh (npm start / npm test do it)`);
    }
  }
  const info = readModelInfo(join(modelDir, "model.json"));
  if (expected !== undefined && info.id !== expected) {
    throw new EmbeddingModelError(`${modelDir} holds the embedding model ${info.id}, but ${expected} is expected (the one the classifier was trained with)`);
  }
  return info;
}

/**
 * Checks that a model directory is complete (and holds `expected`, when given) and returns its id,
 * without loading the model (about 150 MB of memory): a service can fail fast at start and load
 * only when needed.
 */
export function embeddingModelId(modelDir: string = defaultEmbeddingModelDir(), expected?: string): string {
  return checkModelDir(modelDir, expected).id;
}

export async function createSentenceEmbedder(options: EmbedderOptions = {}): Promise<SentenceEmbedder> {
  const modelDir = options.modelDir ?? defaultEmbeddingModelDir();
  const threads = positiveInt("threads", options.threads ?? 1);
  const maxBatch = positiveInt("maxBatch", options.maxBatch ?? 16);
  const t0 = performance.now();
  const info = checkModelDir(modelDir, options.expectedModelId);
  const tokenizer = new Tokenizer(
    JSON.parse(readFileSync(join(modelDir, "tokenizer.json"), "utf8")),
    JSON.parse(readFileSync(join(modelDir, "tokenizer_config.json"), "utf8")),
  );
  const sepId = tokenizer.token_to_id("[SEP]");
  if (sepId === undefined) throw new EmbeddingModelError(`${join(modelDir, "tokenizer.json")} has no [SEP] token`);
  const { InferenceSession, Tensor }: OnnxRuntime = await import("onnxruntime-node");
  const session = await InferenceSession.create(join(modelDir, "model.onnx"), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  options.logger?.info({ modelId: info.id, modelDir, threads, maxBatch, loadMs: Math.round(performance.now() - t0) }, "sentence-embedding model loaded");

  // tokenizer.json's own truncation (128) is not applied by the JS tokenizer; the
  // limit is sentence-transformers' max_seq_length, keeping [CLS] … [SEP] intact.
  const tokenize = (text: string): number[] => {
    const ids = tokenizer.encode(text).ids;
    if (ids.length <= info.maxTokens) return ids;
    const cut = ids.slice(0, info.maxTokens - 1);
    cut.push(sepId);
    return cut;
  };

  const runBatch = async (batch: readonly number[][]): Promise<Float32Array[]> => {
    const width = Math.max(...batch.map((ids) => ids.length));
    const inputIds = new BigInt64Array(batch.length * width);
    const mask = new BigInt64Array(batch.length * width); // 0 on padding, so pads neither attend nor pool
    batch.forEach((ids, row) => {
      for (let j = 0; j < ids.length; j++) {
        inputIds[row * width + j] = BigInt(ids[j]!);
        mask[row * width + j] = 1n;
      }
    });
    const out = await session.run({
      input_ids: new Tensor("int64", inputIds, [batch.length, width]),
      attention_mask: new Tensor("int64", mask, [batch.length, width]),
    });
    const embedding = out["embedding"];
    if (!embedding || embedding.dims[1] !== info.dimension) {
      throw new EmbeddingModelError(`model.onnx in ${modelDir} does not output embedding [batch, ${info.dimension}]`);
    }
    const data = embedding.data as Float32Array;
    return batch.map((_, row) => data.slice(row * info.dimension, (row + 1) * info.dimension));
  };

  // One model run at a time per embedder, so concurrent callers stay within `threads`
  // cores and close() can wait for the run in flight before releasing the session.
  let closed = false;
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = tail.then(fn);
    tail = next.catch(() => undefined);
    return next;
  };

  return {
    modelId: info.id,
    dimension: info.dimension,
    async embed(texts) {
      if (closed) throw new Error("embed() after close()");
      if (texts.length === 0) return [];
      const tokens = texts.map(tokenize);
      const result = new Array<Float32Array>(texts.length);
      for (const group of lengthGroups(tokens, maxBatch)) {
        const vectors = await serial(() => {
          if (closed) throw new Error("embedder closed during embed()");
          return runBatch(group.map((i) => tokens[i]!));
        });
        group.forEach((i, k) => (result[i] = vectors[k]!));
      }
      return result;
    },
    async close() {
      if (closed) return;
      closed = true;
      await tail;
      await session.release();
    },
  };
}
