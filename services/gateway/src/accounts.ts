import { readFileSync } from "node:fs";
import { z } from "zod";
import { DEFAULT_SCRYPT, hashPassword, isPasswordHash, parsePasswordHash, type PasswordHash } from "./passwords.js";
import { SourceRanges } from "./source-ranges.js";

/**
 * What an account is for (docs/SECURITY.md, gateway README):
 * - `report`: a subscriber MO link; may submit to the report short codes.
 * - `traffic`: its messages to any other destination are scored traffic.
 * - `reply`: receives replies to reporters as deliver_sm.
 */
const CAPABILITIES = ["report", "traffic", "reply"] as const;
type Capability = (typeof CAPABILITIES)[number];

export interface Account {
  readonly systemId: string;
  readonly passwordHash: PasswordHash;
  readonly capabilities: ReadonlySet<Capability>;
  /** Sources it may submit from; for a reply link, the recipients it serves. */
  readonly sourceRanges: SourceRanges;
  /** Concurrent bound sessions of this account; over it the bind is refused. */
  readonly maxSessions: number;
  /** submit_sm per second across the account's sessions; over it: ESME_RTHROTTLED. */
  readonly throughputPerSec: number;
  /** Unanswered submit_sm per session; over it: ESME_RTHROTTLED. */
  readonly window: number;
}

/** SMPP 3.4 §5.2: system_id is a C-Octet String of 16 octets, password of 9, both with the NUL. */
export const MAX_SYSTEM_ID = 15;
export const MAX_PASSWORD = 8;

/** What a configuration declares; the password is plain or a `scrypt$…` hash. */
export interface AccountSpec {
  readonly systemId: string;
  readonly password: string;
  readonly capabilities: readonly string[];
  readonly sourceRanges: readonly string[];
  readonly maxSessions?: number | undefined;
  readonly throughputPerSec?: number | undefined;
  readonly window?: number | undefined;
}

export interface AccountDefaults {
  readonly throughputPerSec: number;
  readonly window: number;
  readonly maxSessions: number;
  /** scrypt cost for plain passwords hashed at load (tests lower it). */
  readonly hashCost?: { logN: number; r: number; p: number };
}

const AccountsFile = z.array(
  z
    .object({
      systemId: z.string(),
      password: z.string().optional(),
      /** `scrypt$…` from `pnpm --filter @spam/gateway-service hash-password`. */
      passwordHash: z.string().optional(),
      capabilities: z.array(z.string()),
      sourceRanges: z.array(z.string()),
      maxSessions: z.number().int().positive().max(10_000).optional(),
      throughputPerSec: z.number().int().positive().optional(),
      window: z.number().int().positive().optional(),
    })
    .strict(),
);

const PLACEHOLDER_HASH: PasswordHash = { ...DEFAULT_SCRYPT, salt: Buffer.alloc(16), key: Buffer.alloc(32) };

const INLINE_FORMAT = "system_id:password:capabilities:source-ranges[:max-sessions], e.g. mo-link:pw:report+traffic:13*|15*:4";

/**
 * Parses `SMPP_ACCOUNTS`: accounts separated by commas, fields by colons,
 * capabilities by `+`, source ranges by `|`. Errors name the account (or its
 * position), never a password.
 */
export function parseInlineAccounts(value: string): AccountSpec[] {
  const out: AccountSpec[] = [];
  value.split(",").forEach((entry, i) => {
    const fields = entry.split(":");
    const name = fields.length > 1 && fields[0]!.trim() !== "" ? `"${fields[0]!.trim().slice(0, 40)}"` : `#${i + 1}`;
    if (fields.length < 4 || fields.length > 5) throw new Error(`SMPP account ${name}: expected ${INLINE_FORMAT}`);
    const [systemId, password, caps, ranges, sessions] = fields as [string, string, string, string, string | undefined];
    let maxSessions: number | undefined;
    if (sessions !== undefined) {
      maxSessions = Number(sessions.trim());
      if (!Number.isInteger(maxSessions) || maxSessions < 1 || maxSessions > 10_000) throw new Error(`SMPP account ${name}: max-sessions must be an integer 1–10000`);
    }
    out.push({
      systemId: systemId.trim(),
      password,
      capabilities: caps.split("+").map((c) => c.trim()).filter((c) => c !== ""),
      sourceRanges: ranges.split("|").map((r) => r.trim()).filter((r) => r !== ""),
      maxSessions,
    });
  });
  return out;
}

/** Why a submit is refused: the account lacks the capability for the destination, or the source is outside its ranges. */
export type SubmitRefusal = "no_report_capability" | "no_traffic_capability" | "source_out_of_range";

