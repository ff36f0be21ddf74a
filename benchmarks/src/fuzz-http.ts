#!/usr/bin/env node
/**
 * Property-based HTTP fuzzing of every route of the review/analytics API
 * (services/api), driven by its own OpenAPI document (generated from the zod
 * schemas): for each route, fast-check generates requests whose path params,
 * query strings and bodies are either schema-valid values or mutations of them
 * (wrong types, extra keys, absurd strings, broken JSON, odd content types),
 * sent as each role, anonymously, or with a forged token. The property: no
 * 5xx, no unhandled rejection or uncaught exception, and no answer to an analyst
 * carries a full number (the seeded senders, reporters and numbers written into
 * texts and rule details, plainly or obfuscated). The API runs in-process on
 * the real PostgreSQL (infra/postgres) and ClickHouse (seeded), in databases of
 * its own that are dropped afterwards. Exit code 0 only when it holds.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import fc from "fast-check";
import pino from "pino";
import {
  buildApp,
  ClickHouseReportAnalytics,
  ClickHouseTrafficAnalytics,
  CaseStore,
  combinedReviewAnalytics,
  createPool,
  ingestReports,
  ingestVerdicts,
  migratePg,
  PgReviewAnalytics,
  UserStore,
} from "@spam/api-service";
import { createTestDatabase, flaggedVerdict, parsedReport, seedClickHouse } from "@spam/api-service/testing";
import { ident, sql } from "@spam/clickhouse";
import { readableDigits } from "@spam/privacy";
import { loadLocalConfig } from "@spam/infra-local";
import { ModelRegistry, runBacktest, shadowReport } from "@spam/learning";
import { table } from "./lib/stats.js";
import { usageOnHelp } from "./lib/usage.js";

usageOnHelp("usage: node benchmarks/dist/fuzz-http.js [--runs 200] [--seed N] [--clickhouse-url URL]");
const { values: a } = parseArgs({
  options: {
    runs: { type: "string", default: "200" },
    seed: { type: "string" },
    "clickhouse-url": { type: "string" },
  },
});
const runsPerRoute = Number(a.runs);
const seed = a.seed !== undefined ? Number(a.seed) : Date.now() % 2 ** 31;
const log = (line: string) => process.stdout.write(`[fuzz-http] ${line}\n`);

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  nullable?: boolean;
  default?: unknown;
};

interface Operation {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  readonly path: string;
  readonly pathParams: string[];
  readonly query: Record<string, JsonSchema>;
  readonly body: JsonSchema | null;
}

/** Strings that have broken parsers and SQL before. */
const NASTY = [
  "", " ", "0", "-1", "1e309", "NaN", "null", "undefined", "true", "[]", "{}", "'", "\"", "\\", "%", "%00", "%ff", "..", "../../etc/passwd",
  "' OR 1=1 --", "'); DROP TABLE cases; --", "${jndi:x}", "<script>alert(1)</script>", "\u0000", "\ud800", "😀", "垃圾短信", "9".repeat(40),
  "a".repeat(5_000), "2025-13-45", "1970-01-01", "9999-12-31T23:59:59Z", "-62135596800000", "msg:", "rpt:", "sender:", "campaign:x",
];
const nasty = fc.constantFrom(...NASTY);
const anyString = fc.oneof(nasty, fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }));
const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 3 }), anyString, fc.integer(), fc.double(), fc.constant(null));

/** A value valid for the schema (as far as JSON Schema can say; zod refinements aside). */
function valid(schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return anyJson;
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => valid(s, depth + 1)));
  if (schema.allOf?.length) return valid(Object.assign({}, ...schema.allOf) as JsonSchema, depth + 1);
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const arbs = types.map((t) => validOfType(t, schema, depth));
  if (schema.nullable) arbs.push(fc.constant(null));
  return arbs.length > 0 ? fc.oneof(...arbs) : anyJson;
}

