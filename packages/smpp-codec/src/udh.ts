import { SmppCodecError } from "./errors.js";

export interface UdhElement {
  readonly iei: number;
  readonly data: Uint8Array;
}

export type ConcatStyle = "udh8" | "udh16" | "sar";

export interface ConcatInfo {
  readonly style: ConcatStyle;
  readonly reference: number;
  readonly total: number;
  /** 1-based. */
  readonly seq: number;
}

export interface ParsedUdh {
  /** Octets the header takes including the UDHL octet itself. */
  readonly length: number;
  readonly elements: readonly UdhElement[];
}

/** Parses the UDH at the start of user data (esm_class UDHI set). Throws `malformed_udh`. */
export function parseUdh(userData: Uint8Array): ParsedUdh {
  const udhl = userData[0];
  if (udhl === undefined) throw new SmppCodecError("malformed_udh", "UDHI set but the message is empty");
  if (udhl + 1 > userData.length) {
    throw new SmppCodecError("malformed_udh", `UDH length ${udhl} exceeds the ${userData.length}-octet message`);
  }
  const elements: UdhElement[] = [];
  let i = 1;
  const end = udhl + 1;
  while (i < end) {
    const iei = userData[i]!;
    const len = userData[i + 1];
    if (len === undefined || i + 2 + len > end) {
      throw new SmppCodecError("malformed_udh", `UDH element 0x${iei.toString(16)} overruns the header`);
    }
    elements.push({ iei, data: userData.subarray(i + 2, i + 2 + len) });
    i += 2 + len;
  }
  return { length: end, elements };
}

/** Concatenation info from UDH elements (IEI 0x00 8-bit or 0x08 16-bit reference), or null. */
export function concatFromUdh(elements: readonly UdhElement[]): ConcatInfo | null {
  for (const e of elements) {
    if (e.iei === 0x00 && e.data.length === 3) {
      return { style: "udh8", reference: e.data[0]!, total: e.data[1]!, seq: e.data[2]! };
    }
    if (e.iei === 0x08 && e.data.length === 4) {
      return { style: "udh16", reference: (e.data[0]! << 8) | e.data[1]!, total: e.data[2]!, seq: e.data[3]! };
    }
  }
  return null;
}

/** 03.40: a concatenation element with total/seq out of range is ignored (the part stands alone). */
export function isValidConcat(c: ConcatInfo): boolean {
  return c.total >= 2 && c.seq >= 1 && c.seq <= c.total;
}

/** Builds a UDH (with UDHL) holding one concatenation element. */
export function buildConcatUdh(style: "udh8" | "udh16", reference: number, total: number, seq: number): Buffer {
  if (style === "udh8") return Buffer.from([0x05, 0x00, 0x03, reference & 0xff, total, seq]);
  return Buffer.from([0x06, 0x08, 0x04, (reference >> 8) & 0xff, reference & 0xff, total, seq]);
}
