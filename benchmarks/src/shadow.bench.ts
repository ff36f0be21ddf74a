import { loadavg } from "node:os";
import pino from "pino";
import { repoPath } from "@spam/repo-paths";
import { loadModel } from "@spam/classifier";
import { loadRuleSet } from "@spam/rules";
import { ModalRuleEngine, ModelSwitch } from "@spam/scorer-service";
import { createScorer } from "@spam/scoring";
import { loadCorpus } from "./corpus.js";
import { usageOnHelp } from "./lib/usage.js";

usageOnHelp(`usage: nice -n 10 node benchmarks/dist/shadow.bench.js [--model FILE] [--shadow FILE] [--rules DIR] [--data FILE.tsv] [--rounds 6] [--per-round 20000]`);
// The scorer's cost per message without and with a shadow model, as the scoring worker runs it
// (ModelSwitch over the live scorer; rules with velocity windows). Rounds alternate the two set-ups in
// one process so both see the same machine load; CPU time of this process per message is reported.
const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const modelPath = arg("--model") ?? repoPath("packages/classifier/models/default.model.json");
const shadowPath = arg("--shadow") ?? modelPath;
const rounds = Number(arg("--rounds") ?? 6);
const perRound = Number(arg("--per-round") ?? 20_000);
const logger = pino({ level: "silent" });
const { texts, source } = loadCorpus(argv);
const live = await loadModel(modelPath);
const shadowModel = await loadModel(shadowPath);
const rules = await loadRuleSet(arg("--rules") ?? repoPath("rules"));
const senders = Array.from({ length: 5000 }, (_, i) => `1${38 + (i % 10)}${String(10_000_000 + i * 7919).slice(-8)}`);

function setUp(withShadow: boolean): ModelSwitch {
  const engine = new ModalRuleEngine(rules);
  const scorer = createScorer({ ruleSet: engine, model: live });
  const sw = new ModelSwitch({ live: scorer, engine, shadowOptions: {}, source: { load: async () => shadowModel, state: async () => ({ live: null, shadow: null }) }, embeddingModel: live.latinStack?.embeddingModel ?? null, liveModel: live, logger });
  if (withShadow) void sw.apply({ live: live.modelVersion, shadow: shadowModel.modelVersion });
  return sw;
}
const plain = setUp(false);
const shadowed = setUp(true);
await new Promise((r) => setTimeout(r, 10)); // the shadow's apply() settles

let seq = 0;
let at = 1_700_000_000_000;
function run(sw: ModelSwitch, count: number): { cpuUs: number; wallUs: number } {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const text = texts[seq % texts.length]!;
    sw.score({ id: `b${seq}`, text, source: senders[seq % senders.length]!, destination: "13900000000", receivedAt: at++, kind: "traffic" });
    seq++;
  }
  const cpu = process.cpuUsage(cpu0);
  return { cpuUs: cpu.user + cpu.system, wallUs: Number(process.hrtime.bigint() - t0) / 1000 };
}
run(plain, Math.min(5_000, perRound)); // warm-up (JIT)
run(shadowed, Math.min(5_000, perRound));
const totals = { plain: { cpuUs: 0, wallUs: 0, n: 0 }, shadow: { cpuUs: 0, wallUs: 0, n: 0 } };
for (let r = 0; r < rounds; r++) {
  // Alternate which goes first, so neither always runs on a warmer cache.
  const order: ["plain" | "shadow", ModelSwitch][] = r % 2 === 0 ? [["plain", plain], ["shadow", shadowed]] : [["shadow", shadowed], ["plain", plain]];
  for (const [name, sw] of order) {
    const t = run(sw, perRound);
    totals[name].cpuUs += t.cpuUs;
    totals[name].wallUs += t.wallUs;
    totals[name].n += perRound;
  }
}
const perMsg = (t: { cpuUs: number; n: number }) => Number((t.cpuUs / t.n).toFixed(2));
process.stdout.write(
  `${JSON.stringify({
    bench: "scorer-shadow",
    source,
    model: live.modelVersion,
    shadowModel: shadowModel.modelVersion,
    messagesEach: totals.plain.n,
    cpuUsPerMsgWithoutShadow: perMsg(totals.plain),
    cpuUsPerMsgWithShadow: perMsg(totals.shadow),
    shadowOverhead: Number((totals.shadow.cpuUs / totals.plain.cpuUs).toFixed(3)),
    wallUsPerMsgWithoutShadow: Number((totals.plain.wallUs / totals.plain.n).toFixed(2)),
    wallUsPerMsgWithShadow: Number((totals.shadow.wallUs / totals.shadow.n).toFixed(2)),
    loadAvg1m: Number(loadavg()[0]!.toFixed(2)),
  })}\n`,
);