function validOfType(type: string, s: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case "string": {
      if (s.format === "date-time" || s.format === "date") {
        return fc.date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }).map((d) => (s.format === "date" ? d.toISOString().slice(0, 10) : d.toISOString()));
      }
      const minLength = s.minLength ?? 0;
      const maxLength = Math.min(s.maxLength ?? 64, Math.max(minLength, 64));
      // Hostile strings that fit the length bounds (filtered here: a filter that never matches would spin).
      const fitting = NASTY.filter((x) => x.length >= minLength && x.length <= (s.maxLength ?? Infinity));
      return fc.oneof(
        fc.string({ minLength, maxLength }),
        fc.string({ unit: "grapheme", minLength, maxLength }),
        ...(fitting.length > 0 ? [fc.constantFrom(...fitting)] : []),
      );
    }
    case "integer": {
      const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1_000_000);
      const max = s.maximum ?? Math.max(min, 2_000_000_000);
      return fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
    }
    case "number":
      return fc.double({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9, noNaN: true });
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array":
      return fc.array(valid(s.items, depth + 1), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 5, 5) });
    case "object": {
      const props = s.properties ?? {};
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) model[k] = valid(v, depth + 1);
      return fc.record(model, { requiredKeys: (s.required ?? []).filter((k) => k in props) });
    }
    default:
      return anyJson;
  }
}

/** Valid most of the time, otherwise a mutation: wrong type, nasty string, extra or missing keys. */
function fuzzed(schema: JsonSchema | undefined): fc.Arbitrary<unknown> {
  const props = schema?.properties;
  const mutations: fc.Arbitrary<unknown>[] = [anyJson];
  if (props && Object.keys(props).length > 0) {
    // One field replaced by garbage, the others valid.
    mutations.push(
      fc.tuple(valid(schema), fc.constantFrom(...Object.keys(props)), anyJson).map(([v, key, junk]) => ({ ...(v as object), [key]: junk })),
      fc.tuple(valid(schema), fc.dictionary(fc.string({ maxLength: 12 }), anyJson, { maxKeys: 3 })).map(([v, extra]) => ({ ...extra, ...(v as object) })),
    );
  }
  return fc.oneof({ arbitrary: valid(schema), weight: 3 }, { arbitrary: fc.oneof(...mutations), weight: 2 });
}

/** encodeURIComponent, except that a lone surrogate (which it refuses) goes as the bytes Node would send. */
function encodePathSegment(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return [...Buffer.from(value, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
  }
}

/** Query values are strings on the wire: arrays repeat the key. */
function queryString(values: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) q.append(k, typeof item === "object" && item !== null ? JSON.stringify(item) : String(item));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

function operationsOf(doc: { paths?: Record<string, Record<string, { parameters?: { in: string; name: string; schema?: JsonSchema }[]; requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(methods)) {
      const upper = method.toUpperCase();
      if (!["GET", "POST", "PUT", "PATCH", "DELETE"].includes(upper)) continue;
      const query: Record<string, JsonSchema> = {};
      for (const p of op.parameters ?? []) if (p.in === "query") query[p.name] = p.schema ?? {};
      ops.push({
        method: upper as Operation["method"],
        path,
        pathParams: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
        query,
        body: op.requestBody?.content?.["application/json"]?.schema ?? null,
      });
    }
  }
  return ops;
}

/** The seeded numbers a reader could take in full from any one string of the answer (JSON leaves, CSV fields). */
function leakedNumbers(body: string, contentType: string, secrets: readonly string[]): string[] {
  let strings: string[];
  if (contentType.includes("text/csv")) strings = body.split(/[,\r\n]/);
  else {
    strings = [];
    const walk = (v: unknown): void => {
      if (typeof v === "string") strings.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === "object") Object.values(v).forEach(walk);
    };
    try {
      walk(JSON.parse(body));
    } catch {
      strings = [body];
    }
  }
  const found = new Set<string>();
  for (const s of strings) {
    const digits = readableDigits(s);
    for (const n of secrets) if (digits.includes(n)) found.add(n);
  }
  return [...found];
}

