import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EnvError } from "./env.js";
import { checkProductionEnv, DEVELOPMENT_DEFAULTS, enforceProduction, keyBytes } from "./production.js";

const PROD = { NODE_ENV: "production" };
const goodKey = randomBytes(32).toString("hex");
const safe = {
  REPORTER_HASH_KEY: goodKey,
  DATABASE_URL: "postgres://review:Zk4-qv8_secret@db:5432/spam_review",
  CLICKHOUSE_URL: "http://spam_app:Zk4-qv8_secret@clickhouse:8123",
  CLICKHOUSE_RESTRICTED_URL: "http://spam_restricted:Other-9_secret@clickhouse:8123",
  COOKIE_SECURE: true,
  API_DEMO_PASSWORD: "",
  SMPP_ACCOUNTS: new Map([["mo-link", "Q8x-1z"]]),
};

function refusal(used: Record<string, unknown>): EnvError {
  try {
    enforceProduction("svc", used, PROD, { warn: () => undefined });
  } catch (e) {
    expect(e).toBeInstanceOf(EnvError);
    return e as EnvError;
  }
  throw new Error("expected a refusal");
}

describe("production guard", () => {
  it("lets a production env without development defaults through", () => {
    expect(enforceProduction("svc", safe, PROD, { warn: () => undefined })).toBe(safe);
    expect(checkProductionEnv(safe, PROD).problems).toEqual([]);
  });

  it.each([
    ["REPORTER_HASH_KEY", "", "missing"],
    ["REPORTER_HASH_KEY", DEVELOPMENT_DEFAULTS.reporterHashKey, "development default"],
    ["REPORTER_HASH_KEY", randomBytes(16).toString("hex"), "16 bytes"],
    ["REPORTER_HASH_KEY", randomBytes(31).toString("base64"), "31 bytes"],
    ["REPORTER_HASH_KEY", "correct horse battery staple and more words", "hex or base64"],
    ["DATABASE_URL", "postgres://spam:spam@127.0.0.1:15432/spam_api", "PostgreSQL password"],
    ["DATABASE_URL", "postgres://spam@db/spam_api", "PostgreSQL password"],
    ["DATABASE_URL", "postgres://review:review@db/spam_api", "user name"],
    ["CLICKHOUSE_URL", "http://127.0.0.1:18123", "other than `default`"],
    ["CLICKHOUSE_URL", "http://default:x9-Long@127.0.0.1:18123", "other than `default`"],
    ["CLICKHOUSE_URL", "http://spam_app:dev-app-password@127.0.0.1:18123", "development ClickHouse password"],
    ["CLICKHOUSE_RESTRICTED_URL", "http://spam_restricted@127.0.0.1:18123", "empty or development"],
    ["COOKIE_SECURE", false, "must be true"],
    ["API_DEMO_PASSWORD", "demo-console-2026", "demo users"],
    ["SMPP_ACCOUNTS", new Map([["demo", "demo-pass"]]), "demo account"],
  ])("refuses %s on a development value (%#)", (variable, value, why) => {
    const e = refusal({ ...safe, [variable]: value });
    expect(e.variables).toEqual([variable]);
    expect(e.message).toContain(variable);
    expect(e.message).toContain(why);
    // The message names the variable, never its value.
    if (typeof value === "string" && value.length > 3) expect(e.message).not.toContain(value);
  });

  it("names every offending variable at once", () => {
    const e = refusal({ ...safe, REPORTER_HASH_KEY: DEVELOPMENT_DEFAULTS.reporterHashKey, COOKIE_SECURE: false, DATABASE_URL: "postgres://spam:spam@h/db" });
    expect(e.variables).toEqual(["REPORTER_HASH_KEY", "DATABASE_URL", "COOKIE_SECURE"]);
  });

  it("refuses a variable that production requires when it is missing, and only in production", () => {
    const { CLICKHOUSE_RESTRICTED_URL: _omitted, ...rest } = safe;
    try {
      enforceProduction("sink", rest, PROD, { required: ["CLICKHOUSE_RESTRICTED_URL"], warn: () => undefined });
      expect.fail("should refuse");
    } catch (e) {
      expect((e as EnvError).variables).toEqual(["CLICKHOUSE_RESTRICTED_URL"]);
      expect((e as EnvError).message).toContain("CLICKHOUSE_RESTRICTED_URL is missing");
    }
    const lines: string[] = [];
    expect(enforceProduction("sink", rest, {}, { required: ["CLICKHOUSE_RESTRICTED_URL"], warn: (l) => lines.push(l) })).toBe(rest);
    expect(lines[0]).toContain("CLICKHOUSE_RESTRICTED_URL");
  });

  it("checks only the variables a service uses", () => {
    expect(checkProductionEnv({ LOG_LEVEL: "info" }, PROD).problems).toEqual([]);
  });

  it("outside production keeps the defaults and warns once, naming them", () => {
    const lines: string[] = [];
    const used = { ...safe, REPORTER_HASH_KEY: DEVELOPMENT_DEFAULTS.reporterHashKey, COOKIE_SECURE: false };
    expect(enforceProduction("gateway", used, {}, { warn: (l) => lines.push(l) })).toBe(used);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("gateway");
    expect(lines[0]).toContain("REPORTER_HASH_KEY, COOKIE_SECURE");
    expect(lines[0]).not.toContain(DEVELOPMENT_DEFAULTS.reporterHashKey);
  });

  it("reads hex and base64 key material", () => {
    expect(keyBytes(randomBytes(32).toString("hex"))).toBe(32);
    expect(keyBytes(randomBytes(32).toString("base64"))).toBe(32);
    expect(keyBytes(randomBytes(48).toString("base64url"))).toBe(48);
    expect(keyBytes("not a key!")).toBeNull();
  });
});
