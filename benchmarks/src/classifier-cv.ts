import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

// Usage: node benchmarks/dist/classifier-cv.js
// Reproduces the 5-fold CV figures of packages/classifier/models/MODEL_CARD.md through the CLI
// (same defaults as the shipped model) and prints one JSON line per data set.
const root = resolve(import.meta.dirname, "../..");
const data = resolve(root, "../shared/data");
const sets = ["sms-en-train.tsv", "sms-zh-train.tsv", "sms-zh-spam-categories-train.tsv"];
for (const set of sets) {
  const r = spawnSync(process.execPath, [resolve(root, "packages/cli/dist/main.js"), "cv", "--data", resolve(data, set), "--json"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (r.status !== 0) {
    process.stderr.write(`cv failed for ${set}\n`);
    process.exit(1);
  }
  const out = JSON.parse(r.stdout) as {
    seconds: number;
    binary: Record<string, number> | null;
    categories: { macro_f1: number; accuracy: number } | null;
    categoryGroups: { macro_f1: number; accuracy: number } | null;
  };
  const pick = (m: Record<string, number> | null) =>
    m && Object.fromEntries(["n", "precision", "recall", "f1", "mcc", "accuracy", "ham_fpr", "fp", "fn"].map((k) => [k, Number(m[k]!.toFixed(5))]));
  process.stdout.write(
    JSON.stringify({
      set,
      seconds: out.seconds,
      binary: pick(out.binary),
      categoriesMacroF1: out.categories?.macro_f1,
      categoriesAccuracy: out.categories?.accuracy,
      groupsMacroF1: out.categoryGroups?.macro_f1,
      groupsAccuracy: out.categoryGroups?.accuracy,
    }) + "\n",
  );
}
