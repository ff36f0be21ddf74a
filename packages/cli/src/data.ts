import { readFile } from "node:fs/promises";
import { isLatinScript, parseLabelledTsv, type Example, type PipelineOptions } from "@spam/classifier";
import { createSentenceEmbedder, type SentenceEmbedder } from "@spam/embedding";
import { normalize } from "@spam/normalize";
import { VELOCITY_WINDOW_MAX_SECONDS } from "@spam/rules";
import type { CommandIo } from "./command.js";

/** Progress bar on stderr (redrawn in place on a TTY, a line per stage otherwise). */
export function progressBar(io: CommandIo): (stage: string, done: number, total: number) => void {
  const tty = (io.stderr as NodeJS.WriteStream).isTTY === true;
  let last = "";
  return (stage, done, total) => {
    const width = 30;
    const frac = total === 0 ? 1 : done / total;
    const filled = Math.round(frac * width);
    const line = `${stage.padEnd(14)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}`;
    if (tty) {
      io.stderr.write(`\r${line}`);
      if (done >= total) io.stderr.write("\n");
    } else if (done >= total || stage !== last) io.stderr.write(`${line}\n`);
    last = stage;
  };
}

/**
 * When row `i` of a file (or line `i` of stdin) is received by `spam eval` and `spam score`. Rows are
 * unrelated messages, so each arrives after the longest velocity window since the one before: with
 * `--source` every row has the same sender, and rows received together would be that sender's burst
 * (more than 20 a minute trips `velocity.rate`, and a velocity hit corroborates a block).
 */
export function unrelatedReceivedAt(i: number): number {
  return UNRELATED_EPOCH_MS + i * (VELOCITY_WINDOW_MAX_SECONDS * 1000 + 1);
}
const UNRELATED_EPOCH_MS = Date.UTC(2020, 0, 1);

export interface LoadedData {
  readonly examples: Example[];
  readonly files: { file: string; rows: number; spam: number; ham: number; categories: number; malformed: number }[];
}

/**
 * Read labelled TSV files; malformed lines are reported on stderr with their numbers
 * and skipped. Texts are normalised exactly as the scorer normalises them.
 */
export async function loadExamples(files: readonly string[], io: CommandIo, weight?: (file: string) => number): Promise<LoadedData> {
  const examples: Example[] = [];
  const summary: LoadedData["files"] = [];
  for (const file of files) {
    const parsed = parseLabelledTsv(await readFile(file, "utf8"));
    for (const m of parsed.malformed.slice(0, 20)) io.stderr.write(`${file}:${m.line}: skipped: ${m.reason}\n`);
    if (parsed.malformed.length > 20) io.stderr.write(`${file}: ${parsed.malformed.length - 20} more malformed lines skipped\n`);
    const w = weight?.(file) ?? 1;
    let spam = 0;
    let categories = 0;
    for (const r of parsed.rows) {
      examples.push({ text: normalize(r.text).text, raw: r.text, spam: r.spam, category: r.category, ...(w !== 1 ? { weight: w } : {}) });
      if (r.spam) spam++;
      if (r.category !== null) categories++;
    }
    summary.push({
      file,
      rows: parsed.rows.length,
      spam,
      ham: parsed.rows.length - spam,
      categories,
      malformed: parsed.malformed.length,
    });
  }
  return { examples, files: summary };
}

/**
 * Embeddings for the Latin-script examples (the rows the model's second look trains on); other rows
 * are returned unchanged. About 8 ms a message on one core, so a progress bar is shown.
 */
async function attachEmbeddings(examples: readonly Example[], embedder: SentenceEmbedder, io: CommandIo): Promise<Example[]> {
  const idx = examples.flatMap((e, i) => (e.category === null && isLatinScript(e.text) ? [i] : []));
  const out = [...examples];
  const progress = progressBar(io);
  const chunk = 256;
  for (let k = 0; k < idx.length; k += chunk) {
    progress("embeddings", k, idx.length);
    const part = idx.slice(k, k + chunk);
    const vectors = await embedder.embed(part.map((i) => examples[i]!.raw ?? examples[i]!.text));
    part.forEach((i, j) => {
      out[i] = { ...examples[i]!, embedding: vectors[j]! };
    });
  }
  progress("embeddings", idx.length, idx.length);
  return out;
}

/** --embedding-model, else EMBEDDING_MODEL_DIR, else the directory bootstrap builds (@spam/embedding reads no environment). */
function modelDirOption(dir: string | undefined): { modelDir?: string } {
  const chosen = dir ?? process.env["EMBEDDING_MODEL_DIR"];
  return chosen ? { modelDir: chosen } : {};
}

/** The embedder a model with a second look needs (null: the model has none), refusing another embedding model. */
export async function embedderFor(expectedModel: string | null, dir: string | undefined): Promise<SentenceEmbedder | null> {
  if (expectedModel === null) return null;
  return createSentenceEmbedder({ ...modelDirOption(dir), expectedModelId: expectedModel });
}

/**
 * For training with the second look (opts.latinStack): embeds the Latin-script rows of every set and
 * records the embedding model's id in the options. Without latinStack, returns the sets unchanged.
 */
export async function embedForTraining(
  opts: PipelineOptions,
  sets: readonly (readonly Example[])[],
  dir: string | undefined,
  io: CommandIo,
): Promise<{ opts: PipelineOptions; sets: Example[][] }> {
  if (!opts.latinStack) return { opts, sets: sets.map((s) => [...s]) };
  const embedder = await createSentenceEmbedder(modelDirOption(dir));
  try {
    const out: Example[][] = [];
    for (const s of sets) out.push(await attachEmbeddings(s, embedder, io));
    return { opts: { ...opts, latinStack: { ...opts.latinStack, embeddingModel: embedder.modelId } }, sets: out };
  } finally {
    await embedder.close();
  }
}

/** Embeddings of the texts for which `wants` says yes (one batched call), undefined for the others. */
export async function embedWanted(
  texts: readonly string[],
  wants: (i: number) => boolean,
  embedder: SentenceEmbedder | null,
): Promise<(Float32Array | undefined)[]> {
  const out: (Float32Array | undefined)[] = new Array<Float32Array | undefined>(texts.length).fill(undefined);
  if (!embedder) return out;
  const idx = texts.flatMap((_, i) => (wants(i) ? [i] : []));
  const vectors = await embedder.embed(idx.map((i) => texts[i]!));
  idx.forEach((i, j) => {
    out[i] = vectors[j];
  });
  return out;
}