/** The one rule for what an account may submit: report short codes need `report`, anything else `traffic`; the source must be in range. */
export function authorizeSubmit(account: Account, source: string, destination: string, isReportDestination: (d: string) => boolean): SubmitRefusal | null {
  if (isReportDestination(destination)) {
    if (!account.capabilities.has("report")) return "no_report_capability";
  } else if (!account.capabilities.has("traffic")) return "no_traffic_capability";
  return account.sourceRanges.matches(source) ? null : "source_out_of_range";
}

/** Checks a declaration without hashing (env parsing uses it to fail fast); messages name the account, never the password. */
export function validateAccountSpec(spec: AccountSpec): void {
  buildAccount(spec, { throughputPerSec: 1, window: 1, maxSessions: 1 }, false);
}

/** Checks one declaration and hashes a plain password; messages name the account, never the password. */
export function buildAccount(spec: AccountSpec, defaults: AccountDefaults, hash = true): Account {
  const id = spec.systemId;
  if (id.length < 1 || id.length > MAX_SYSTEM_ID || !/^[\x21-\x7e]+$/.test(id)) {
    throw new Error(`SMPP account "${id.slice(0, 40)}": system_id must be 1–${MAX_SYSTEM_ID} printable ASCII characters (SMPP 3.4)`);
  }
  const fail = (what: string) => new Error(`SMPP account "${id}": ${what}`);
  let passwordHash: PasswordHash;
  if (isPasswordHash(spec.password)) {
    try {
      passwordHash = parsePasswordHash(spec.password);
    } catch (err) {
      throw fail(`invalid password hash (${(err as Error).message})`);
    }
  } else {
    const octets = Buffer.byteLength(spec.password, "utf8");
    if (octets < 1 || octets > MAX_PASSWORD || !/^[\x20-\x7e]+$/.test(spec.password)) {
      throw fail(`password must be 1–${MAX_PASSWORD} printable ASCII characters (SMPP 3.4 C-Octet String of 9 octets)`);
    }
    passwordHash = hash ? parsePasswordHash(hashPassword(spec.password, defaults.hashCost ?? DEFAULT_SCRYPT)) : PLACEHOLDER_HASH;
  }
  const capabilities = new Set<Capability>();
  for (const c of spec.capabilities) {
    if (!(CAPABILITIES as readonly string[]).includes(c)) throw fail(`unknown capability ${JSON.stringify(c.slice(0, 20))} (one or more of ${CAPABILITIES.join(", ")})`);
    capabilities.add(c as Capability);
  }
  if (capabilities.size === 0) throw fail(`declare at least one capability (${CAPABILITIES.join(", ")})`);
  let sourceRanges: SourceRanges;
  try {
    sourceRanges = SourceRanges.parse(spec.sourceRanges);
  } catch (err) {
    throw fail((err as Error).message);
  }
  return {
    systemId: id,
    passwordHash,
    capabilities,
    sourceRanges,
    maxSessions: spec.maxSessions ?? defaults.maxSessions,
    throughputPerSec: spec.throughputPerSec ?? defaults.throughputPerSec,
    window: spec.window ?? defaults.window,
  };
}

/** Accounts from `SMPP_ACCOUNTS` and/or a JSON file; plain passwords are hashed here and dropped. */
export function loadAccounts(inline: readonly AccountSpec[] | undefined, file: string | undefined, defaults: AccountDefaults): Map<string, Account> {
  const specs: AccountSpec[] = [...(inline ?? [])];
  if (file) {
    const parsed = AccountsFile.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (!parsed.success) {
      // Issue paths only: never echo the file's values (passwords).
      throw new Error(`${file}: invalid accounts file (${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")})`);
    }
    for (const a of parsed.data) {
      if ((a.password === undefined) === (a.passwordHash === undefined)) {
        throw new Error(`${file}: SMPP account "${a.systemId.slice(0, 40)}": give exactly one of password and passwordHash`);
      }
      if (a.passwordHash !== undefined && !isPasswordHash(a.passwordHash)) {
        throw new Error(`${file}: SMPP account "${a.systemId.slice(0, 40)}": passwordHash must be a scrypt$… hash`);
      }
      specs.push({ ...a, password: a.password ?? a.passwordHash! });
    }
  }
  const out = new Map<string, Account>();
  for (const spec of specs) {
    const account = buildAccount(spec, defaults);
    if (out.has(account.systemId)) throw new Error(`SMPP account "${account.systemId}" is declared twice`);
    out.set(account.systemId, account);
  }
  if (out.size === 0) throw new Error("no SMPP accounts configured (SMPP_ACCOUNTS or SMPP_ACCOUNTS_FILE)");
  return out;
}
