import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import type { Logger } from "pino";
import { parse as parseYaml, YAMLParseError } from "yaml";
import { z, type ZodIssue } from "zod";
import { RuleLoadError } from "./errors.js";
import { regexSafetyProblem } from "./regex-guard.js";
import { RuleSet, keywordForm } from "./ruleset.js";
import { REFINED, RULE_KINDS, RuleDef, RuleFile, type RuleKind } from "./schema.js";
import { VelocityState } from "./velocity.js";

export interface LoadOptions {
  logger?: Logger;
  /** Sub-directories of `dir` that hold other data (default ["replies"]: reply templates). */
  ignoreDirs?: readonly string[];
  /** Files at the top of `dir` that hold other data (default ["policy.yaml"]: the decider's policy). */
  ignoreFiles?: readonly string[];
  /** Shared velocity state; pass the live one on reload so windows survive. */
  velocity?: VelocityState;
}

const RULE_FILE = /\.(ya?ml|json)$/i;

async function listFiles(dir: string, ignoreDirs: readonly string[], ignoreFiles: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  for (const e of entries) {
    if (!e.isFile() || !RULE_FILE.test(e.name)) continue;
    // `parentPath` (Node ≥ 20.12) or `path` (older 20.x).
    const parent = (e as unknown as { parentPath?: string; path?: string }).parentPath ?? (e as unknown as { path: string }).path;
    const relDir = relative(dir, parent).split(sep);
    if (relDir[0] !== undefined && ignoreDirs.includes(relDir[0])) continue;
    if ((relDir.length === 0 || relDir[0] === "") && ignoreFiles.includes(e.name)) continue;
    out.push(join(parent, e.name));
  }
  return out.sort();
}

function formatPath(prefix: (string | number)[], path: (string | number)[]): string {
  let s = "";
  for (const p of [...prefix, ...path]) s += typeof p === "number" ? `[${p}]` : s === "" ? p : `.${p}`;
  return s;
}

function schemaError(file: string, ruleId: string | null, prefix: (string | number)[], issue: ZodIssue): RuleLoadError {
  return new RuleLoadError("schema", file, ruleId, formatPath(prefix, issue.path), issue.message);
}

/** Parses and validates one file's text. Exported for tests and tooling (e.g. a lint command). */
export function parseRuleFile(file: string, content: string): RuleDef[] {
  let raw: unknown;
  try {
    raw = file.toLowerCase().endsWith(".json") ? JSON.parse(content) : parseYaml(content, { prettyErrors: true });
  } catch (err) {
    const where = err instanceof YAMLParseError && err.linePos !== undefined ? `line ${err.linePos[0].line}: ` : "";
    throw new RuleLoadError("parse", file, null, "", `${where}${(err as Error).message.split("\n")[0] ?? ""}`);
  }
  // allowlist/*.json may be a plain sender list shared with the report parser.
  if (file.startsWith("allowlist/") && typeof raw === "object" && raw !== null && !("rules" in raw) && "senders" in raw) {
    return [senderListRule(file, raw)];
  }
  const top = RuleFile.safeParse(raw);
  if (!top.success) throw schemaError(file, null, [], top.error.issues[0]!);
  const rules: RuleDef[] = [];
  top.data.rules.forEach((r, idx) => {
    const id = typeof r === "object" && r !== null && typeof (r as { id?: unknown }).id === "string" ? (r as { id: string }).id : null;
    const kind = typeof r === "object" && r !== null ? (r as { kind?: unknown }).kind : undefined;
    const schema = typeof kind === "string" && (RULE_KINDS as readonly string[]).includes(kind) ? (REFINED[kind as RuleKind] ?? RuleDef) : RuleDef;
    const parsed = schema.safeParse(r);
    if (!parsed.success) throw schemaError(file, id, ["rules", idx], parsed.error.issues[0]!);
    const rule = parsed.data as RuleDef;
    if (rule.kind === "regex") {
      rule.patterns.forEach((p, pi) => {
        const problem = regexSafetyProblem(p);
        if (problem !== null) {
          throw new RuleLoadError("unsafe_regex", file, rule.id, formatPath(["rules", idx, "patterns", pi], []), problem);
        }
      });
    }
    if (rule.kind === "keyword") {
      rule.keywords.forEach((k, ki) => {
        if (keywordForm(k) === "") {
          throw new RuleLoadError("empty_keyword", file, rule.id, formatPath(["rules", idx, "keywords", ki], []), "keyword is empty after normalisation");
        }
      });
    }
    rules.push(rule);
  });
  return rules;
}

const SenderList = z
  .object({
    description: z.string().max(500).optional(),
    senders: z.array(z.object({ number: z.string().regex(/^\+?[0-9a-zA-Z]{3,20}$/), name: z.string().max(100).optional() }).strict()).min(1),
  })
  .strict();

/** A sender-list file becomes one allowlist rule with id `allowlist.<file name>`. */
function senderListRule(file: string, raw: object): RuleDef {
  const parsed = SenderList.safeParse(raw);
  if (!parsed.success) throw schemaError(file, null, [], parsed.error.issues[0]!);
  const base = file.slice("allowlist/".length).replace(/\.json$/i, "").toLowerCase().replace(/[^a-z0-9._-]/g, "-");
  return {
    id: `allowlist.${base}`,
    description: parsed.data.description ?? `sender list ${file}`,
    kind: "allowlist",
    senders: parsed.data.senders.map((s) => s.number),
    prefixes: [],
    ranges: [],
    signatures: [],
    score: -0.8,
    category: "service",
    action: "allow",
    enabled: true,
    owner: "allowlist",
    version: 1,
  };
}

/**
 * Loads every *.yaml / *.yml / *.json under `dir` (recursively) into a new RuleSet.
 * Throws RuleLoadError naming the file, rule id and field path of the first problem;
 * nothing is built unless every file is valid.
 */
export async function loadRuleSet(dir: string, opts: LoadOptions = {}): Promise<RuleSet> {
  const files = await listFiles(dir, opts.ignoreDirs ?? ["replies"], opts.ignoreFiles ?? ["policy.yaml"]).catch((err: Error) => {
    throw new RuleLoadError("read", dir, null, "", err.message);
  });
  if (files.length === 0) throw new RuleLoadError("empty_dir", dir, null, "", "no rule files (*.yaml, *.yml, *.json)");
  const hash = createHash("sha256");
  const all: RuleDef[] = [];
  const seen = new Map<string, string>();
  for (const abs of files) {
    const rel = relative(dir, abs).split(sep).join("/");
    let content: string;
    try {
      content = await readFile(abs, "utf8");
    } catch (err) {
      throw new RuleLoadError("read", rel, null, "", (err as Error).message);
    }
    hash.update(rel).update("\0").update(content).update("\0");
    const rules = parseRuleFile(rel, content);
    rules.forEach((r, idx) => {
      const other = seen.get(r.id);
      if (other !== undefined) {
        throw new RuleLoadError("duplicate_id", rel, r.id, `rules[${idx}].id`, `id already used in ${other}`);
      }
      seen.set(r.id, rel);
    });
    all.push(...rules);
  }
  const version = hash.digest("hex").slice(0, 16);
  const set = new RuleSet(all, version, opts.velocity ?? new VelocityState());
  opts.logger?.info({ dir, version, files: files.length, rules: set.rules.length, keywords: set.keywordCount }, "rule set loaded");
  return set;
}
