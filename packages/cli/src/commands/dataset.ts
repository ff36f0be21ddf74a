import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { exportDataset, toTsv } from "@spam/learning";
import { UsageError, type Command } from "../command.js";
import { cliLogger, openStore, STORE_OPTIONS } from "./dataset-store.js";

export const datasetCommand: Command = {
  name: "dataset",
  summary: "dataset export: training data from reviewed cases (numbers masked, no reporter data)",
  usage: "spam dataset export --out DIR [--holdout-weeks 1] [--clickhouse URL] [--database spam]",
  async run(argv, io) {
    const [sub, ...rest] = argv;
    if (sub !== "export") throw new UsageError(`unknown sub-command ${JSON.stringify(sub ?? "")}: dataset export`);
    const { values } = parseArgs({ args: rest, options: { out: { type: "string" }, "holdout-weeks": { type: "string" }, ...STORE_OPTIONS }, strict: true });
    if (!values.out) throw new UsageError("--out is required");
    const holdoutWeeks = Number(values["holdout-weeks"] ?? "1");
    if (!Number.isInteger(holdoutWeeks) || holdoutWeeks < 0 || holdoutWeeks > 52) throw new UsageError("--holdout-weeks must be an integer 0…52");
    const started = Date.now();
    const logger = cliLogger();
    const ch = openStore(values, logger);
    let data;
    try {
      data = await exportDataset({ ch, holdoutWeeks });
    } finally {
      await ch.close();
    }
    const train = data.rows.filter((r) => r.split === "train");
    const holdout = data.rows.filter((r) => r.split === "holdout");
    await mkdir(values.out, { recursive: true });
    await writeFile(join(values.out, "train.tsv"), toTsv(train));
    await writeFile(join(values.out, "holdout.tsv"), toTsv(holdout));
    // Every row with its split, category and group, for analysis (the TSVs are what train and eval read).
    await writeFile(join(values.out, "rows.jsonl"), data.rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
    const count = (rows: typeof train) => ({ rows: rows.length, spam: rows.filter((r) => r.label === "spam").length, ham: rows.filter((r) => r.label === "ham").length });
    const manifest = {
      exportedAt: new Date().toISOString(),
      holdoutFrom: new Date(data.holdoutFrom).toISOString(),
      labelled: data.labelled,
      missingText: data.missingText,
      duplicates: data.duplicates,
      train: count(train),
      holdout: count(holdout),
      categories: Object.fromEntries([...new Set(data.rows.flatMap((r) => (r.category ? [r.category] : [])))].map((c) => [c, data.rows.filter((r) => r.category === c).length])),
      seconds: (Date.now() - started) / 1000,
    };
    await writeFile(join(values.out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    io.stderr.write(`${data.labelled} reviewed messages, ${data.duplicates} duplicates of a campaign or text, ${data.missingText} without stored text\n`);
    io.stdout.write(`${JSON.stringify({ out: values.out, ...manifest })}\n`);
    return 0;
  },
};
