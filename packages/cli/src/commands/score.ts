import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { loadModel } from "@spam/classifier";
import { loadRuleSet } from "@spam/rules";
import { createScorer } from "@spam/scoring";
import { UsageError, type Command } from "../command.js";
import { embedderFor, unrelatedReceivedAt } from "../data.js";

export const scoreCommand: Command = {
  name: "score",
  summary: "score one message per stdin line (each an unrelated message: no velocity carries between lines), print one JSON verdict per line",
  usage: "spam score --model MODEL [--rules DIR] [--source NUMBER] [--embedding-model DIR] < texts.txt",
  async run(argv, io) {
    const { values } = parseArgs({
      args: [...argv],
      options: { model: { type: "string" }, rules: { type: "string" }, source: { type: "string" }, "embedding-model": { type: "string" } },
      strict: true,
    });
    if (!values.model) throw new UsageError("--model is required");
    const model = await loadModel(values.model);
    const ruleSet = values.rules ? await loadRuleSet(values.rules) : null;
    const scorer = createScorer({ ruleSet, model });
    const embedder = await embedderFor(model.latinStack?.embeddingModel ?? null, values["embedding-model"]);
    try {
      const rl = createInterface({ input: io.stdin, crlfDelay: Infinity });
      let n = 0;
      for await (const line of rl) {
        n++;
        if (line.trim() === "") continue;
        // Only undecided Latin-script messages get an embedding (milliseconds each).
        const embedding = embedder && scorer.wantsEmbedding(line) ? (await embedder.embed([line]))[0] : undefined;
        const v = scorer.score({ id: `stdin-${n}`, text: line, source: values.source ?? "", destination: "", receivedAt: unrelatedReceivedAt(n), ...(embedding ? { embedding } : {}) });
        io.stdout.write(`${JSON.stringify(v)}\n`);
      }
    } finally {
      await embedder?.close();
    }
    return 0;
  },
};
