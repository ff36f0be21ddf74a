import { EnvError } from "./env.js";

/**
 * Development defaults that are public in this repository. A production process that runs on any
 * of them hands its secrets to whoever reads the code: the reporter hash key makes every reporter
 * hash reversible (hash every 11-digit number), the passwords open the stores and the console.
 * The local stack (infra/local) takes its defaults from here, so the guard and the stack agree.
 */
const CLICKHOUSE_APP_PASSWORD = "dev-app-password";
const CLICKHOUSE_RESTRICTED_PASSWORD = "dev-restricted-password";

export const DEVELOPMENT_DEFAULTS = {
  reporterHashKey: "dev-only-reporter-hash-key",
  /** PostgreSQL passwords of the local stack and the compose file's old default, and the empty one. */
  postgresPasswords: ["spam", "postgres", ""],
  /** Passwords of the ClickHouse users the local users.xml template defines. */
  clickhouseAppPassword: CLICKHOUSE_APP_PASSWORD,
  clickhouseRestrictedPassword: CLICKHOUSE_RESTRICTED_PASSWORD,
  clickhousePasswords: ["", CLICKHOUSE_APP_PASSWORD, CLICKHOUSE_RESTRICTED_PASSWORD],
  /** Passwords of the local stack's demo SMPP accounts (infra/local), one per role. */
  smppDemoPasswords: { mo: "mo-demo1", a2p: "a2p-demo", replies: "rpl-demo" },
  /** Every SMPP password public in this repository: the demo accounts and the benchmarks' account. */
  smppPasswords: ["mo-demo1", "a2p-demo", "rpl-demo", "bench-pw", "demo-pass"],
} as const;

/** Minimum key material for REPORTER_HASH_KEY, in bytes (HMAC-SHA256 wants at least its output size). */
const MIN_KEY_BYTES = 32;

/**
 * Decodes a key written as hex or base64/base64url; null when it is neither (a passphrase is not
 * random key material). Generate one with `openssl rand -hex 32` or `openssl rand -base64 32`.
 */
export function keyBytes(value: string): number | null {
  const v = value.trim();
  if (/^(?:[0-9a-f]{2})+$/i.test(v)) return v.length / 2;
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(v) && v.replace(/=+$/, "").length % 4 !== 1) {
    return Buffer.from(v.replace(/-/g, "+").replace(/_/g, "/"), "base64").length;
  }
  return null;
}

type Rule = (value: string) => string | null;

function urlPassword(value: string): { user: string; password: string } | null {
  try {
    const u = new URL(value);
    return { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  } catch {
    return null;
  }
}

const isTrue = (value: string) => value === "1" || value === "true";

/**
 * What each variable may not be in production, by name: every service passes its whole env, so a
 * variable is checked wherever it is used, with the same rule. A message names the problem, never
 * the value.
 */
const RULES: Readonly<Record<string, Rule>> = {
  REPORTER_HASH_KEY: (v) => {
    if (v === "") return "is missing";
    if (v === DEVELOPMENT_DEFAULTS.reporterHashKey) return "is the development default (public in the repository)";
    const n = keyBytes(v);
    if (n === null) return `must be ${MIN_KEY_BYTES} random bytes written as hex or base64 (openssl rand -hex ${MIN_KEY_BYTES})`;
    if (n < MIN_KEY_BYTES) return `holds ${n} bytes of key material; at least ${MIN_KEY_BYTES} are needed (openssl rand -hex ${MIN_KEY_BYTES})`;
    return null;
  },
  DATABASE_URL: (v) => {
    const c = urlPassword(v);
    if (!c) return null; // the schema reports a malformed URL
    if ((DEVELOPMENT_DEFAULTS.postgresPasswords as readonly string[]).includes(c.password)) return "uses an empty or default PostgreSQL password";
    if (c.password === c.user) return "uses the user name as the PostgreSQL password";
    return null;
  },
  CLICKHOUSE_URL: (v) => clickhouseRule(v),
  CLICKHOUSE_RESTRICTED_URL: (v) => clickhouseRule(v),
  COOKIE_SECURE: (v) => (isTrue(v) ? null : "must be true (session cookies over HTTPS only)"),
  API_DEMO_PASSWORD: (v) => (v === "" ? null : "creates demo users; it must be empty"),
  SMPP_ACCOUNTS: (v) => ((DEVELOPMENT_DEFAULTS.smppPasswords as readonly string[]).some((p) => v.includes(p)) ? "holds the demo account's password" : null),
  ESME_PASSWORD: (v) => ((DEVELOPMENT_DEFAULTS.smppPasswords as readonly string[]).includes(v) && v !== "" ? "is a development password" : null),
};

function clickhouseRule(v: string): string | null {
  if (v === "") return null; // ClickHouse is optional for some services
  const c = urlPassword(v);
  if (!c) return null;
  if (c.user === "" || c.user === "default") return "must name a ClickHouse user other than `default` (user:password@host)";
  if ((DEVELOPMENT_DEFAULTS.clickhousePasswords as readonly string[]).includes(c.password)) return "uses an empty or development ClickHouse password";
  return null;
}

/** A parsed value back as text for the rules: maps and objects (parsed account lists) as JSON. */
function asText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (value instanceof Map) return JSON.stringify([...value]);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export interface ProductionCheck {
  readonly production: boolean;
  /** Variables on a development default, with why (empty when none). */
  readonly problems: readonly { variable: string; problem: string }[];
}

export interface ProductionOptions {
  /** Optional outside production, required in it (e.g. the restricted store's own credentials). */
  readonly required?: readonly string[];
  /** Where the one warning line goes outside production (default: stderr). */
  readonly warn?: (line: string) => void;
}

/** Runs the rules over the variables a service uses (its parsed env; booleans and numbers as strings). */
export function checkProductionEnv(used: Readonly<Record<string, unknown>>, source: NodeJS.ProcessEnv, required: readonly string[] = []): ProductionCheck {
  const problems: { variable: string; problem: string }[] = [];
  for (const variable of required) {
    if (used[variable] === undefined || used[variable] === "") problems.push({ variable, problem: "is missing" });
  }
  for (const [variable, rule] of Object.entries(RULES)) {
    if (!(variable in used)) continue;
    const value = used[variable];
    const text = asText(value);
    const problem = rule(text);
    if (problem) problems.push({ variable, problem });
  }
  return { production: source.NODE_ENV === "production", problems };
}

/**
 * The one production guard every service's env loading calls. With NODE_ENV=production any
 * development default stops the service (EnvError naming each variable); otherwise the defaults
 * work and one warning line says which are in use.
 */
export function enforceProduction<T extends object>(service: string, used: T, source: NodeJS.ProcessEnv = process.env, options: ProductionOptions = {}): T {
  const warn = options.warn ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const check = checkProductionEnv(used as Readonly<Record<string, unknown>>, source, options.required);
  if (check.problems.length === 0) return used;
  const details = check.problems.map((p) => `${p.variable} ${p.problem}`).join("; ");
  if (check.production) {
    throw new EnvError(
      check.problems.map((p) => p.variable),
      `refusing to start with NODE_ENV=production on development defaults: ${details}`,
    );
  }
  warn(`${service}: development defaults in use (refused with NODE_ENV=production): ${check.problems.map((p) => p.variable).join(", ")}`);
  return used;
}
