import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { loadModel } from "@spam/classifier";
import { loadRuleSet } from "@spam/rules";
import { createSentenceEmbedder } from "@spam/embedding";
import { createScorer } from "@spam/scoring";
import { percentile } from "./corpus.js";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { REPO_ROOT } from "@spam/repo-paths";
import { usageOnHelp } from "./lib/usage.js";

usageOnHelp(`usage: node benchmarks/dist/scoring.bench.js [--model FILE] [--rules DIR] [--data FILE.tsv] [--seconds N] [--embeddings] [--baseline FILE]`);
// --baseline: old model against --model in one run, interleaved in blocks of the same messages (no embeddings).
// --embeddings: as the scorer service does, asks which messages want the model's second look and embeds
// those (one at a time, one thread) before scoring them; the time per message includes both.
// Full scoring path per message (normalise + rules + model + campaign clustering) on one core,
// over the shared Chinese training set by default (read at run time, never stored in the repo).
const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const seconds = Number(arg("--seconds") ?? 5);
const root = REPO_ROOT;
const modelPath = arg("--model") ?? resolve(root, "packages/classifier/models/default.model.json");
const rulesDir = arg("--rules") ?? resolve(root, "rules");
const dataPath = arg("--data") ?? resolve(root, "../shared/data/sms-zh-train.tsv");
if (!existsSync(dataPath)) {
  process.stderr.write(`no data at ${dataPath}; pass --data FILE.tsv\n`);
  process.exit(2);
}
const texts = readFileSync(dataPath, "utf8")
  .split("\n")
  .map((l) => l.slice(l.indexOf("\t") + 1))
  .filter((t) => t.length > 0);
const model = await loadModel(modelPath);
const ruleSet = await loadRuleSet(rulesDir);
const scorer = createScorer({ ruleSet, model });
const embedder = argv.includes("--embeddings") && model.latinStack ? await createSentenceEmbedder() : null;
let embedded = 0;
const senders = Array.from({ length: 5000 }, (_, i) => `1${38 + (i % 10)}${String(10_000_000 + i * 7919).slice(-8)}`);

const baselinePath = arg("--baseline");
if (baselinePath) {
  await compareWith(baselinePath);
  process.exit(0);
}

/** Both models score the same blocks of messages in turn, so load on a shared machine hits both alike. */
async function compareWith(path: string): Promise<void> {
  const contenders = [await loadModel(path), model].map((m) => ({ m, scorer: createScorer({ ruleSet, model: m }), lat: [] as number[], modelUs: 0 }));
  let clock = 1_700_000_000_000;
  const input = (text: string, i: number) => ({ id: `c${i}`, text, source: senders[i % senders.length]!, destination: "13900000000", receivedAt: clock++ });
  for (const c of contenders) texts.forEach((t, i) => c.scorer.score(input(t, i)));
  const block = 1000;
  const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  let pos = 0;
  while (process.hrtime.bigint() < end) {
    for (const c of contenders) {
      for (let k = 0; k < block; k++) {
        const i = (pos + k) % texts.length;
        const t0 = process.hrtime.bigint();
        const v = c.scorer.score(input(texts[i]!, i));
        c.lat.push(Number(process.hrtime.bigint() - t0) / 1000);
        c.modelUs += v.timingsUs["model"] ?? 0;
      }
    }
    pos += block;
  }
  const figures = contenders.map((c) => {
    const lat = Float64Array.from(c.lat).sort();
    return {
      modelVersion: c.m.modelVersion,
      iterations: lat.length,
      usMean: Number((lat.reduce((a, b) => a + b, 0) / lat.length).toFixed(2)),
      usP50: Number(percentile(lat, 50).toFixed(2)),
      usP99: Number(percentile(lat, 99).toFixed(2)),
      modelStageUsMean: Number((c.modelUs / lat.length).toFixed(2)),
    };
  });
  process.stdout.write(
    JSON.stringify({
      bench: "scoring, baseline against model, interleaved blocks of 1,000 messages",
      data: dataPath.replace(/^.*\/shared\//, "shared/"),
      loadAvg1m: Number(loadavg()[0]!.toFixed(2)),
      baseline: figures[0],
      model: figures[1],
    }) + "\n",
  );
}

// Warm-up pass (JIT) before timing.
let at = 1_700_000_000_000;
let seq = 0;
for (const t of texts) scorer.score({ id: `w${seq++}`, text: t, source: senders[seq % senders.length]!, destination: "13900000000", receivedAt: at++ });

const samples = new Float64Array(4_000_000);
const stage = { normalize: 0, rules: 0, model: 0, campaign: 0 };
const labels = { ham: 0, suspect: 0, spam: 0, commercial: 0 };
let n = 0;
const cpu0 = process.cpuUsage();
const start = process.hrtime.bigint();
const deadline = start + BigInt(Math.round(seconds * 1e9));
let now = start;
outer: for (;;) {
  for (const text of texts) {
    const t0 = process.hrtime.bigint();
    let embedding: Float32Array | undefined;
    if (embedder && scorer.wantsEmbedding(text)) {
      embedding = (await embedder.embed([text]))[0];
      embedded++;
    }
    const v = scorer.score({
      id: `m${seq++}`,
      text,
      source: senders[n % senders.length]!,
      destination: `139${String(n % 1e8).padStart(8, "0")}`,
      receivedAt: at++,
      ...(embedding ? { embedding } : {}),
    });
    now = process.hrtime.bigint();
    if (n < samples.length) samples[n] = Number(now - t0) / 1000;
    stage.normalize += v.timingsUs["normalize"] ?? 0;
    stage.rules += v.timingsUs["rules"] ?? 0;
    stage.model += v.timingsUs["model"] ?? 0;
    stage.campaign += v.timingsUs["campaign"] ?? 0;
    labels[v.label]++;
    n++;
    if (now > deadline) break outer;
  }
}
const elapsed = Number(now - start) / 1e9;
// On a shared machine wall time includes waiting for the CPU; CPU time is what one core costs.
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const lat = samples.subarray(0, Math.min(n, samples.length)).sort();
const mem = process.memoryUsage();
process.stdout.write(
  JSON.stringify({
    bench: "scoring (normalize+rules+model+campaigns)",
    data: dataPath.replace(/^.*\/shared\//, "shared/"),
    messages: texts.length,
    modelVersion: model.modelVersion,
    rulesetVersion: ruleSet.version,
    iterations: n,
    msgsPerSec: Math.round(n / elapsed),
    msgsPerCpuSec: Math.round(n / cpuSeconds),
    loadAvg1m: Number(loadavg()[0]!.toFixed(2)),
    usPerMsgMean: Number(((elapsed * 1e6) / n).toFixed(2)),
    usP50: Number(percentile(lat, 50).toFixed(2)),
    usP99: Number(percentile(lat, 99).toFixed(2)),
    usP999: Number(percentile(lat, 99.9).toFixed(2)),
    stageMeanUs: Object.fromEntries(Object.entries(stage).map(([k, v]) => [k, Number((v / n).toFixed(2))])),
    labels,
    embeddings: embedder ? { embedded, share: Number((embedded / n).toFixed(4)) } : null,
    campaigns: scorer.campaigns.size,
    rssMiB: Math.round(mem.rss / 2 ** 20),
    heapUsedMiB: Math.round(mem.heapUsed / 2 ** 20),
  }) + "\n",
);
await embedder?.close();
