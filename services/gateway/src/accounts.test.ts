import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { authorizeSubmit, buildAccount, loadAccounts, parseInlineAccounts, validateAccountSpec, type AccountSpec } from "./accounts.js";
import { loadGatewayEnv } from "./env.js";
import { hashPassword, parsePasswordHash, verifyPassword } from "./passwords.js";
import { SourceRanges } from "./source-ranges.js";

const cheap = { logN: 10, r: 8, p: 1 };
const defaults = { throughputPerSec: 100, window: 10, maxSessions: 4, hashCost: cheap };
const spec = (over: Partial<AccountSpec> = {}): AccountSpec => ({ systemId: "mo-link", password: "pw-12345", capabilities: ["report", "traffic"], sourceRanges: ["13*"], ...over });

describe("inline accounts (SMPP_ACCOUNTS)", () => {
  it("parses capabilities, ranges and the optional session cap", () => {
    expect(parseInlineAccounts("mo-link:pw1:report+traffic:13*|15*:4,rx:pw2:reply:*")).toEqual([
      { systemId: "mo-link", password: "pw1", capabilities: ["report", "traffic"], sourceRanges: ["13*", "15*"], maxSessions: 4 },
      { systemId: "rx", password: "pw2", capabilities: ["reply"], sourceRanges: ["*"], maxSessions: undefined },
    ]);
  });

  it("refuses the old two-field form, naming the account and the expected format", () => {
    expect(() => parseInlineAccounts("demo:demo-pass")).toThrow(/SMPP account "demo": expected system_id:password:capabilities:source-ranges/);
  });

  it("fails the env parse on a 9-character password, naming the account and never the password", () => {
    let message = "";
    try {
      loadGatewayEnv({ KAFKA_BROKERS: "127.0.0.1:1", SMPP_ACCOUNTS: "ok:pw:traffic:*,long-one:ninechars:traffic:*" });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('SMPP_ACCOUNTS: SMPP account "long-one": password must be 1–8');
    expect(message).not.toContain("ninechars");
  });

  it("refuses a system_id over 15 characters, an unknown capability, no capability, a bad range", () => {
    expect(() => validateAccountSpec(spec({ systemId: "a-very-long-system" }))).toThrow(/system_id must be 1–15/);
    expect(() => validateAccountSpec(spec({ capabilities: ["admin"] }))).toThrow(/SMPP account "mo-link": unknown capability "admin"/);
    expect(() => validateAccountSpec(spec({ capabilities: [] }))).toThrow(/at least one capability/);
    expect(() => validateAccountSpec(spec({ sourceRanges: ["13.*"] }))).toThrow(/SMPP account "mo-link": source range "13\.\*"/);
    expect(() => validateAccountSpec(spec({ sourceRanges: [] }))).toThrow(/at least one source range/);
    expect(() => validateAccountSpec(spec({ password: "" }))).toThrow(/password must be 1–8/);
  });
});

describe("accounts file", () => {
  const write = (value: unknown) => {
    const file = join(mkdtempSync(join(tmpdir(), "accounts-")), "accounts.json");
    writeFileSync(file, JSON.stringify(value));
    return file;
  };

  it("takes a stored scrypt hash instead of a password, and keeps no plain password", async () => {
    const file = write([{ systemId: "a2p", passwordHash: hashPassword("s3cret", cheap), capabilities: ["traffic"], sourceRanges: ["1069*"], maxSessions: 2 }]);
    const a = loadAccounts(undefined, file, defaults).get("a2p")!;
    expect(a).toMatchObject({ maxSessions: 2, throughputPerSec: 100 });
    expect(JSON.stringify(a)).not.toContain("s3cret");
    expect(await verifyPassword("s3cret", a.passwordHash)).toBe(true);
    expect(await verifyPassword("s3cre", a.passwordHash)).toBe(false);
  });

  it("refuses an entry with both or neither of password and passwordHash, and duplicate system_ids", () => {
    expect(() => loadAccounts(undefined, write([{ systemId: "x", capabilities: ["traffic"], sourceRanges: ["*"] }]), defaults)).toThrow(/"x": give exactly one/);
    expect(() => loadAccounts(parseInlineAccounts("x:pw:traffic:*"), write([{ systemId: "x", password: "pw", capabilities: ["traffic"], sourceRanges: ["*"] }]), defaults)).toThrow(
      /"x" is declared twice/,
    );
  });
});

describe("passwords", () => {
  it("hashes with a random salt and verifies only the right password", async () => {
    const a = hashPassword("pw", cheap);
    expect(a).not.toBe(hashPassword("pw", cheap));
    expect(a).toMatch(/^scrypt\$10\$8\$1\$/);
    expect(await verifyPassword("pw", parsePasswordHash(a))).toBe(true);
    expect(await verifyPassword("pw ", parsePasswordHash(a))).toBe(false);
  });

  it("refuses a hash whose cost would make a bind expensive", () => {
    expect(() => parsePasswordHash("scrypt$24$8$1$AAAAAAAAAAAAAAAAAAAAAA$" + "A".repeat(43))).toThrow(/cost out of range/);
  });
});

describe("source ranges and what an account may submit", () => {
  it("matches the canonical sender with ? and a trailing *", () => {
    const r = SourceRanges.parse(["13*", "1069??", "95588"]);
    for (const ok of ["13800000001", "+8613800000001", "008613800000001", "106901", "95588"]) expect(r.matches(ok), ok).toBe(true);
    for (const no of ["", "17000000001", "1069012", "955880", "9558", "+95588x"]) expect(r.matches(no), no).toBe(false);
    expect(SourceRanges.parse(["*"]).matches("")).toBe(true);
  });

  it("needs `report` for the report short codes, `traffic` for the rest, and a source in range", () => {
    const isReport = (d: string) => d === "10086999";
    const a2p = buildAccount(spec({ systemId: "a2p", capabilities: ["traffic"], sourceRanges: ["1069*"] }), defaults);
    const mo = buildAccount(spec(), defaults);
    const rx = buildAccount(spec({ systemId: "rx", capabilities: ["reply"], sourceRanges: ["*"] }), defaults);
    expect(authorizeSubmit(a2p, "1069000", "10086999", isReport)).toBe("no_report_capability");
    expect(authorizeSubmit(a2p, "13800000001", "13900000001", isReport)).toBe("source_out_of_range");
    expect(authorizeSubmit(a2p, "1069000", "13900000001", isReport)).toBeNull();
    expect(authorizeSubmit(mo, "13800000001", "10086999", isReport)).toBeNull();
    expect(authorizeSubmit(mo, "17000000001", "10086999", isReport)).toBe("source_out_of_range");
    expect(authorizeSubmit(rx, "13800000001", "13900000001", isReport)).toBe("no_traffic_capability");
  });
});
