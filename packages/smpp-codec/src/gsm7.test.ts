import { describe, expect, it } from "vitest";
import { decodeGsmSeptets, encodeGsmSeptets, gsmSeptetLength, packSeptets, unpackSeptets } from "./gsm7.js";

describe("GSM 03.38", () => {
  it("round-trips the basic table and the extension table", () => {
    const text = "Hello @£$¥ ΔΦΓ ÄÖÑÜ§¿ äöñüà {braces} [x] ~^|\\ €5";
    const septets = encodeGsmSeptets(text);
    expect(Math.max(...septets)).toBeLessThan(0x80);
    expect(decodeGsmSeptets(septets)).toBe(text);
  });

  it("maps septets to the right characters", () => {
    expect(decodeGsmSeptets(Uint8Array.from([0x00, 0x01, 0x02, 0x11, 0x1b, 0x65, 0x40, 0x60]))).toBe("@£$_€¡¿");
  });

  it("counts extension characters as two septets", () => {
    expect(gsmSeptetLength("a€")).toBe(3);
    expect(gsmSeptetLength("你")).toBeNull();
  });

  it("shows an unknown escape as the basic character and drops a dangling escape", () => {
    expect(decodeGsmSeptets(Uint8Array.from([0x1b, 0x41, 0x42]))).toBe("AB");
    expect(decodeGsmSeptets(Uint8Array.from([0x41, 0x1b]))).toBe("A");
  });

  it("rejects characters outside the alphabet", () => {
    expect(() => encodeGsmSeptets("中")).toThrowError(/not in the GSM/);
  });

  it("packs and unpacks 7-bit data (the 'hellohello' reference vector)", () => {
    const septets = encodeGsmSeptets("hellohello");
    const packed = packSeptets(septets);
    expect(Buffer.from(packed).toString("hex")).toBe("e8329bfd4697d9ec37");
    expect(decodeGsmSeptets(unpackSeptets(packed))).toBe("hellohello");
  });

  it("does not read 7 trailing fill bits as '@'", () => {
    const seven = encodeGsmSeptets("1234567");
    const packed = packSeptets(seven);
    expect(packed.length).toBe(7);
    expect(decodeGsmSeptets(unpackSeptets(packed))).toBe("1234567");
  });

  it("skips UDH octets plus fill bits when packed after a header", () => {
    const udh = Uint8Array.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01]);
    const body = packSeptets(encodeGsmSeptets("Part one text"), udh.length);
    const ud = Buffer.concat([udh, body]);
    expect(decodeGsmSeptets(unpackSeptets(ud, udh.length))).toBe("Part one text");
    const udh16 = Uint8Array.from([0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01]);
    const ud16 = Buffer.concat([udh16, packSeptets(encodeGsmSeptets("sixteen"), udh16.length)]);
    expect(decodeGsmSeptets(unpackSeptets(ud16, udh16.length))).toBe("sixteen");
  });
});
