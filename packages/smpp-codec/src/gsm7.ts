import { SmppCodecError } from "./errors.js";

/** GSM 03.38 default alphabet, indexed by septet value. */
const BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/** Extension table (reached via ESC 0x1B): septet → character. */
const EXTENSION: ReadonlyArray<readonly [number, string]> = [
  [0x0a, "\f"],
  [0x14, "^"],
  [0x28, "{"],
  [0x29, "}"],
  [0x2f, "\\"],
  [0x3c, "["],
  [0x3d, "~"],
  [0x3e, "]"],
  [0x40, "|"],
  [0x65, "€"],
];

const GSM_ESCAPE = 0x1b;

const basicDecode: string[] = Array.from(BASIC);
const extDecode = new Map<number, string>(EXTENSION);
const basicEncode = new Map<string, number>();
basicDecode.forEach((ch, i) => {
  if (i !== GSM_ESCAPE) basicEncode.set(ch, i);
});
const extEncode = new Map<string, number>(EXTENSION.map(([code, ch]) => [ch, code]));

if (basicDecode.length !== 128) throw new Error("GSM table must have 128 entries");

/** Decodes unpacked septets (one per octet, high bit ignored). */
export function decodeGsmSeptets(septets: Uint8Array): string {
  let out = "";
  for (let i = 0; i < septets.length; i++) {
    const s = septets[i]! & 0x7f;
    if (s === GSM_ESCAPE) {
      const next = septets[i + 1];
      if (next === undefined) break; // dangling escape at the end: nothing to show
      i++;
      const n = next & 0x7f;
      // 03.38: an unknown extension code is shown as the basic-table character.
      out += extDecode.get(n) ?? (n === GSM_ESCAPE ? " " : basicDecode[n]!);
      continue;
    }
    out += basicDecode[s]!;
  }
  return out;
}

/** Number of septets `text` takes, or null when a character is not in the GSM alphabet. */
export function gsmSeptetLength(text: string): number | null {
  let n = 0;
  for (const ch of text) {
    if (basicEncode.has(ch)) n += 1;
    else if (extEncode.has(ch)) n += 2;
    else return null;
  }
  return n;
}

export function isGsmEncodable(text: string): boolean {
  return gsmSeptetLength(text) !== null;
}

/** Septets of one character (1 or 2), or null when not representable. */
export function gsmCharSeptets(ch: string): number[] | null {
  const b = basicEncode.get(ch);
  if (b !== undefined) return [b];
  const e = extEncode.get(ch);
  if (e !== undefined) return [GSM_ESCAPE, e];
  return null;
}

/** Encodes to unpacked septets (one per octet), as SMPP carries data_coding 0. */
export function encodeGsmSeptets(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const s = gsmCharSeptets(ch);
    if (!s) throw new SmppCodecError("unencodable_text", `character U+${ch.codePointAt(0)!.toString(16).toUpperCase()} is not in the GSM 03.38 alphabet`);
    out.push(...s);
  }
  return Uint8Array.from(out);
}

/** First septet's bit position after `headerOctets` of UDH (fill bits up to a septet boundary). */
function septetStartBit(headerOctets: number): number {
  return Math.ceil((headerOctets * 8) / 7) * 7;
}

/**
 * Unpacks GSM 7-bit packed user data. `userData` includes the `headerOctets`
 * UDH octets, which are skipped together with their fill bits.
 */
export function unpackSeptets(userData: Uint8Array, headerOctets = 0): Uint8Array {
  const startBit = septetStartBit(headerOctets);
  const available = userData.length * 8 - startBit;
  if (available <= 0) return new Uint8Array(0);
  let count = Math.floor(available / 7);
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const bit = startBit + i * 7;
    const byte = bit >> 3;
    const shift = bit & 7;
    let v = userData[byte]! >> shift;
    if (shift > 1) v |= (userData[byte + 1] ?? 0) << (8 - shift);
    out[i] = v & 0x7f;
  }
  // Septets ending exactly 7 bits short of an octet boundary leave 7 zero fill
  // bits that read as a trailing '@'; 23.038 has senders use CR there to avoid the ambiguity.
  if (count > 0 && available % 7 === 0 && out[count - 1] === 0) count -= 1;
  return out.subarray(0, count);
}

/** Packs septets as GSM 7-bit; returns only the octets after `headerOctets` of UDH. */
export function packSeptets(septets: Uint8Array, headerOctets = 0): Uint8Array {
  const startBit = septetStartBit(headerOctets);
  const totalBits = startBit + septets.length * 7;
  const out = new Uint8Array(Math.ceil(totalBits / 8));
  for (let i = 0; i < septets.length; i++) {
    const bit = startBit + i * 7;
    const byte = bit >> 3;
    const shift = bit & 7;
    const v = septets[i]! & 0x7f;
    out[byte] = out[byte]! | ((v << shift) & 0xff);
    if (shift > 1) out[byte + 1] = out[byte + 1]! | (v >> (8 - shift));
  }
  return out.subarray(headerOctets);
}
