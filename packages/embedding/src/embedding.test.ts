import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lengthGroups } from "./embedder.js";
import { createSentenceEmbedder, defaultEmbeddingModelDir, EmbeddingModelError, type SentenceEmbedder } from "./embedder.js";

// Real model, built by infra/bin/bootstrap.sh (npm test runs it first).
let embedder: SentenceEmbedder;
beforeAll(async () => {
  embedder = await createSentenceEmbedder();
});
afterAll(async () => {
  await embedder?.close();
});

const dot = (a: Float32Array, b: Float32Array): number => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe("defaultEmbeddingModelDir", () => {
  it("reads no environment: the caller passes another directory as modelDir", () => {
    const before = process.env["EMBEDDING_MODEL_DIR"];
    process.env["EMBEDDING_MODEL_DIR"] = join(tmpdir(), "not-the-model");
    try {
      expect(defaultEmbeddingModelDir()).toMatch(/[/\\]\.tools[/\\]models[/\\]all-minilm-l6-v2$/);
    } finally {
      if (before === undefined) delete process.env["EMBEDDING_MODEL_DIR"];
      else process.env["EMBEDDING_MODEL_DIR"] = before;
    }
  });
});

describe("createSentenceEmbedder", () => {
  it("matches an independent numpy implementation of all-MiniLM-L6-v2", async () => {
    const [v] = await embedder.embed(["This is a test"]);
    expect(embedder.modelId).toBe("all-MiniLM-L6-v2@53aa5117");
    expect(embedder.dimension).toBe(384);
    expect(v).toHaveLength(384);
    const expected = { 0: 0.030612389, 1: 0.013831421, 2: -0.020843783, 3: 0.016327921, 380: 0.11295994, 381: -0.016820395, 382: 0.094176471, 383: -0.044842832 };
    for (const [i, want] of Object.entries(expected)) expect(Math.abs(v![Number(i)]! - want)).toBeLessThan(1e-4);
  });

  it("gives the same vectors batched as one at a time (padding does not leak) and keeps input order", async () => {
    const texts = [
      "Free entry in 2 a wkly comp to win FA Cup final tkts 21st May 2005. Text FA to 87121 to receive entry question",
      "ok",
      "",
      "Are we still meeting for lunch tomorrow? I can pick you up at noon if that works.",
      "URGENT! Your mobile number has been awarded a £2000 prize. Call 09061701461 now, claim code KL341. Valid 12 hrs only",
      "see you soon",
      // Near in length to the texts above, so they share a batch and get padded.
      "see you very soon then",
      "Are we still meeting for lunch tomorrow? I can pick you up at noon.",
    ];
    const batched = await embedder.embed(texts);
    expect(batched).toHaveLength(texts.length);
    for (let i = 0; i < texts.length; i++) {
      const [single] = await embedder.embed([texts[i]!]);
      for (let d = 0; d < 384; d++) expect(Math.abs(batched[i]![d]! - single![d]!)).toBeLessThan(1e-5);
    }
  });

  it("batches across maxBatch boundaries", async () => {
    const small = await createSentenceEmbedder({ maxBatch: 2 });
    try {
      const texts = ["one", "two words", "a slightly longer third text", "four", "and the fifth message of all"];
      const [a, b] = [await small.embed(texts), await embedder.embed(texts)];
      for (let i = 0; i < texts.length; i++) expect(dot(a[i]!, b[i]!)).toBeGreaterThan(1 - 1e-5);
    } finally {
      await small.close();
    }
  });

  it("returns unit-length vectors, including for the empty string", async () => {
    for (const v of await embedder.embed(["Call me when you get this", ""])) expect(Math.abs(Math.sqrt(dot(v, v)) - 1)).toBeLessThan(1e-5);
  });

  it("puts a paraphrase closer than an unrelated sentence", async () => {
    const [a, para, other] = await embedder.embed([
      "Congratulations, you have won a free holiday. Call now to claim your prize.",
      "You are a winner of a free trip! Phone us today to collect your reward.",
      "Can you buy some milk on the way home tonight?",
    ]);
    expect(dot(a!, para!)).toBeGreaterThan(dot(a!, other!) + 0.2);
  });

  it("truncates a 2,000-word text to the model's 256 tokens", async () => {
    const words = "please reply stop to unsubscribe from these offers".split(" ");
    const long = Array.from({ length: 2000 }, (_, i) => words[i % words.length]).join(" ");
    const [v, prefix] = await embedder.embed([long, long.split(" ").slice(0, 600).join(" ")]);
    expect(v).toHaveLength(384);
    expect(v!.every(Number.isFinite)).toBe(true);
    // Both exceed 256 tokens, so both are cut to the same first 254 word pieces.
    for (let d = 0; d < 384; d++) expect(Math.abs(v![d]! - prefix![d]!)).toBeLessThan(1e-5);
  });

  it("returns [] for no texts", async () => {
    expect(await embedder.embed([])).toEqual([]);
  });

  it("throws EmbeddingModelError naming the missing file when the model is not built", async () => {
    const dir = mkdtempSync(join(tmpdir(), "no-model-"));
    try {
      const err = await createSentenceEmbedder({ modelDir: dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EmbeddingModelError);
      expect((err as Error).message).toContain(join(dir, "model.json"));
      expect((err as Error).message).toContain("run infra/bin/bootstrap.sh");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a model directory that holds another model than the one expected", async () => {
    const err = await createSentenceEmbedder({ expectedModelId: "other-model@1" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddingModelError);
    expect((err as Error).message).toContain("other-model@1 is expected");
  });

  it("refuses embed() after close()", async () => {
    const e = await createSentenceEmbedder();
    await e.close();
    await expect(e.embed(["hi"])).rejects.toThrow(/close/);
  });
});

describe("lengthGroups", () => {
  it("covers every index once, in groups of at most maxBatch with similar lengths", () => {
    const lengths = [5, 40, 6, 7, 41, 5, 120, 6, 5, 39, 5, 5];
    const groups = lengthGroups(lengths.map((n) => new Array<number>(n).fill(1)), 3);
    expect(groups.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
    for (const g of groups) {
      expect(g.length).toBeLessThanOrEqual(3);
      const ls = g.map((i) => lengths[i]!);
      expect(Math.max(...ls) * ls.length).toBeLessThanOrEqual(1.25 * ls.reduce((a, b) => a + b, 0));
    }
    expect(groups.find((g) => g.includes(6))).toEqual([6]);
  });
});
