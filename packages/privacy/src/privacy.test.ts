import fc from "fast-check";
import pino from "pino";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { LOG_REDACTION, MAX_TEXT_CHARS, maskDigits, maskNumber, maskText, present, readableDigits } from "./index.js";

describe("maskNumber: one policy, 3 + 2 digits of a mobile", () => {
  it("masks numbers written any way as a whole field", () => {
    expect(maskNumber("13800138000")).toBe("138******00");
    expect(maskNumber("+8613800138000")).toBe("+86138******00");
    expect(maskNumber("008613800138000")).toBe("0086138******00");
    expect(maskNumber("１３８００１３８０００")).toBe("138******00");
    expect(maskNumber("138-0013-8000")).toBe("138******00");
    expect(maskNumber("95588")).toBe("9****");
    expect(maskNumber("01012345678")).toBe("010******78");
  });
  it("keeps brand sender ids, masking any number inside them", () => {
    expect(maskNumber("BANK")).toBe("BANK");
    expect(maskNumber("vx13800138000")).toBe("vx138******00");
  });
  it("hides at least half the digits of short numbers", () => {
    expect(maskDigits("1234567")).toBe("1****67");
    expect(maskDigits("12345678")).toBe("12****78");
  });
});

describe("maskText", () => {
  const cases: [string, string][] = [
    ["回电 138-0013-8000 退款", "回电 138******00 退款"],
    ["加vx13800138000 退款", "加vx138******00 退款"],
    ["电话１３８００１３８０００", "电话138******00"],
    ["138.0013.8000", "138******00"],
    ["138/0013/8000", "138******00"],
    ["138\u30000013\u30008000", "138******00"],
    ["1\u200b3\u200c8\u200d0\u20600\ufeff1\u00ad38000", "138******00"],
    ["一三八〇〇一三八〇〇〇", "138******00"],
    ["壹叁捌零零壹叁捌零零零", "138******00"],
    ["幺三八两零零幺三八零零", "138******00"],
    ["①③⑧⓪⓪①③⑧⓪⓪⓪", "138******00"],
    ["¹³⁸⁰⁰¹³⁸⁰⁰⁰", "138******00"],
    ["𝟏𝟑𝟖𝟎𝟎𝟏𝟑𝟖𝟎𝟎𝟎", "138******00"],
    ["١٣٨٠٠١٣٨٠٠٠", "138******00"],
    ["+86 138 0013 8000", "+86138******00"],
    ["0086-138-0013-8000", "0086138******00"],
    ["call 138OO138OOO now", "call 138******00 now"],
    ["l38 oo13 8ooo", "138******00"],
    ["1️⃣3️⃣8️⃣0️⃣0️⃣1️⃣3️⃣8️⃣0️⃣0️⃣0️⃣", "138******00"],
    ["１３８－００１３－８０００", "138******00"],
    ["㈠㈢㈧〇〇㊀㊂㊇零零零", "138******00"],
    ["138 - - 0013 ~ 8000", "138******00"],
  ];
  it.each(cases)("%s", (input, masked) => {
    expect(maskText(input)).toBe(masked);
  });
  it("leaves verification codes, words and prices readable", () => {
    for (const t of ["验证码 123456，请在五分钟内输入", "Hello world, lol", "只要 99 元", "I love 2024"]) expect(maskText(t)).toBe(t);
  });
  it("masks 64 KiB of digits and separators as one number (its cost is printed by benchmarks/src/privacy.bench.ts)", () => {
    const out = maskText("1 ".repeat(MAX_TEXT_CHARS / 2));
    expect(readableDigits(out).length).toBeLessThan(10);
  });
  it("cuts texts over the cap instead of leaving a tail unmasked", () => {
    const out = maskText(`${"x".repeat(MAX_TEXT_CHARS)}13800138000`);
    expect(out).not.toContain("13800138000");
    expect(out.endsWith("…[cut]")).toBe(true);
  });
});

describe("policy by role", () => {
  it("masks for every role and withholds text and detail with the text", () => {
    for (const role of ["reviewer", "analyst", "admin"] as const) {
      expect(present(role, "number", "13800138000")).toBe("138******00");
      expect(present(role, "detail", 'matched "加vx13800138000"')).toBe('matched "加vx138******00"');
      expect(present(role, "detail", "anything", { textWithheld: true })).toBeNull();
      expect(present(role, "text", "anything", { textWithheld: true })).toBeNull();
    }
    expect(present("admin", "export", "13800138000")).toBe("13800138000");
    expect(present("analyst", "export", "13800138000")).toBe("138******00");
  });
});

// ---- property: no obfuscation gets a full number past maskText -------------------------------

