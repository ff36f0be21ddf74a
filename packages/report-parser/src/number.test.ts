import { describe, expect, it } from "vitest";
import { classifyNumber, foldWidth, normaliseNumber } from "./number.js";

describe("classifyNumber", () => {
  it.each([
    ["13912345678", "mobile"],
    ["19912345678", "mobile"],
    ["1069012345", "sp"],
    ["10690123456789012345", "sp"],
    ["95588", "service"],
    ["95105555", "service"],
    ["10010", "service"],
    ["12345", "service"],
    ["4008123456", "service"],
    ["01087654321", "landline"],
    ["02165432100", "landline"],
    ["075587654321", "landline"],
    ["03716543210", "landline"],
  ])("%s is %s", (n, kind) => expect(classifyNumber(n)).toBe(kind));

  it.each(["", "1", "110", "12912345678", "1391234567", "139123456789", "106", "0101234567", "12345678"])(
    "%s is nothing",
    (n) => expect(classifyNumber(n)).toBeNull(),
  );
});

describe("normaliseNumber", () => {
  it("strips separators and country prefixes", () => {
    expect(normaliseNumber("+86 (139) 1234-5678")).toEqual({ digits: "13912345678", kind: "mobile" });
    expect(normaliseNumber("0086-13912345678")).toEqual({ digits: "13912345678", kind: "mobile" });
  });
  it("does not strip 86 from an SP or service number", () => {
    expect(normaliseNumber("8695588")).toBeNull();
  });
  it("rejects letters", () => {
    expect(normaliseNumber("139abc45678")).toBeNull();
  });
});

describe("foldWidth", () => {
  it("keeps length so indices still cut the original", () => {
    const s = "ＡＢ　１２＊中";
    expect(foldWidth(s)).toBe("AB 12*中");
    expect(foldWidth(s).length).toBe(s.length);
  });
});