async function main(): Promise<number> {
  // FUZZ_LOG_LEVEL=error shows the stack behind each 5xx (the API logs it).
  const logger = pino({ level: process.env.FUZZ_LOG_LEVEL ?? "silent" });
  const unhandled: string[] = [];
  process.on("unhandledRejection", (reason) => unhandled.push(`unhandledRejection: ${String((reason as Error)?.stack ?? reason)}`));
  process.on("uncaughtException", (error) => unhandled.push(`uncaughtException: ${error.stack ?? error.message}`));

  const chUrl = a["clickhouse-url"] ?? process.env.CLICKHOUSE_URL ?? loadLocalConfig().clickhouseUrl;
  const chDatabase = `fuzz_http_${(process.env.TEST_RUN_ID ?? String(process.pid)).replace(/[^A-Za-z0-9_]/g, "_")}_${Date.now().toString(36)}`;
  const db = await createTestDatabase("fuzz");
  const pool = createPool(db.url, 10);
  const ch = await seedClickHouse(chUrl, chDatabase, logger);
  let app: Awaited<ReturnType<typeof buildApp>> | null = null;
  try {
    await migratePg(pool, logger);
    const users = new UserStore(pool, 3_600_000);
    const PW = "fuzz-password-123";
    for (const [username, role] of [["admin", "admin"], ["rev", "reviewer"], ["ana", "analyst"]] as const) await users.createUser({ username, role, password: PW });
    const cases = new CaseStore(pool, { slaHours: 48, claimTtlMinutes: 15, effects: { blockTtlMs: 86_400_000, shortCode: "10086999" } });
    // Numbers an analyst must never read in full: senders, reporters, and call-back numbers written into
    // texts and rule details the ways spammers write them.
    const callBack = (i: number) => `1590015${String(i).padStart(4, "0")}`;
    const OBFUSCATE = [
      (n: string) => n,
      (n: string) => n.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d))),
      (n: string) => `${n.slice(0, 3)}-${n.slice(3, 7)}-${n.slice(7)}`,
      (n: string) => n.replace(/[0-9]/g, (d) => "〇一二三四五六七八九"[Number(d)]!),
      (n: string) => [...n].join("\u200b"),
      (n: string) => `+86 ${n.slice(0, 3)}\u3000${n.slice(3, 7)}.${n.slice(7)}`,
    ];
    const verdicts = Array.from({ length: 20 }, (_, i) =>
      flaggedVerdict({
        source: `1380013${String(i).padStart(4, "0")}`,
        label: i % 4 === 0 ? "ham" : "suspect",
        contributions: [{ source: "rule", id: "fraud.callback", score: 0.4, category: "fraud", detail: `matched "加vx${OBFUSCATE[i % OBFUSCATE.length]!(callBack(i))}"` }],
      }),
    );
    const reports = Array.from({ length: 10 }, () => parsedReport());
    const secrets = [...verdicts.map((v) => v.source), ...verdicts.map((_, i) => callBack(i)), "13800138000", "13700137000", "4001234567"];
    const textOf = new Map(verdicts.map((v, i) => [v.messageId, `您的快递丢失，请联系客服${OBFUSCATE[(i + 1) % OBFUSCATE.length]!(callBack(i))}办理退款`]));
    await ingestVerdicts(cases, verdicts, { textOf: (id) => textOf.get(id) ?? "" });
    await ingestReports(cases, reports);
    const reportCases = await pool.query<{ case_id: string }>("SELECT case_id FROM case_reports WHERE report_id = ANY($1)", [reports.map((r) => r.id)]);
    const knownIds = [...verdicts.map((v) => `msg:${v.messageId}`), ...reportCases.rows.map((r) => r.case_id)];
    app = await buildApp({
      logger,
      pool,
      users,
      cases,
      traffic: new ClickHouseTrafficAnalytics(ch),
      review: combinedReviewAnalytics(new ClickHouseReportAnalytics(ch), new PgReviewAnalytics(pool)),
      // The login limiter answers 429 (fine), but would starve the logins below.
      config: { slaHours: 48, cookieSecure: false, loginPerMinute: 1_000_000 },
      // As the service wires them: an empty registry, the shadow report and backtests on the seeded database.
      models: {
        registry: new ModelRegistry(mkdtempSync(join(tmpdir(), "fuzz-models-"))),
        shadow: { report: (range, limit) => shadowReport(ch, range, limit) },
        backtest: (rules, days, samples) => runBacktest({ ch, rules, days, samples, logger }),
      },
    });
    const login = async (username: string) => {
      const res = await app!.inject({ method: "POST", url: "/api/auth/login", payload: { username, password: PW } });
      if (res.statusCode !== 200) throw new Error(`login ${username}: ${res.statusCode} ${res.body}`);
      return (res.json() as { token: string }).token;
    };
    const roles = ["admin", "rev", "ana"] as const;
    const tokens: Record<string, string> = {};
    for (const r of roles) tokens[r] = await login(r);

    const doc = (await app.inject({ url: "/openapi.json", headers: { authorization: `Bearer ${tokens.admin}` } })).json() as Parameters<typeof operationsOf>[0];
    const ops = operationsOf(doc);
    log(`seed ${seed}, ${ops.length} operations from the OpenAPI document, ${runsPerRoute} requests each`);
    const auth = fc.constantFrom("admin", "rev", "ana", "none", "forged");
    const rows: (string | number)[][] = [];
    const failures: string[] = [];
    const startedAt = Date.now();
    for (const op of ops) {
      const statuses = new Map<number, number>();
      const params = fc.record(Object.fromEntries(op.pathParams.map((p) => [p, fc.oneof({ arbitrary: fc.constantFrom(...knownIds), weight: 2 }, { arbitrary: anyString, weight: 1 })])));
      const query = fuzzed({ type: "object", properties: op.query });
      const body = op.body
        ? fc.oneof(
            { arbitrary: fuzzed(op.body).map((v) => ({ kind: "json" as const, v })), weight: 5 },
            { arbitrary: anyString.map((v) => ({ kind: "raw" as const, v })), weight: 1 },
            { arbitrary: fc.constant({ kind: "none" as const, v: undefined }), weight: 1 },
          )
        : fc.constant({ kind: "none" as const, v: undefined });
      const property = fc.asyncProperty(params, query, body, auth, async (p, q, b, who) => {
        let url = op.path;
        for (const [k, v] of Object.entries(p)) url = url.replace(`{${k}}`, encodePathSegment(String(v)));
        url += queryString((q ?? {}) as Record<string, unknown>);
        const headers: Record<string, string> = {};
        if (who === "forged") headers.authorization = "Bearer forged-token-000";
        else if (who !== "none") headers.authorization = `Bearer ${tokens[who]}`;
        let payload: string | undefined;
        if (b.kind === "json") {
          headers["content-type"] = "application/json";
          payload = JSON.stringify(b.v) ?? "null";
        } else if (b.kind === "raw") {
          headers["content-type"] = "application/json";
          payload = b.v as string;
        }
        const res = await app!.inject({ method: op.method, url, headers, ...(payload !== undefined ? { payload } : {}) });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        // A logout ends that role's session: sign in again so later requests still reach the handlers.
        if (op.path.endsWith("/logout") && (who === "admin" || who === "rev" || who === "ana") && res.statusCode < 300) tokens[who] = await login(who);
        if (res.statusCode >= 500) throw new Error(`${op.method} ${url} as ${who} → ${res.statusCode}: ${res.body.slice(0, 300)}`);
        if (who === "ana") {
          const leaked = leakedNumbers(res.body, String(res.headers["content-type"] ?? ""), secrets);
          if (leaked.length > 0) throw new Error(`${op.method} ${url} as analyst → full number(s) ${leaked.join(", ")} in the answer`);
        }
      });
      const result = await fc.check(property, { numRuns: runsPerRoute, seed, endOnFailure: false });
      if (result.failed) failures.push(`${op.method} ${op.path}: ${result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance)} (counterexample ${fc.stringify(result.counterexample)})`);
      const byClass = [...statuses].sort(([x], [y]) => x - y).map(([s, n]) => `${s}:${n}`).join(" ");
      rows.push([`${op.method} ${op.path}`, result.numRuns, byClass, result.failed ? "FAIL" : "ok"]);
    }
    // Let any stray promise settle before judging.
    await new Promise((r) => setTimeout(r, 200));
    const total = rows.reduce((n, r) => n + Number(r[1]), 0);
    const seconds = (Date.now() - startedAt) / 1_000;
    process.stdout.write(`\n${table(["route", "requests", "statuses (code:count)", "result"], rows)}\n\n`);
    process.stdout.write(`${total} requests over ${ops.length} operations in ${seconds.toFixed(1)} s (${Math.round(total / seconds)}/s), seed ${seed}\n`);
    for (const f of failures) process.stdout.write(`failed: ${f}\n`);
    for (const u of unhandled.slice(0, 5)) process.stdout.write(`${u}\n`);
    process.stdout.write(`unhandled rejections / uncaught exceptions: ${unhandled.length}\n`);
    const pass = failures.length === 0 && unhandled.length === 0;
    process.stdout.write(`\n${pass ? "PASS" : "FAIL"}\n`);
    return pass ? 0 : 1;
  } finally {
    await app?.close();
    await pool.end();
    await db.drop().catch(() => undefined);
    await ch.command(sql`DROP DATABASE IF EXISTS ${ident(chDatabase)}`).catch(() => undefined);
    await ch.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fuzz-http: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
