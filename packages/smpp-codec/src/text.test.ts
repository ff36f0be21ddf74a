import iconv from "iconv-lite";
import { describe, expect, it } from "vitest";
import { SmppCodecError } from "./errors.js";
import { packSeptets, encodeGsmSeptets } from "./gsm7.js";
import { chooseDataCoding, codecFor, decodeText, encodeText } from "./text.js";

const ucs2 = (s: string): Buffer => {
  const b = Buffer.from(s, "utf16le");
  b.swap16();
  return b;
};

describe("decodeText by data_coding", () => {
  it("0: GSM unpacked septets (as SMPP carries them)", () => {
    expect(decodeText(Buffer.from([0x48, 0x69, 0x20, 0x1b, 0x65, 0x00]), 0)).toBe("Hi €@");
  });
  it("0: GSM packed is detected automatically and can be forced", () => {
    const packed = packSeptets(encodeGsmSeptets("Your code is 4711"));
    expect(decodeText(packed, 0)).toBe("Your code is 4711");
    expect(decodeText(packed, 0, { gsmPacking: "packed" })).toBe("Your code is 4711");
  });
  it("1: ASCII keeps @ $ _ as ASCII, not as GSM", () => {
    expect(decodeText(Buffer.from("a@b$c_d", "latin1"), 1)).toBe("a@b$c_d");
  });
  it("3: Latin-1", () => {
    expect(decodeText(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0xa3]), 3)).toBe("café£");
  });
  it("8: UCS-2 Chinese and a surrogate pair (emoji)", () => {
    expect(decodeText(ucs2("您好，中奖了😀"), 8)).toBe("您好，中奖了😀");
    expect(decodeText(Buffer.from([0xd8, 0x3d, 0xde, 0x00]), 8)).toBe("😀");
  });
  it("8: a lone surrogate or an odd trailing octet becomes U+FFFD", () => {
    expect(decodeText(Buffer.from([0x4e, 0x2d, 0xd8, 0x3d]), 8)).toBe("中\uFFFD");
    expect(decodeText(Buffer.from([0x4e, 0x2d, 0x41]), 8)).toBe("中\uFFFD");
  });
  it("15: GBK and four-byte GB18030", () => {
    expect(decodeText(Buffer.from([0xc4, 0xe3, 0xba, 0xc3]), 15)).toBe("你好");
    expect(decodeText(iconv.encode("退款😀€", "gb18030"), 15)).toBe("退款😀€");
  });
  it("GSM message-class group 0xF0–0xF3 reads as GSM", () => {
    expect(decodeText(Buffer.from([0x41, 0x42]), 0xf1)).toBe("AB");
  });
  it("unknown data_coding throws a coded error", () => {
    for (const dc of [2, 4, 5, 9, 0xf4]) {
      try {
        decodeText(Buffer.from([0x41]), dc);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(SmppCodecError);
        expect((e as SmppCodecError).code).toBe("unsupported_data_coding");
      }
    }
  });
});

describe("encodeText", () => {
  it("round-trips every supported coding", () => {
    const cases: Array<[string, number]> = [
      ["Hello {€}", 0],
      ["a@b$c", 1],
      ["café", 3],
      ["验证码😀", 8],
      ["中奖通知😀", 15],
    ];
    for (const [text, dc] of cases) expect(decodeText(encodeText(text, dc), dc)).toBe(text);
  });
  it("UCS-2 is big-endian", () => {
    expect(encodeText("中", 8).toString("hex")).toBe("4e2d");
  });
  it("refuses text the coding cannot carry", () => {
    expect(() => encodeText("中", 0)).toThrowError(SmppCodecError);
    expect(() => encodeText("é", 1)).toThrowError(SmppCodecError);
    expect(() => encodeText("中", 3)).toThrowError(SmppCodecError);
  });
  it("chooses GSM for GSM text and UCS-2 for Chinese", () => {
    expect(chooseDataCoding("Code 1234")).toBe(0);
    expect(chooseDataCoding("您的举报已受理")).toBe(8);
  });
  it("codecFor names the codec", () => {
    expect(codecFor(15)).toBe("gb18030");
  });
});
