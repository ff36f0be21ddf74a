import { maskNumber, maskText } from "./mask.js";

/** Keys whose values are subscriber or sender numbers (contracts, SMPP PDUs, rows). */
const NUMBER_KEYS = [
  "reporterMsisdn", "reporter_msisdn", "reportedNumber", "reported_number", "msisdn", "sender", "recipient",
  "to", "from", "source", "destination", "source_addr", "destination_addr", "sourceAddr", "destinationAddr",
  "subject", "phone", "number",
];
/** Keys whose values are message text: private correspondence, never logged. */
const TEXT_KEYS = ["text", "rawText", "raw_text", "content", "short_message", "shortMessage", "message_payload", "messagePayload", "samples"];
/** Credentials. */
const SECRET_KEYS = ["password", "passwd", "secret", "token", "authorization", "cookie", "set-cookie", "apiKey", "reporterHashKey"];
/** Free text that may quote a number: kept, with numbers masked. */
const FREE_TEXT_PATHS = ["req.url", "err", "error", "reason", "comment"];
/** Error fields that quote input (PostgreSQL's detail quotes key values). */
const ERROR_TEXT_FIELDS = ["message", "stack", "detail", "where"];

const DEPTHS = ["", "*.", "*.*."];

function pathsFor(keys: readonly string[]): string[] {
  const out: string[] = [];
  for (const d of DEPTHS) for (const k of keys) out.push(/^[A-Za-z_$][\w$]*$/.test(k) ? `${d}${k}` : `${d}["${k}"]`);
  return out;
}

const numberPaths = new Set(pathsFor(NUMBER_KEYS));
const textPaths = new Set(pathsFor(TEXT_KEYS));
const freeTextLeaves = new Set(FREE_TEXT_PATHS);

function leaf(path: readonly string[]): string {
  return path[path.length - 1] ?? "";
}

/**
 * The censor pino calls for every redacted path: numbers masked by the one policy, texts and
 * credentials replaced, free text kept with its numbers masked. `path` is pino's array of keys.
 */
function censorLogValue(value: unknown, path: readonly string[]): unknown {
  if (value === undefined || value === null) return value;
  const key = leaf(path);
  if (SECRET_KEYS.includes(key)) return "[redacted]";
  if (TEXT_KEYS.includes(key)) return typeof value === "string" ? `[text: ${value.length} chars]` : "[redacted]";
  if (NUMBER_KEYS.includes(key)) {
    if (value instanceof Date) return value; // {from, to} of a time range
    if (typeof value === "string") return maskNumber(value);
    if (typeof value === "number" || typeof value === "bigint") return maskNumber(String(value));
    return Array.isArray(value) ? value.map((v) => (typeof v === "string" ? maskNumber(v) : "[redacted]")) : "[redacted]";
  }
  if (typeof value === "string") return maskText(value);
  if ((key === "err" || key === "error") && typeof value === "object") return maskError(value as Record<string, unknown>);
  return value;
}

/** An error (or pino's serialised form of one) with the fields that quote input masked. */
function maskError(e: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...e };
  if (e instanceof Error) {
    out.type = e.name;
    out.message = e.message;
    out.stack = e.stack;
  }
  for (const f of ERROR_TEXT_FIELDS) if (typeof out[f] === "string") out[f] = maskText(out[f] as string);
  return out;
}

/**
 * pino's `redact` option for every service logger: the paths, three levels deep (pino matches wildcards
 * per level), and the censor above. Shaped like pino's option so this package needs no pino.
 */
export const LOG_REDACTION: { readonly paths: string[]; readonly censor: (value: unknown, path: string[]) => unknown } = {
  paths: [...new Set([
    ...numberPaths,
    ...textPaths,
    ...pathsFor(SECRET_KEYS),
    "req.headers.authorization",
    "req.headers.cookie",
    'res.headers["set-cookie"]',
    ...[...freeTextLeaves].filter((p) => !numberPaths.has(p) && !textPaths.has(p)),
    ...pathsFor(["reason", "comment"]).filter((p) => p.includes("*")),
  ])],
  censor: censorLogValue,
};
