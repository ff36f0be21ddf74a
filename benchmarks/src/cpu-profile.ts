/**
 * Summarises the `.cpuprofile` files of a load run (`load.js --spawn --cpu-prof DIR`): per service, its
 * main thread's busy time by category (record codec, Kafka client, GC, project code…) and its hottest
 * functions. With `--run` (the run's `--out` file) each file is named after its service.
 *
 *   node benchmarks/dist/load.js --spawn --rate 5000 --duration 60 --drain 60 --warmup 15 --sessions 8 \
 *     --window 100 --no-check --cpu-prof /tmp/prof --out /tmp/prof/run.json
 *   node benchmarks/dist/cpu-profile.js --dir /tmp/prof --run /tmp/prof/run.json
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isCpuProfile, summarizeProfile } from "./lib/cpuprofile.js";
import { exitQuietlyWhenStdoutCloses, usageOnHelp } from "./lib/usage.js";

const USAGE = "usage: node benchmarks/dist/cpu-profile.js --dir DIR [--run run.json] [--top 8]   (DIR: load.js --cpu-prof DIR)";
usageOnHelp(USAGE);
exitQuietlyWhenStdoutCloses();
const out = (line: string) => process.stdout.write(`${line}\n`);
const fail = (message: string): never => {
  process.stderr.write(`cpu-profile: ${message}\n${USAGE}\n`);
  process.exit(2);
};

const { values: a } = parseArgs({ options: { dir: { type: "string" }, run: { type: "string" }, top: { type: "string", default: "8" } } });
const dir = a.dir ?? fail("--dir is required");
const top = Number(a.top);
if (!Number.isInteger(top) || top < 0) fail(`--top must be a whole number, got ${a.top}`);

/** pid → service name, from the `processes` of a load.js `--out` file. */
function serviceNames(path: string): Map<number, string> {
  let run: { processes?: unknown };
  try {
    run = JSON.parse(readFileSync(path, "utf8")) as typeof run;
  } catch (e) {
    return fail(`cannot read the run file ${path}: ${(e as Error).message}`);
  }
  const names = new Map<number, string>();
  for (const p of Array.isArray(run?.processes) ? (run.processes as { name?: unknown; pid?: unknown }[]) : []) {
    if (typeof p?.pid === "number" && typeof p.name === "string") names.set(p.pid, p.name);
  }
  return names;
}
const names = a.run ? serviceNames(a.run) : new Map<number, string>();

let files: string[] = [];
try {
  files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).sort();
} catch (e) {
  fail(`cannot read ${dir}: ${(e as Error).message}`);
}
if (files.length === 0) fail(`no .cpuprofile files in ${dir}`);

const pct = (share: number) => `${(100 * share).toFixed(1).padStart(5)} %`;
for (const file of files) {
  // V8 names them CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile
  const pid = Number(file.split(".")[3]);
  let profile: unknown;
  try {
    profile = JSON.parse(readFileSync(join(dir, file), "utf8"));
  } catch (e) {
    out(`== ${file}: unreadable (${(e as Error).message}), skipped`);
    continue;
  }
  if (!isCpuProfile(profile)) {
    out(`== ${file}: not a V8 CPU profile (no nodes, samples and timeDeltas arrays), skipped`);
    continue;
  }
  const s = summarizeProfile(profile, top);
  out(`== ${names.get(pid) ?? `pid ${pid}`} (${file}): main thread busy ${s.busySeconds.toFixed(1)} s, idle ${s.idleSeconds.toFixed(1)} s`);
  for (const c of s.categories) out(`  ${pct(c.share)}  ${c.category}`);
  if (s.projectParts.length > 0) out(`  project code: ${s.projectParts.map((p) => `${p.part} ${(100 * p.share).toFixed(1)} %`).join(", ")}`);
  if (top > 0) {
    out("  hottest functions (self time):");
    for (const f of s.topFunctions) out(`    ${pct(f.share)}  ${f.name}`);
  }
}
