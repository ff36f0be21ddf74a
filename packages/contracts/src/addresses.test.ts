import { describe, expect, it } from "vitest";
import { canonicalSender } from "./addresses.js";

describe("canonicalSender", () => {
  it("gives one key to a mobile number however the prefix is written", () => {
    expect(new Set(["+8613800138000", "008613800138000", "8613800138000", "13800138000", " 13800138000 "].map(canonicalSender))).toEqual(
      new Set(["13800138000"]),
    );
  });
  it("keeps SP and service numbers and lower-cases alphanumeric ids", () => {
    expect(canonicalSender("1069012345")).toBe("1069012345");
    expect(canonicalSender("95588")).toBe("95588");
    expect(canonicalSender("BankABC")).toBe("bankabc");
    // 86 followed by a non-mobile number is not a country prefix.
    expect(canonicalSender("8610012345")).toBe("8610012345");
  });
});
