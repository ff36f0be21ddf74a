import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { REPO_ROOT } from "@spam/repo-paths";
import { usageOnHelp } from "./lib/usage.js";

usageOnHelp(`usage: node benchmarks/dist/classifier-cv.js [--real]`);
// Reproduces the 5-fold CV figures of packages/classifier/models/MODEL_CARD.md through the CLI
// (same defaults as the shipped model) and prints one JSON line per data set. With --real, also the
// 5-fold CV of the whole scorer on the real Chinese sample (MODEL_CARD.md "Issue #18", table 3).
const root = REPO_ROOT;
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

if (process.argv.includes("--real")) {
  const fixtures = resolve(root, "packages/classifier/fixtures/train.tsv");
  const args = ["cv", "--data", resolve(data, "sms-zh-real-sample.tsv"), "--extra", resolve(data, "sms-zh-train.tsv"), "--extra", resolve(data, "sms-en-train.tsv")];
  args.push("--extra", fixtures, "--weight", "sms-zh-real-sample=3", "--rules", resolve(root, "rules"), "--no-embedding", "--json");
  const r = spawnSync(process.execPath, [resolve(root, "packages/cli/dist/main.js"), ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) {
    process.stderr.write("scorer cv failed for the real sample\n");
    process.exit(1);
  }
  const out = JSON.parse(r.stdout) as { seconds: number; scorer: Record<string, number>; scorerBlocked: Record<string, number>; classes: unknown[] };
  process.stdout.write(JSON.stringify({ set: "sms-zh-real-sample.tsv (scorer)", seconds: out.seconds, called: out.scorer, blocked: out.scorerBlocked, classes: out.classes }) + "\n");
}
