import { parseArgs } from "node:util";
import { runBacktest, type BacktestResult } from "@spam/learning";
import { loadRuleSet } from "@spam/rules";
import { UsageError, type Command } from "../command.js";
import { cliLogger, openStore, STORE_OPTIONS } from "./dataset-store.js";

export const rulesCommand: Command = {
  name: "rules",
  summary: "rules backtest: run a candidate rule set over the stored traffic of the last N days",
  usage: "spam rules backtest --rules DIR --days N [--samples 10] [--clickhouse URL] [--database spam] [--json]",
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub !== "backtest") throw new UsageError(`unknown sub-command ${JSON.stringify(sub ?? "")}: rules backtest`);
    const { values } = parseArgs({
      args: rest,
      options: { rules: { type: "string" }, days: { type: "string" }, samples: { type: "string" }, json: { type: "boolean" }, ...STORE_OPTIONS },
      strict: true,
    });
    if (!values.rules) throw new UsageError("--rules is required");
    const days = Number(values.days ?? "");
    if (!Number.isInteger(days) || days < 1 || days > 366) throw new UsageError("--days must be an integer 1…366");
    const samples = Number(values.samples ?? "10");
    if (!Number.isInteger(samples) || samples < 0 || samples > 1000) throw new UsageError("--samples must be an integer 0…1000");
    const rules = await loadRuleSet(values.rules);
    const logger = cliLogger();
    const ch = openStore(values, logger);
    try {
      const result = await runBacktest({ ch, rules, days, samples, logger, onProgress: (n) => io.stderr.write(`${n} messages\n`) });
      io.stdout.write(values.json ? `${JSON.stringify(result)}\n` : report(result));
    } finally {
      await ch.close();
    }
    return 0;
  },
};

function report(r: BacktestResult): string {
  const pct = (x: number | null) => (x === null ? "n/a (no reviewed message hit)" : `${(x * 100).toFixed(1)} %`);
  const lines = [
    `rule set ${r.rulesetVersion} over ${new Date(r.from).toISOString()} … ${new Date(r.to).toISOString()}`,
    `scanned        ${r.scanned} messages in ${r.seconds.toFixed(1)} s`,
    `hits           ${r.hits} messages, ${r.distinctSenders} distinct senders, ${r.campaigns} campaigns`,
    `reviewed       ${r.reviewedSpam} spam, ${r.reviewedHam} not spam: precision estimate ${pct(r.precisionEstimate)}`,
    `live allowed   ${r.hitsLiveAllowed} of the hits (the live scorer labelled them ham)`,
  ];
  lines.push("", "rule                                     hits  reviewed spam  reviewed ham");
  for (const f of [...r.byRule].sort((a, b) => b.hits - a.hits)) {
    lines.push(`${f.ruleId.padEnd(40)} ${String(f.hits).padStart(5)}  ${String(f.reviewedSpam).padStart(13)}  ${String(f.reviewedHam).padStart(12)}`);
  }
  lines.push("", "sample hits (numbers masked; texts judged legitimate withheld)");
  for (const s of r.samples) {
    lines.push(`  ${new Date(s.receivedAt).toISOString()} ${s.sender} [${s.rules.join(", ")}] live=${s.liveLabel || "none"} reviewed=${s.reviewed ?? "no"}`);
    lines.push(`    ${s.text ?? "(withheld)"}`);
  }
  return `${lines.join("\n")}\n`;
}
