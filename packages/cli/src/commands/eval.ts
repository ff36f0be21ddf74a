import { parseArgs } from "node:util";
import { binaryMetrics, categoryGroup, categoryMetrics, loadModel } from "@spam/classifier";
import { loadRuleSet } from "@spam/rules";
import { createScorer } from "@spam/scoring";
import { UsageError, type Command } from "../command.js";
import { embedderFor, embedWanted, loadExamples } from "../data.js";

export const evalCommand: Command = {
  name: "eval",
  summary: "evaluate a model (or, with --rules, the whole scorer) on labelled data",
  usage: "spam eval --model MODEL --data F.tsv [--data …] [--scorer] [--rules DIR] [--threshold 0.5] [--embedding-model DIR] [--json]",
  async run(argv, io) {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        model: { type: "string" },
        data: { type: "string", multiple: true },
        rules: { type: "string" },
        scorer: { type: "boolean" },
        threshold: { type: "string" },
        "embedding-model": { type: "string" },
        json: { type: "boolean" },
      },
      strict: true,
    });
    if (!values.model) throw new UsageError("--model is required");
    if (!values.data?.length) throw new UsageError("--data is required");
    const threshold = Number(values.threshold ?? "0.5");
    const clf = await loadModel(values.model);
    const { examples } = await loadExamples(values.data, io);
    const binary = examples.filter((e) => e.category === null);
    const cats = examples.filter((e) => e.category !== null);
    const out: Record<string, unknown> = { model: values.model, modelVersion: clf.modelVersion };
    // The model's second look needs sentence embeddings of the messages it is undecided about.
    const embedder = await embedderFor(clf.latinStack?.embeddingModel ?? null, values["embedding-model"]);
    const raw = binary.map((e) => e.raw ?? e.text);
    const scorer = createScorer({ ruleSet: values.rules ? await loadRuleSet(values.rules) : null, model: clf });
    // What the model wants covers what the scorer wants (the scorer's CJK shortcut only says no more often).
    const embeddings = await embedWanted(raw, (i) => clf.wantsEmbedding(binary[i]!.text, raw[i]), embedder);
    await embedder?.close();
    out["embedded"] = embeddings.filter((e) => e !== undefined).length;
    if (values.rules || values.scorer) {
      // Whole scorer (rules when given): a message counts as called spam when it is flagged or blocked.
      const pred = binary.map((e, i) => {
        const embedding = embeddings[i];
        return scorer.score({ id: `eval-${i}`, text: raw[i]!, source: "", destination: "", receivedAt: 0, ...(embedding ? { embedding } : {}) }).label !== "ham";
      });
      out["scorer"] = binaryMetrics(binary.map((e) => e.spam), pred);
    }
    if (binary.length > 0) {
      const pred = binary.map((e, i) => clf.predict(e.text, e.raw, embeddings[i]).spamProbability >= threshold);
      Object.assign(out, binaryMetrics(binary.map((e) => e.spam), pred));
    }
    if (cats.length > 0) {
      const predFine = cats.map((e) => clf.predict(e.text, e.raw).fineCategory ?? "none");
      const truth = cats.map((e) => e.category!);
      out["categories"] = categoryMetrics(truth, predFine);
      out["category_groups"] = categoryMetrics(truth.map(categoryGroup), predFine.map(categoryGroup));
      out["spam_recall_on_category_rows"] = cats.filter((e) => clf.predict(e.text, e.raw).spamProbability >= threshold).length / cats.length;
    }
    if (values.json) io.stdout.write(`${JSON.stringify(out)}\n`);
    else io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  },
};
