import { normalize } from "@spam/normalize";
import { loadCorpus, percentile } from "./corpus.js";
import { usageOnHelp } from "./lib/usage.js";

usageOnHelp(`usage: node benchmarks/dist/normalize.bench.js [--data FILE.tsv] [--seconds N]`);
const argv = process.argv.slice(2);
const secIdx = argv.indexOf("--seconds");
const seconds = secIdx >= 0 ? Number(argv[secIdx + 1]) : 3;
const { texts, source } = loadCorpus(argv);
const avgLen = texts.reduce((a, t) => a + t.length, 0) / texts.length;

// Warm up so the JIT has compiled the hot path before we measure.
let sink = 0;
for (let r = 0; r < 3; r++) for (const t of texts) sink += normalize(t).compact.length;

const samples = new Float64Array(Math.min(texts.length * 50, 2_000_000));
let n = 0;
const start = process.hrtime.bigint();
const deadline = start + BigInt(Math.round(seconds * 1e9));
let now = start;
outer: for (;;) {
  for (const t of texts) {
    const t0 = process.hrtime.bigint();
    sink += normalize(t).compact.length;
    now = process.hrtime.bigint();
    if (n < samples.length) samples[n] = Number(now - t0) / 1000;
    n++;
    if (now > deadline) break outer;
  }
}
const elapsed = Number(now - start) / 1e9;
const lat = samples.subarray(0, Math.min(n, samples.length)).sort();
process.stdout.write(
  JSON.stringify({
    bench: "normalize",
    source,
    messages: texts.length,
    avgChars: Math.round(avgLen),
    iterations: n,
    msgsPerSec: Math.round(n / elapsed),
    usPerMsgMean: Number(((elapsed * 1e6) / n).toFixed(2)),
    usP50: Number(percentile(lat, 50).toFixed(2)),
    usP99: Number(percentile(lat, 99).toFixed(2)),
    sink: sink % 7,
  }) + "\n",
);
