import iconv from "iconv-lite";
import { describe, expect, it } from "vitest";
import { SmppCodecError } from "./errors.js";
import { encodeGsmSeptets, packSeptets } from "./gsm7.js";
import { decodePdu, extractPart, type SmppMessageFields } from "./parts.js";
import { encodeText } from "./text.js";

const base = { source: "8613800000001", destination: "10086999", esmClass: 0, dataCoding: 8 };
const f = (o: Partial<SmppMessageFields>): SmppMessageFields => ({ ...base, shortMessage: Buffer.alloc(0), ...o });

describe("extractPart", () => {
  it("a plain PDU is a whole message", () => {
    const p = extractPart(f({ shortMessage: encodeText("举报", 8) }));
    expect(p.concat).toBeNull();
    expect(decodePdu(f({ shortMessage: encodeText("举报", 8) })).text).toBe("举报");
  });

  it("reads message_payload when short_message is empty", () => {
    const long = "很长的内容".repeat(60);
    expect(decodePdu(f({ messagePayload: encodeText(long, 8) })).text).toBe(long);
  });

  it("parses an 8-bit reference UDH from the raw octets", () => {
    const sm = Buffer.concat([Buffer.from([5, 0, 3, 0xa7, 3, 2]), encodeText("第二段", 8)]);
    const p = extractPart(f({ esmClass: 0x40, shortMessage: sm }));
    expect(p.concat).toEqual({ style: "udh8", reference: 0xa7, total: 3, seq: 2 });
    expect(Buffer.from(p.userData)).toEqual(encodeText("第二段", 8));
  });

  it("parses a 16-bit reference UDH and skips other elements", () => {
    // port addressing element first, then concat 16-bit
    const udh2 = Buffer.from([12, 0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0, 0x08, 0x04, 0x12, 0x34, 2, 1]);
    const p = extractPart(f({ esmClass: 0x43, shortMessage: Buffer.concat([udh2, encodeText("甲", 8)]) }));
    expect(p.concat).toEqual({ style: "udh16", reference: 0x1234, total: 2, seq: 1 });
    expect(Buffer.from(p.userData)).toEqual(encodeText("甲", 8));
  });

  it("uses SAR TLVs when there is no UDH", () => {
    const p = extractPart(
      f({ shortMessage: encodeText("乙", 8), sarMsgRefNum: 513, sarTotalSegments: 2, sarSegmentSeqnum: 2 }),
    );
    expect(p.concat).toEqual({ style: "sar", reference: 513, total: 2, seq: 2 });
  });

  it("ignores a concatenation element with an impossible sequence", () => {
    const sm = Buffer.concat([Buffer.from([5, 0, 3, 1, 2, 3]), encodeText("x", 8)]);
    expect(extractPart(f({ esmClass: 0x40, shortMessage: sm })).concat).toBeNull();
    const one = Buffer.concat([Buffer.from([5, 0, 3, 1, 1, 1]), encodeText("x", 8)]);
    expect(extractPart(f({ esmClass: 0x40, shortMessage: one })).concat).toBeNull();
  });

  it("GSM unpacked with UDH: septets after the header", () => {
    const sm = Buffer.concat([Buffer.from([5, 0, 3, 9, 2, 1]), encodeGsmSeptets("Hello {x}")]);
    const p = extractPart(f({ dataCoding: 0, esmClass: 0x40, shortMessage: sm }));
    expect(p.concat?.seq).toBe(1);
    expect(decodePdu(f({ dataCoding: 0, esmClass: 0x40, shortMessage: sm })).text).toBe("Hello {x}");
  });

  it("GSM packed with UDH: fill bits after the header", () => {
    const udh = Buffer.from([5, 0, 3, 9, 2, 1]);
    const sm = Buffer.concat([udh, packSeptets(encodeGsmSeptets("Packed after UDH €"), udh.length)]);
    expect(decodePdu(f({ dataCoding: 0, esmClass: 0x40, shortMessage: sm }), { gsmPacking: "packed" }).text).toBe(
      "Packed after UDH €",
    );
  });

  it("GB18030 with UDH", () => {
    const sm = Buffer.concat([Buffer.from([5, 0, 3, 1, 2, 1]), iconv.encode("退订回T", "gb18030")]);
    expect(decodePdu(f({ dataCoding: 15, esmClass: 0x40, shortMessage: sm })).text).toBe("退订回T");
  });

  it("malformed UDH is a coded error, never a crash", () => {
    for (const sm of [Buffer.from([0x20, 0, 3]), Buffer.from([4, 0, 9, 1, 2])]) {
      try {
        extractPart(f({ esmClass: 0x40, shortMessage: sm }));
        expect.unreachable();
      } catch (e) {
        expect((e as SmppCodecError).code).toBe("malformed_udh");
      }
    }
  });

  it("unsupported data_coding is a coded error", () => {
    expect(() => extractPart(f({ dataCoding: 4, shortMessage: Buffer.from([1]) }))).toThrowError(/not supported/);
  });
});
