import { existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { createSentenceEmbedder } from "@spam/embedding";
import { percentile } from "./corpus.js";
import { REPO_ROOT } from "@spam/repo-paths";
import { usageOnHelp } from "./lib/usage.js";

usageOnHelp(`usage: node benchmarks/dist/embedding.bench.js [--data FILE.tsv] [--n 1000] [--batch 16] [--threads 1]`);
// Sentence-embedding cost (all-MiniLM-L6-v2 on onnxruntime, CPU) for N English messages,
// one at a time and in batches, over the shared UCI set by default (read at run time, never stored in the repo).
const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const root = REPO_ROOT;
const n = Number(arg("--n") ?? 1000);
const batchSize = Number(arg("--batch") ?? 16);
const threads = Number(arg("--threads") ?? 1);
const dataPath = arg("--data") ?? resolve(root, "../shared/data/sms-en-train.tsv");
const synthetic = [
  "Are we still on for dinner tonight? Running 10 min late.",
  "WINNER!! You have been selected to receive a £900 prize reward. To claim call 09061701461. Claim code KL341. Valid 12 hours only.",
  "ok see you there",
  "Your parcel is held at the depot, pay the redelivery fee at http://example.com/track within 24h or it will be returned.",
  "Can you pick up some bread on the way home? Thanks",
  "Free entry in 2 a weekly competition to win FA Cup final tickets. Text FA to 87121 to receive the entry question (std txt rate)",
];
const source = existsSync(dataPath) ? dataPath : "synthetic";
const pool =
  source === "synthetic"
    ? synthetic
    : readFileSync(dataPath, "utf8")
        .split("\n")
        .map((l) => l.slice(l.indexOf("\t") + 1))
        .filter((t) => t.length > 0);
const texts = Array.from({ length: n }, (_, i) => pool[i % pool.length]!);

const rss0 = process.memoryUsage().rss;
const embedder = await createSentenceEmbedder({ threads, maxBatch: batchSize });
const rssLoaded = process.memoryUsage().rss;
// Warm-up (first runs allocate and pick kernels) before timing.
for (const t of texts.slice(0, 20)) await embedder.embed([t]);

const summary = (perMsgMs: Float64Array, wallMs: number, cpuMs: number) => {
  const sorted = perMsgMs.slice().sort();
  return {
    msPerMsgMean: Number((wallMs / n).toFixed(3)),
    msP50: Number(percentile(sorted, 50).toFixed(3)),
    msP99: Number(percentile(sorted, 99).toFixed(3)),
    msgsPerSec: Math.round((n * 1000) / wallMs),
    cpuMsPerMsg: Number((cpuMs / n).toFixed(3)),
  };
};

// One at a time: the latency a scorer pays per message.
const single = new Float64Array(n);
let cpu0 = process.cpuUsage();
let t0 = performance.now();
for (let i = 0; i < n; i++) {
  const s = performance.now();
  await embedder.embed([texts[i]!]);
  single[i] = performance.now() - s;
}
let wall = performance.now() - t0;
let cpu = process.cpuUsage(cpu0);
const oneAtATime = summary(single, wall, (cpu.user + cpu.system) / 1000);

// In batches: per-message figures are each batch's time divided by its size.
const perMsgInBatch = new Float64Array(n);
const batchMs: number[] = [];
cpu0 = process.cpuUsage();
t0 = performance.now();
for (let i = 0; i < n; i += batchSize) {
  const batch = texts.slice(i, i + batchSize);
  const s = performance.now();
  await embedder.embed(batch);
  const ms = performance.now() - s;
  batchMs.push(ms);
  perMsgInBatch.fill(ms / batch.length, i, i + batch.length);
}
wall = performance.now() - t0;
cpu = process.cpuUsage(cpu0);
const batched = {
  ...summary(perMsgInBatch, wall, (cpu.user + cpu.system) / 1000),
  batchMsP50: Number(percentile(Float64Array.from(batchMs).sort(), 50).toFixed(3)),
  batchMsP99: Number(percentile(Float64Array.from(batchMs).sort(), 99).toFixed(3)),
};

// All N in one embed() call: it sorts by token count before cutting batches of
// --batch, so little is spent on padding (caller-side chunks above pad to their longest text).
cpu0 = process.cpuUsage();
t0 = performance.now();
await embedder.embed(texts);
wall = performance.now() - t0;
cpu = process.cpuUsage(cpu0);
const oneCall = { msPerMsgMean: Number((wall / n).toFixed(3)), msgsPerSec: Math.round((n * 1000) / wall), cpuMsPerMsg: Number(((cpu.user + cpu.system) / 1000 / n).toFixed(3)) };
const mem = process.memoryUsage();
await embedder.close();

process.stdout.write(
  JSON.stringify({
    bench: "embedding (all-MiniLM-L6-v2, onnxruntime-node CPU)",
    modelId: embedder.modelId,
    data: source.replace(/^.*\/shared\//, "shared/"),
    messages: n,
    threads,
    loadAvg1m: Number(loadavg()[0]!.toFixed(2)),
    oneAtATime,
    [`batchesOf${batchSize}`]: batched,
    [`oneCallSortedBatchesOf${batchSize}`]: oneCall,
    rssBeforeModelMiB: Math.round(rss0 / 2 ** 20),
    rssAfterLoadMiB: Math.round(rssLoaded / 2 ** 20),
    rssMiB: Math.round(mem.rss / 2 ** 20),
  }) + "\n",
);
