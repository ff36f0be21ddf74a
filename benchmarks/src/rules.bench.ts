import { loadavg } from "node:os";
import { normalize } from "@spam/normalize";
import { loadRuleSet } from "@spam/rules";
import { loadCorpus, percentile } from "./corpus.js";
import { repoPath } from "@spam/repo-paths";
import { usageOnHelp } from "./lib/usage.js";

usageOnHelp(`usage: node benchmarks/dist/rules.bench.js [--rules DIR] [--data FILE.tsv] [--seconds N]`);
// Times rule evaluation alone (texts normalised beforehand) and normalise + rules together.
const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const seconds = Number(arg("--seconds") ?? 3);
const dir = arg("--rules") ?? repoPath("rules");
const { texts, source } = loadCorpus(argv);
const rs = await loadRuleSet(dir);
const normalized = texts.map((t) => normalize(t));
const senders = Array.from({ length: 5000 }, (_, i) => `1${38 + (i % 10)}${String(10_000_000 + i * 7919).slice(-8)}`);

function run(label: string, withNormalize: boolean): Record<string, unknown> {
  let hits = 0;
  let at = 1_700_000_000_000;
  for (let i = 0; i < texts.length; i++) {
    hits += rs.evaluate({ normalized: normalized[i]!, sender: senders[i % senders.length]!, recipient: "13900000000", at: at++ }).length;
  }
  const samples = new Float64Array(2_000_000);
  let n = 0;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  outer: for (;;) {
    for (let i = 0; i < texts.length; i++) {
      const t0 = process.hrtime.bigint();
      const norm = withNormalize ? normalize(texts[i]!) : normalized[i]!;
      hits += rs.evaluate({ normalized: norm, sender: senders[n % senders.length]!, recipient: `139${String(n % 1e8).padStart(8, "0")}`, at: at++ }).length;
      now = process.hrtime.bigint();
      if (n < samples.length) samples[n] = Number(now - t0) / 1000;
      n++;
      if (now > deadline) break outer;
    }
  }
  const elapsed = Number(now - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const lat = samples.subarray(0, Math.min(n, samples.length)).sort();
  return {
    bench: label,
    source,
    ruleset: rs.version,
    rules: rs.rules.length,
    keywords: rs.keywordCount,
    iterations: n,
    msgsPerSec: Math.round(n / elapsed),
    // Per CPU-second of this process: what one core does, robust to a shared, loaded machine.
    msgsPerCpuSec: Math.round(n / cpuSeconds),
    loadAvg1m: Number(loadavg()[0]!.toFixed(2)),
    usPerMsgMean: Number(((elapsed * 1e6) / n).toFixed(2)),
    usP50: Number(percentile(lat, 50).toFixed(2)),
    usP99: Number(percentile(lat, 99).toFixed(2)),
    hitsPerMsg: Number((hits / n).toFixed(2)),
  };
}

process.stdout.write(JSON.stringify(run("rules.evaluate", false)) + "\n");
process.stdout.write(JSON.stringify(run("normalize+rules", true)) + "\n");
