import { parseArgs } from "node:util";
import { binaryMetrics, categoryMetrics, loadModel } from "@spam/classifier";
import { categoryGroup } from "@spam/contracts";
import { loadRuleSet } from "@spam/rules";
import { createScorer } from "@spam/scoring";
import { UsageError, type Command } from "../command.js";
import { embedderFor, embedWanted, loadExamples, unrelatedReceivedAt } from "../data.js";
import { classFigures, classTable, type Outcome } from "./classes.js";

export const evalCommand: Command = {
  name: "eval",
  summary: "evaluate a model (or, with --rules, the whole scorer) on labelled data; rows are unrelated messages (no velocity between rows)",
  usage: "spam eval --model MODEL --data F.tsv [--data …] [--scorer] [--rules DIR] [--source NUMBER] [--threshold 0.5] [--embedding-model DIR] [--json]",
  async run(argv, io) {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        model: { type: "string" },
        data: { type: "string", multiple: true },
        rules: { type: "string" },
        scorer: { type: "boolean" },
        source: { type: "string" },
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
    const { examples, files } = await loadExamples(values.data, io);
    if (examples.length === 0) throw new Error(`${values.data.join(", ")}: no labelled rows to evaluate (label<TAB>text, one a line)`);
    // Rows are loaded file by file, in order.
    const fileOf = files.flatMap((f) => new Array<string>(f.rows).fill(f.file));
    const binaryIdx = examples.flatMap((e, i) => (e.category === null ? [i] : []));
    const binary = binaryIdx.map((i) => examples[i]!);
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
    const useScorer = values.rules !== undefined || values.scorer === true;
    // Whole scorer (rules when given): a message counts as called spam when it is flagged or blocked.
    const verdicts = useScorer
      ? binary.map((_, i) => {
          const embedding = embeddings[i];
          return scorer.score({ id: `eval-${i}`, text: raw[i]!, source: values.source ?? "", destination: "", receivedAt: unrelatedReceivedAt(i), ...(embedding ? { embedding } : {}) });
        })
      : null;
    // Commercial is its own class, not a spam call: the per-class figures below count it apart.
    if (verdicts) out["scorer"] = binaryMetrics(binary.map((e) => e.spam), verdicts.map((v) => v.label === "spam" || v.label === "suspect"));
    if (binary.length > 0) {
      const pred = binary.map((e, i) => clf.predict(e.text, e.raw, embeddings[i]).spamProbability >= threshold);
      Object.assign(out, binaryMetrics(binary.map((e) => e.spam), pred));
      const outcomes: Outcome[] = binary.map((e, i) => ({
        spam: e.spam,
        raw: raw[i]!,
        file: fileOf[binaryIdx[i]!]!,
        label: verdicts ? verdicts[i]!.label : null,
        action: verdicts ? verdicts[i]!.action : null,
        category: verdicts ? verdicts[i]!.category : null,
        model: pred[i]!,
      }));
      out["classes"] = classFigures(outcomes);
    }
    if (cats.length > 0) {
      const predFine = cats.map((e) => clf.predict(e.text, e.raw).fineCategory ?? "none");
      const truth = cats.map((e) => e.category!);
      out["categories"] = categoryMetrics(truth, predFine);
      out["category_groups"] = categoryMetrics(truth.map(categoryGroup), predFine.map(categoryGroup));
      out["spam_recall_on_category_rows"] = cats.filter((e) => clf.predict(e.text, e.raw).spamProbability >= threshold).length / cats.length;
    }
    if (values.json) io.stdout.write(`${JSON.stringify(out)}\n`);
    else {
      const { classes, ...rest } = out;
      io.stdout.write(`${JSON.stringify(rest, null, 2)}\n`);
      if (Array.isArray(classes)) io.stdout.write(`\nper class (spam, suspect, commercial = the scorer's label; blocked = action block, flagged = action flag, called = either; kinds: messageKind in @spam/scoring)\n${classTable(classes)}\n`);
    }
    return 0;
  },
};
