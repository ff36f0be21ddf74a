import { parseArgs } from "node:util";
import { crossValidate } from "@spam/classifier";
import { loadRuleSet } from "@spam/rules";
import { UsageError, type Command } from "../command.js";
import { embedForTraining, loadExamples, progressBar } from "../data.js";
import { TRAIN_ARG_OPTIONS, fileWeight, pipelineOptions, relabelled, trainingRelabel } from "../options.js";
import { classTable } from "./classes.js";
import { scorerCrossValidate, scorerCvFigures, thresholdTable, writeOutOfFold } from "./scorer-cv.js";

export const cvCommand: Command = {
  name: "cv",
  summary: "k-fold cross-validation on one data set (extra sets join every training fold)",
  usage: "spam cv --data F.tsv [--extra G.tsv …] [--folds 5] [--seed 42] [--scorer] [--rules DIR] [--oof OUT.jsonl] [--no-calibration] [--solver …] [--c …] [--neg-weight …] [--category-c …] [--token-ngrams 2-5|0] [--latin-ngram-max 5] [--no-idf] [--mask-token-digits] [--no-latin-views] [--no-separate-latin] [--no-cjk-transfer] [--digit-run-max N] [--weight PATTERN=W …] [--commercial-as-spam | --commercial-out] [--category-bits 18] [--category-balance B] [--no-embedding] [--embedding-model DIR] [--json]",
  async run(argv, io) {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        data: { type: "string" },
        extra: { type: "string", multiple: true },
        folds: { type: "string" },
        seed: { type: "string" },
        "no-calibration": { type: "boolean" },
        "fixture-weight": { type: "string" },
        json: { type: "boolean" },
        /** Cross-validate the whole scorer as deployed (a full model per fold), with --rules when given. */
        scorer: { type: "boolean" },
        rules: { type: "string" },
        /** Write the scorer's out-of-fold verdicts here (JSON lines), for choosing thresholds. */
        oof: { type: "string" },
        ...TRAIN_ARG_OPTIONS,
      },
      strict: true,
    });
    if (!values.data) throw new UsageError("--data is required");
    const folds = Number(values.folds ?? "5");
    if (!Number.isInteger(folds) || folds < 2) throw new UsageError("--folds must be an integer ≥ 2");
    const fw = Number(values["fixture-weight"] ?? "5");
    const requested = pipelineOptions(values); // usage errors before any file is read
    const target = await loadExamples([values.data], io, fileWeight(values.weight, 1));
    // Without both binary classes or any category, every figure would be null: say what the file holds instead.
    const rows = target.examples;
    const binary = rows.some((e) => e.category === null && e.spam) && rows.some((e) => !e.spam);
    if (!binary && !rows.some((e) => e.category !== null)) {
      const f = target.files[0]!;
      throw new Error(`${values.data}: cross-validation needs spam and ham rows, or rows with a category (it has ${f.spam - f.categories} spam, ${f.ham} ham, ${f.categories} with a category)`);
    }
    const extra = await loadExamples(values.extra ?? [], io, fileWeight(values.weight, fw));
    const started = Date.now();
    const relabel = trainingRelabel(values);
    // Extra rows only train; target rows are relabelled only where they train (scorer CV), never where scored.
    const extraRows = relabelled(extra.examples, relabel);
    const { opts, sets } = await embedForTraining(requested, [target.examples, extraRows], values["embedding-model"], io);
    if (values.scorer || values.rules) {
      const ruleSet = values.rules ? await loadRuleSet(values.rules) : null;
      const oof = scorerCrossValidate(sets[0]!, sets[1]!, opts, ruleSet, undefined, folds, Number(values.seed ?? "42"), progressBar(io), relabel);
      if (values.oof) await writeOutOfFold(values.oof, oof);
      const figures = scorerCvFigures(sets[0]!, oof, values.data);
      const out = { data: values.data, extra: values.extra ?? [], folds, rules: values.rules ?? null, seconds: (Date.now() - started) / 1000, ...figures, thresholds: thresholdTable(oof) };
      if (values.json) io.stdout.write(`${JSON.stringify(out)}\n`);
      else {
        const { classes, ...rest } = out;
        io.stdout.write(`${JSON.stringify(rest, null, 2)}\n\n${classTable(classes)}\n`);
      }
      return 0;
    }
    const r = crossValidate(sets[0]!, sets[1]!, opts, folds, Number(values.seed ?? "42"), !values["no-calibration"], 0.5, progressBar(io));
    const out = {
      data: values.data,
      extra: values.extra ?? [],
      folds,
      solver: opts.train.solver,
      C: opts.train.C,
      negativeWeight: opts.train.negativeWeight,
      latinStack: opts.latinStack ?? null,
      calibrated: !values["no-calibration"],
      seconds: (Date.now() - started) / 1000,
      binary: r.binary,
      binaryAtZeroMargin: r.binaryAtZero,
      categories: r.category,
      categoryGroups: r.categoryGroups,
    };
    io.stdout.write(values.json ? `${JSON.stringify(out)}\n` : `${JSON.stringify(out, null, 2)}\n`);
    return 0;
  },
};
