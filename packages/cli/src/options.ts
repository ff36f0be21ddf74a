import { DEFAULT_PIPELINE_OPTIONS, type PipelineOptions, type Solver } from "@spam/classifier";
import { normalize } from "@spam/normalize";
import { messageKind, notificationSignals } from "@spam/scoring";
import type { Example } from "@spam/classifier";
import { UsageError } from "./command.js";

/** Training knobs shared by `train` and `cv`. */
export const TRAIN_ARG_OPTIONS = {
  solver: { type: "string" },
  c: { type: "string" },
  "neg-weight": { type: "string" },
  bits: { type: "string" },
  "category-bits": { type: "string" },
  /** C of the one-vs-rest category SVMs. */
  "category-c": { type: "string" },
  "category-as-spam": { type: "boolean" },
  /** One-vs-rest category models: a class's rows weigh (other rows / its rows)^B (0 = off). */
  "category-balance": { type: "string" },
  "token-ngrams": { type: "string" },
  "latin-ngram-max": { type: "string" },
  "no-idf": { type: "boolean" },
  "mask-token-digits": { type: "boolean" },
  "latin-views": { type: "boolean" },
  "separate-latin": { type: "boolean" },
  "cjk-transfer": { type: "boolean" },
  "no-latin-views": { type: "boolean" },
  "no-separate-latin": { type: "boolean" },
  "no-cjk-transfer": { type: "boolean" },
  /** CJK messages: cut runs of masked digits longer than this (0 = off). */
  "digit-run-max": { type: "string" },
  /** Train brand promotions (messageKind commercial) labelled ham as spam: the scorer's commercial class, not the model, lets them through. */
  "commercial-as-spam": { type: "boolean" },
  /** Leave brand promotions labelled ham out of training: the scorer's commercial class, not the model, decides them. */
  "commercial-out": { type: "boolean" },
  /** Sample weight of the rows of files whose path contains PATTERN: PATTERN=W, repeatable (fixtures/ keep --fixture-weight). */
  weight: { type: "string", multiple: true },
  /** Train without the sentence-embedding second look for Latin-script messages. */
  "no-embedding": { type: "boolean" },
  /** Directory of the embedding model (default: EMBEDDING_MODEL_DIR or the one bootstrap builds). */
  "embedding-model": { type: "string" },
} as const;