const FULLWIDTH = "０１２３４５６７８９";
const CN_LOWER = "〇一二三四五六七八九";
const CN_UPPER = "零壹贰叁肆伍陆柒捌玖";
const CIRCLED = "⓪①②③④⑤⑥⑦⑧⑨";
const SUPER = "⁰¹²³⁴⁵⁶⁷⁸⁹";
const MATH = "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗";
const ARABIC = "٠١٢٣٤٥٦٧٨٩";
const forms = (d: number): string[] => {
  const out = [String(d), FULLWIDTH[d]!, CN_LOWER[d]!, CN_UPPER[d]!, CIRCLED[d]!, SUPER[d]!, Array.from(MATH)[d]!, ARABIC[d]!];
  if (d === 0) out.push("O", "o");
  if (d === 1) out.push("l", "幺");
  if (d === 2) out.push("两");
  return out;
};
const SEPARATORS = [" ", "-", ".", "/", "\u3000", "·", "_", "—", "(", ")", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "*", "、", "\n"];

/** A Chinese mobile number: 1, a valid second digit, nine more. */
const mobile = fc
  .tuple(fc.constantFrom("13", "14", "15", "16", "17", "18", "19"), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 9, maxLength: 9 }))
  .map(([p, rest]) => p + rest.join(""));

const obfuscated = (n: string) =>
  fc
    .tuple(
      fc.constantFrom("", "+86", "+86 ", "0086", "86"),
      fc.array(fc.nat(), { minLength: n.length, maxLength: n.length }),
      fc.array(fc.array(fc.constantFrom(...SEPARATORS), { maxLength: 3 }), { minLength: n.length, maxLength: n.length }),
    )
    .map(([prefix, formPicks, seps]) =>
      prefix +
      Array.from(n)
        .map((d, i) => {
          const f = forms(Number(d));
          return (i > 0 ? seps[i]!.join("") : "") + f[formPicks[i]! % f.length]!;
        })
        .join(""),
    );

const surrounding = fc.string({
  unit: fc.constantFrom(..."退款请联系客服加微信验证码您的快递丢失点击领取 refund call now Hello world ，。！：".split("")),
  maxLength: 30,
});

describe("property: an obfuscated number in random text never survives maskText", () => {
  it("holds for random numbers × obfuscations × texts", () => {
    fc.assert(
      fc.property(
        mobile.chain((n) => fc.tuple(fc.constant(n), obfuscated(n), surrounding, surrounding)),
        ([n, written, before, after]) => {
          const out = maskText(`${before}${written}${after}`);
          // The strictest reading of the output: every character that could be a digit, nothing else.
          expect(readableDigits(out)).not.toContain(n);
          expect(readableDigits(out)).not.toContain(n.slice(3, 9));
        },
      ),
      { seed: 17, numRuns: 3_000 },
    );
  });

  it("finds each of several numbers in one text", () => {
    fc.assert(
      fc.property(fc.array(mobile.chain((n) => fc.tuple(fc.constant(n), obfuscated(n), surrounding)), { minLength: 1, maxLength: 4 }), (parts) => {
        const out = maskText(parts.map(([, w, s]) => `${w}${s}加`).join(""));
        for (const [n] of parts) expect(readableDigits(out)).not.toContain(n.slice(3, 9));
      }),
      { seed: 18, numRuns: 500 },
    );
  });
});

describe("log redaction", () => {
  it("keeps numbers, texts and credentials out of service logs", () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => void (lines.push(String(chunk)), cb()) });
    const log = pino({ redact: LOG_REDACTION }, sink);
    log.info({ reporterMsisdn: "13700137000", report: { to: "13900139000", text: "回电 13800138000" }, password: "hunter2hunter2" }, "x");
    log.info({ req: { url: "/api/cases/case-sender-13600136000-1", headers: { authorization: "Bearer abc", cookie: "s=1" } } }, "y");
    log.error({ err: { message: "no case for 13500135000" } }, "z");
    log.info({ from: new Date(0), source: "classifier" }, "range");
    log.error({ err: new Error("no case 13400134000") }, "thrown");
    log.warn({ err: "bad PDU from 13300133000" }, "as text");
    const all = lines.join("");
    for (const secret of ["13700137000", "13900139000", "13800138000", "13600136000", "13500135000", "13400134000", "13300133000", "hunter2", "Bearer abc", "s=1"]) {
      expect(all).not.toContain(secret);
    }
    expect(all).toContain("137******00");
    expect(all).toContain('"from":"1970-01-01T00:00:00.000Z"');
    expect(all).toContain('"source":"classifier"');
  });
});
