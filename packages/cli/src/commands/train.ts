import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { graftLatinSide, loadModelFromString, serializeModel, trainModel } from "@spam/classifier";
import { UsageError, type Command } from "../command.js";
import { embedForTraining, loadExamples, progressBar } from "../data.js";
import { TRAIN_ARG_OPTIONS, fileWeight, pipelineOptions, relabelled, trainingRelabel } from "../options.js";

export const trainCommand: Command = {
  name: "train",
  summary: "train a model from label<TAB>text files",
  usage:
    "spam train --data F.tsv [--data F2.tsv …] --out MODEL [--fixture-weight 5] [--solver svm|logreg|nb] [--c 3] [--neg-weight 0.5] [--bits 18] [--category-bits 18] [--category-c 2] [--category-as-spam] [--token-ngrams 2-5|0] [--latin-ngram-max 5] [--no-idf] [--mask-token-digits] [--no-latin-views] [--no-separate-latin] [--no-cjk-transfer] [--digit-run-max N] [--weight PATTERN=W …] [--commercial-as-spam | --commercial-out] [--category-balance B] [--latin-from MODEL] [--no-embedding] [--embedding-model DIR]",
  async run(argv, io) {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        data: { type: "string", multiple: true },
        out: { type: "string" },
        "fixture-weight": { type: "string" },
        /** Take the Latin-script side (weights, calibration, IDF, second look) from this model file. */
        "latin-from": { type: "string" },
        ...TRAIN_ARG_OPTIONS,
      },
      strict: true,
    });
    if (!values.data?.length) throw new UsageError("--data is required");
    if (!values.out) throw new UsageError("--out is required");
    const fw = Number(values["fixture-weight"] ?? "5");
    const requested = pipelineOptions(values); // usage errors before any file is read
    const started = Date.now();
    const data = await loadExamples(values.data, io, fileWeight(values.weight, fw));
    for (const f of data.files) io.stderr.write(`${f.file}: ${f.rows} rows (${f.spam} spam, ${f.ham} ham, ${f.categories} with category), ${f.malformed} malformed\n`);
    const examples = relabelled(data.examples, trainingRelabel(values));
    const { opts, sets } = await embedForTraining(requested, [examples], values["embedding-model"], io);
    const model = trainModel(sets[0]!, opts, progressBar(io), {
      data: data.files.map((f) => ({ ...f, file: f.file.replace(/^.*\/(shared\/data|fixtures)\//, "$1/") })),
      fixtureWeight: fw,
      ...(values.weight?.length ? { weights: values.weight } : {}),
      ...(values["commercial-as-spam"] ? { commercialAsSpam: true } : {}),
      ...(values["commercial-out"] ? { commercialOut: true } : {}),
    });
    const trained = serializeModel(model);
    const file = values["latin-from"] ? graftLatinSide(trained, await readFile(values["latin-from"], "utf8")) : trained;
    const clf = loadModelFromString(file); // validate what we are about to ship
    await mkdir(dirname(values.out), { recursive: true });
    await writeFile(values.out, file);
    io.stderr.write(`wrote ${values.out} (${(file.length / 1e6).toFixed(2)} MB) modelVersion=${clf.modelVersion} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    io.stdout.write(`${JSON.stringify({ out: values.out, modelVersion: clf.modelVersion, bytes: file.length })}\n`);
    return 0;
  },
};