function num(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number`);
  return n;
}

type OnOff = "latin-views" | "separate-latin" | "cjk-transfer";

/** A boolean option with a --no- form; both at once is a usage error. */
function flag(v: Partial<Record<OnOff | `no-${OnOff}`, boolean | undefined>>, name: OnOff, fallback: boolean | undefined): boolean {
  const on = v[name];
  const off = v[`no-${name}`];
  if (on && off) throw new UsageError(`--${name} and its --no- form were both given`);
  return on ? true : off ? false : fallback === true;
}

export function pipelineOptions(v: {
  solver?: string | undefined;
  c?: string | undefined;
  "neg-weight"?: string | undefined;
  bits?: string | undefined;
  "category-bits"?: string | undefined;
  "category-c"?: string | undefined;
  "category-as-spam"?: boolean | undefined;
  "category-balance"?: string | undefined;
  "token-ngrams"?: string | undefined;
  "latin-ngram-max"?: string | undefined;
  "no-idf"?: boolean | undefined;
  "mask-token-digits"?: boolean | undefined;
  "latin-views"?: boolean | undefined;
  "separate-latin"?: boolean | undefined;
  "cjk-transfer"?: boolean | undefined;
  "no-latin-views"?: boolean | undefined;
  "no-separate-latin"?: boolean | undefined;
  "no-cjk-transfer"?: boolean | undefined;
  "no-embedding"?: boolean | undefined;
  "digit-run-max"?: string | undefined;
}): PipelineOptions {
  const d = DEFAULT_PIPELINE_OPTIONS;
  const solver = (v.solver ?? d.train.solver) as Solver;
  if (!["svm", "logreg", "nb"].includes(solver)) throw new UsageError("--solver must be svm, logreg or nb");
  const bits = num(v.bits, "bits", d.features.bits);
  if (!Number.isInteger(bits) || bits < 12 || bits > 24) throw new UsageError("--bits must be an integer 12…24");
  const categoryBits = Math.min(bits, num(v["category-bits"], "category-bits", d.categoryBits));
  if (!Number.isInteger(categoryBits) || categoryBits < 10) throw new UsageError("--category-bits must be an integer ≥ 10");
  let { tokenNgramMin, tokenNgramMax } = d.features;
  if (v["token-ngrams"] !== undefined) {
    const m = /^(\d)-(\d)$/.exec(v["token-ngrams"]);
    if (v["token-ngrams"] === "0") [tokenNgramMin, tokenNgramMax] = [0, 0];
    else if (m && Number(m[1]) >= 1 && Number(m[1]) <= Number(m[2])) [tokenNgramMin, tokenNgramMax] = [Number(m[1]), Number(m[2])];
    else throw new UsageError("--token-ngrams must be MIN-MAX (e.g. 2-6) or 0");
  }
  const latin = v["latin-ngram-max"] === undefined ? d.features.latinCharNgramMax : Number(v["latin-ngram-max"]);
  if (!Number.isInteger(latin) || latin < 0 || latin > 8) throw new UsageError("--latin-ngram-max must be an integer 0…8");
  const digitRunMax = v["digit-run-max"] === undefined ? (d.features.digitRunMax ?? 0) : Number(v["digit-run-max"]);
  if (!Number.isInteger(digitRunMax) || digitRunMax < 0 || digitRunMax > 64) throw new UsageError("--digit-run-max must be an integer 0…64");
  const categoryBalance = v["category-balance"] === undefined ? (d.categoryBalance ?? 0) : Number(v["category-balance"]);
  if (!Number.isFinite(categoryBalance) || categoryBalance < 0 || categoryBalance > 1) throw new UsageError("--category-balance must be a number 0…1");
  return {
    ...d,
    categoryBalance,
    features: { ...d.features, ...(digitRunMax > 0 ? { digitRunMax } : {}), bits, latinCharNgramMax: latin, tokenNgramMin, tokenNgramMax, tokenDigits: v["mask-token-digits"] ? false : d.features.tokenDigits, idf: v["no-idf"] ? false : d.features.idf, latinViews: flag(v, "latin-views", d.features.latinViews) },
    categoryBits,
    categoryTrain: { ...d.categoryTrain, C: num(v["category-c"], "category-c", d.categoryTrain.C) },
    train: { ...d.train, solver, C: num(v.c, "c", d.train.C), negativeWeight: num(v["neg-weight"], "neg-weight", d.train.negativeWeight) },
    categoryAsSpam: v["category-as-spam"] ?? d.categoryAsSpam,
    separateLatin: flag(v, "separate-latin", d.separateLatin),
    cjkTransfer: flag(v, "cjk-transfer", d.cjkTransfer),
    latinStack: v["no-embedding"] ? null : d.latinStack,
  };
}

/** `--fixture-weight`: fixtures (SMS-like ham) count more than the web-text ham of the shared set. */
function fixtureWeight(file: string, weight: number): number {
  return /fixtures\//.test(file.replace(/\\/g, "/")) ? weight : 1;
}

/** `--weight PATTERN=W …` then `--fixture-weight`: the sample weight of a file's rows. */
export function fileWeight(specs: readonly string[] | undefined, fixture: number): (file: string) => number {
  const parsed = (specs ?? []).map((spec) => {
    const at = spec.lastIndexOf("=");
    const w = Number(spec.slice(at + 1));
    if (at <= 0 || !Number.isFinite(w) || w <= 0) throw new UsageError(`--weight must be PATTERN=W with W > 0, got ${spec}`);
    return { pattern: spec.slice(0, at), w };
  });
  return (file) => parsed.find((p) => file.includes(p.pattern))?.w ?? fixtureWeight(file, fixture);
}

/**
 * `--commercial-as-spam`: brand promotions (signature + unsubscribe line, `messageKind` in @spam/scoring)
 * labelled ham train as spam, so the text model scores them like the promotions of the Chinese set
 * (spam there); the scorer's commercial class decides what happens to them.
 */
function commercialAsSpam(e: Example): Example {
  if (e.spam || e.category !== null) return e;
  return messageKind(notificationSignals(normalize(e.raw ?? e.text))) === "commercial" ? { ...e, spam: true } : e;
}

/** `--commercial-out`: brand promotions labelled ham do not train (null); other rows are kept. */
function commercialOut(e: Example): Example | null {
  return commercialAsSpam(e) === e ? e : null;
}

/** What `--commercial-as-spam` / `--commercial-out` do to a training row (undefined: neither given). */
export function trainingRelabel(v: { "commercial-as-spam"?: boolean | undefined; "commercial-out"?: boolean | undefined }): ((e: Example) => Example | null) | undefined {
  if (v["commercial-as-spam"] && v["commercial-out"]) throw new UsageError("--commercial-as-spam and --commercial-out exclude each other");
  return v["commercial-as-spam"] ? commercialAsSpam : v["commercial-out"] ? commercialOut : undefined;
}

/** Rows after a training relabel (dropped rows left out). */
export function relabelled(rows: readonly Example[], relabel: ((e: Example) => Example | null) | undefined): Example[] {
  return relabel ? rows.flatMap((e) => relabel(e) ?? []) : [...rows];
}
