import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { loadModel } from "@spam/classifier";
import { loadRuleSet } from "@spam/rules";
import { createScorer } from "@spam/scoring";
import { UsageError, type Command } from "../command.js";

export const scoreCommand: Command = {
  name: "score",
  summary: "score one message per stdin line, print one JSON verdict per line",
  usage: "spam score --model MODEL [--rules DIR] [--source NUMBER] < texts.txt",
  async run(argv, io) {
    const { values } = parseArgs({
      args: [...argv],
      options: { model: { type: "string" }, rules: { type: "string" }, source: { type: "string" } },
      strict: true,
    });
    if (!values.model) throw new UsageError("--model is required");
    const model = await loadModel(values.model);
    const ruleSet = values.rules ? await loadRuleSet(values.rules) : null;
    const scorer = createScorer({ ruleSet, model });
    const rl = createInterface({ input: io.stdin, crlfDelay: Infinity });
    let n = 0;
    for await (const line of rl) {
      n++;
      if (line.trim() === "") continue;
      const v = scorer.score({ id: `stdin-${n}`, text: line, source: values.source ?? "", destination: "", receivedAt: Date.now() });
      io.stdout.write(`${JSON.stringify(v)}\n`);
    }
    return 0;
  },
};
