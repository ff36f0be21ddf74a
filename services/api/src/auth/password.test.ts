import { describe, expect, it } from "vitest";
import { hashPassword, needsRehash, SCRYPT_PARAMS, verifyPassword } from "./password.js";

describe("password hashing", () => {
  it("uses scrypt at OWASP's floor or above (N ≥ 2^17, r = 8, p = 1)", async () => {
    expect(SCRYPT_PARAMS.N).toBeGreaterThanOrEqual(1 << 17);
    const hash = await hashPassword("correct horse battery");
    expect(hash.split("$").slice(0, 4)).toEqual(["scrypt", String(SCRYPT_PARAMS.N), "8", "1"]);
    expect(await verifyPassword("correct horse battery", hash)).toBe(true);
    expect(await verifyPassword("correct horse batterY", hash)).toBe(false);
    expect(needsRehash(hash)).toBe(false);
  });

  it("marks weaker or unreadable hashes for rehash and refuses absurd parameters", async () => {
    const weak = await hashPassword("pw-pw-pw-pw", { N: 1 << 15, r: 8, p: 1 });
    expect(needsRehash(weak)).toBe(true);
    expect(await verifyPassword("pw-pw-pw-pw", weak)).toBe(true);
    expect(needsRehash("md5$abc")).toBe(true);
    expect(await verifyPassword("x", "scrypt$1073741824$8$1$AAAA$AAAA")).toBe(false);
  });
});
