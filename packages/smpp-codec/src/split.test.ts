import { describe, expect, it } from "vitest";
import { decodePdu } from "./parts.js";
import { splitMessage } from "./split.js";

const decode = (p: ReturnType<typeof splitMessage>[number]) =>
  decodePdu({ source: "a", destination: "b", esmClass: p.esm_class, dataCoding: p.data_coding, shortMessage: p.short_message });

describe("splitMessage", () => {
  it("keeps a short text in one part without concatenation", () => {
    const parts = splitMessage("您的举报已受理", { dataCoding: 8 });
    expect(parts).toHaveLength(1);
    expect(parts[0]!.esm_class & 0x40).toBe(0);
  });

  it("70 Chinese characters fit one UCS-2 SMS, 71 need two parts of at most 67", () => {
    expect(splitMessage("中".repeat(70), { dataCoding: 8 })).toHaveLength(1);
    const parts = splitMessage("中".repeat(71), { dataCoding: 8 });
    expect(parts).toHaveLength(2);
    expect(parts[0]!.short_message.length).toBe(6 + 134);
    expect(parts.every((p) => p.short_message.length <= 140)).toBe(true);
  });

  it("16-bit UDH parts stay within 140 octets and carry the reference", () => {
    const parts = splitMessage("中".repeat(200), { dataCoding: 8, concat: "udh16", reference: 0xbeef });
    expect(parts.every((p) => p.short_message.length <= 140)).toBe(true);
    expect([...parts[1]!.short_message.subarray(0, 7)]).toEqual([6, 8, 4, 0xbe, 0xef, parts.length, 2]);
  });

  it("SAR parts carry TLVs and no UDH", () => {
    const parts = splitMessage("中".repeat(200), { dataCoding: 8, concat: "sar", reference: 600 });
    expect(parts[2]).toMatchObject({ sar_msg_ref_num: 600, sar_total_segments: parts.length, sar_segment_seqnum: 3, esm_class: 0 });
  });

  it("never splits a surrogate pair", () => {
    const text = "中" + "😀".repeat(80);
    const parts = splitMessage(text, { dataCoding: 8 });
    const texts = parts.map((p) => decode(p).text);
    expect(texts.join("")).toBe(text);
    expect(texts.some((t) => t.includes("\uFFFD"))).toBe(false);
  });

  it("GSM: 160 septets in one, 153 per part after that, escapes not split", () => {
    expect(splitMessage("a".repeat(160), { dataCoding: 0 })).toHaveLength(1);
    const parts = splitMessage("a".repeat(152) + "€" + "b".repeat(10), { dataCoding: 0 });
    expect(parts).toHaveLength(2);
    expect(parts.map((p) => decode(p).text).join("")).toBe("a".repeat(152) + "€" + "b".repeat(10));
    expect(parts[0]!.short_message.length - 6).toBe(152);
  });

  it("GB18030 parts split on character boundaries", () => {
    const text = "退订回T中奖😀".repeat(30);
    const parts = splitMessage(text, { dataCoding: 15, concat: "udh8" });
    expect(parts.map((p) => decode(p).text).join("")).toBe(text);
  });

  it("refuses text the coding cannot carry", () => {
    expect(() => splitMessage("中", { dataCoding: 0 })).toThrowError(/GSM/);
  });
});
