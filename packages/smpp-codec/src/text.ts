import iconv from "iconv-lite";
import { SmppCodecError } from "./errors.js";
import { decodeGsmSeptets, encodeGsmSeptets, isGsmEncodable, unpackSeptets } from "./gsm7.js";

/** data_coding values the gateway understands (SMPP 3.4 §5.2.19). */
const DATA_CODING = {
  /** SMSC default alphabet: GSM 03.38 on this network. */
  GSM7: 0x00,
  /** IA5 / ASCII. */
  ASCII: 0x01,
  LATIN1: 0x03,
  /** UCS-2 big-endian; surrogate pairs decode as UTF-16BE. */
  UCS2: 0x08,
  /** GBK / GB18030, common on Chinese networks. */
  GB18030: 0x0f,
} as const;

/** How octets of data_coding 0 are laid out: SMPP normally carries one septet per octet. */
export type GsmPacking = "unpacked" | "packed" | "auto";

export type TextCodec = "gsm7" | "ascii" | "latin1" | "ucs2" | "gb18030";

/** Maps a data_coding byte to the codec that reads it, or throws `unsupported_data_coding`. */
export function codecFor(dataCoding: number): TextCodec {
  switch (dataCoding) {
    case 0x00:
      return "gsm7";
    case 0x01:
      return "ascii";
    case 0x03:
      return "latin1";
    case 0x08:
      return "ucs2";
    case 0x0f:
      return "gb18030";
    default:
      // 0xF0–0xF3: GSM message-class group with the default alphabet.
      if ((dataCoding & 0xf4) === 0xf0) return "gsm7";
      throw new SmppCodecError(
        "unsupported_data_coding",
        `data_coding 0x${dataCoding.toString(16).padStart(2, "0")} is not supported (supported: 0, 1, 3, 8, 15, 0xF0-0xF3)`,
      );
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function decodeUtf16be(bytes: Uint8Array): string {
  const even = bytes.length & ~1;
  const copy = Buffer.from(bytes.subarray(0, even));
  copy.swap16();
  let text = copy.toString("utf16le");
  // A pair split across a missing part, or a truncated body: show U+FFFD, never a broken string.
  text = text.replace(LONE_SURROGATE, "\uFFFD");
  return even === bytes.length ? text : text + "\uFFFD";
}

/**
 * Decodes user data that has already been normalised: for GSM, one septet per
 * octet (as `extractPart` produces). Throws `unsupported_data_coding`.
 */
export function decodeUserData(bytes: Uint8Array, dataCoding: number): string {
  switch (codecFor(dataCoding)) {
    case "gsm7":
      return decodeGsmSeptets(bytes);
    case "ascii":
      // IA5 is 7-bit; octets above 0x7F are read as Latin-1 rather than lost.
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
    case "latin1":
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
    case "ucs2":
      return decodeUtf16be(bytes);
    case "gb18030":
      return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), "gb18030");
  }
}

/** Unpacked septets look like octets < 0x80; anything above means the sender packed them. */
function looksPacked(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b >= 0x80) return true;
  return false;
}

/** Turns data_coding 0 octets (after any UDH) into one septet per octet. */
export function normaliseGsm(userData: Uint8Array, headerOctets: number, packing: GsmPacking): Uint8Array {
  const body = userData.subarray(headerOctets);
  const packed = packing === "packed" || (packing === "auto" && looksPacked(body));
  if (packed) return unpackSeptets(userData, headerOctets);
  return body.map((b) => b & 0x7f);
}

/** Decodes a whole short_message / message_payload without UDH. */
export function decodeText(bytes: Uint8Array, dataCoding: number, opts: { gsmPacking?: GsmPacking } = {}): string {
  if (codecFor(dataCoding) === "gsm7") return decodeGsmSeptets(normaliseGsm(bytes, 0, opts.gsmPacking ?? "auto"));
  return decodeUserData(bytes, dataCoding);
}

/** Encodes text for a data_coding (GSM as unpacked septets). Throws `unencodable_text`. */
export function encodeText(text: string, dataCoding: number): Buffer {
  switch (codecFor(dataCoding)) {
    case "gsm7":
      return Buffer.from(encodeGsmSeptets(text));
    case "ascii":
      if (!/^[\x00-\x7f]*$/.test(text)) throw new SmppCodecError("unencodable_text", "text is not ASCII");
      return Buffer.from(text, "latin1");
    case "latin1":
      if (!/^[\x00-\xff]*$/.test(text)) throw new SmppCodecError("unencodable_text", "text is not Latin-1");
      return Buffer.from(text, "latin1");
    case "ucs2": {
      const b = Buffer.from(text, "utf16le");
      b.swap16();
      return b;
    }
    case "gb18030":
      return iconv.encode(text, "gb18030");
  }
}

/** Replies: GSM when every character fits (cheapest), else UCS-2 (any Chinese text). */
export function chooseDataCoding(text: string): 0 | 8 {
  return isGsmEncodable(text) ? DATA_CODING.GSM7 : DATA_CODING.UCS2;
}
