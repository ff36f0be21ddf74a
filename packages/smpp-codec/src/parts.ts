import { SmppCodecError } from "./errors.js";
import { encodeGsmSeptets } from "./gsm7.js";
import { codecFor, decodeUserData, normaliseGsm, type GsmPacking } from "./text.js";
import { concatFromUdh, isValidConcat, parseUdh, type ConcatInfo } from "./udh.js";

export const ESM_CLASS_UDHI = 0x40;

/** The message-carrying fields of a submit_sm / deliver_sm / data_sm, raw. */
export interface SmppMessageFields {
  readonly source: string;
  readonly destination: string;
  readonly esmClass: number;
  readonly dataCoding: number;
  readonly shortMessage: Uint8Array;
  readonly messagePayload?: Uint8Array | undefined;
  readonly sarMsgRefNum?: number | undefined;
  readonly sarTotalSegments?: number | undefined;
  readonly sarSegmentSeqnum?: number | undefined;
}

/** One PDU's contribution to a message: decoded header, normalised user data. */
export interface MessagePart {
  readonly source: string;
  readonly destination: string;
  readonly dataCoding: number;
  /** null: the PDU is a whole message. */
  readonly concat: ConcatInfo | null;
  /** User data without UDH; data_coding 0 as one septet per octet, others as received. */
  readonly userData: Uint8Array;
}

export interface ExtractOptions {
  /** data_coding 0 layout. Default "auto": unpacked unless an octet ≥ 0x80 shows packing. */
  readonly gsmPacking?: GsmPacking;
}

/**
 * Reads one PDU's message fields: picks short_message or message_payload,
 * parses the UDH from the raw octets when UDHI is set, falls back to SAR TLVs.
 * Throws `SmppCodecError` (`unsupported_data_coding`, `malformed_udh`).
 */
export function extractPart(fields: SmppMessageFields, opts: ExtractOptions = {}): MessagePart {
  const codec = codecFor(fields.dataCoding);
  // SMPP 3.4: message_payload is used with sm_length 0; take whichever carries the text.
  const body =
    fields.shortMessage.length === 0 && fields.messagePayload && fields.messagePayload.length > 0
      ? fields.messagePayload
      : fields.shortMessage;
  let headerOctets = 0;
  let concat: ConcatInfo | null = null;
  if ((fields.esmClass & ESM_CLASS_UDHI) !== 0 && body.length > 0) {
    const udh = parseUdh(body);
    headerOctets = udh.length;
    concat = concatFromUdh(udh.elements);
  }
  if (
    !concat &&
    fields.sarMsgRefNum !== undefined &&
    fields.sarTotalSegments !== undefined &&
    fields.sarSegmentSeqnum !== undefined
  ) {
    concat = { style: "sar", reference: fields.sarMsgRefNum, total: fields.sarTotalSegments, seq: fields.sarSegmentSeqnum };
  }
  if (concat && !isValidConcat(concat)) concat = null;
  const userData =
    codec === "gsm7" ? normaliseGsm(body, headerOctets, opts.gsmPacking ?? "auto") : body.subarray(headerOctets);
  return { source: fields.source, destination: fields.destination, dataCoding: fields.dataCoding, concat, userData };
}

/** Decodes a single PDU's text, ignoring concatenation (for one-part messages and tools). */
export function decodePdu(fields: SmppMessageFields, opts: ExtractOptions = {}): { text: string; concat: ConcatInfo | null } {
  const part = extractPart(fields, opts);
  return { text: decodeUserData(part.userData, part.dataCoding), concat: part.concat };
}

function asBytes(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v;
  if (typeof v === "string") return Buffer.from(v, "latin1");
  return undefined;
}

function asInt(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) ? v : undefined;
}

/**
 * The `smpp` package by default pre-decodes short_message / message_payload
 * into `{ udh?: Buffer[], message: string | Buffer }` with its own (lossy: no
 * GB18030, IA5 read as GSM) decoders. `loadSmpp({ rawMessages: true })` turns
 * that off; this function accepts either shape and rebuilds the raw octets.
 */
export function fieldsFromSmppPdu(pdu: Readonly<Record<string, unknown>>): SmppMessageFields {
  const dataCoding = asInt(pdu["data_coding"]) ?? 0;
  let esmClass = asInt(pdu["esm_class"]) ?? 0;
  const raw = (v: unknown): Uint8Array | undefined => {
    const bytes = asBytes(v);
    if (bytes) return bytes;
    if (v && typeof v === "object" && "message" in v) {
      const o = v as { udh?: unknown; message: unknown };
      const udhList = Array.isArray(o.udh) ? o.udh.filter((x): x is Uint8Array => x instanceof Uint8Array) : [];
      const msg = asBytes(o.message) ?? new Uint8Array(0);
      const msgBytes = typeof o.message === "string" ? reencodePreDecoded(o.message, dataCoding) : msg;
      if (udhList.length === 0) return msgBytes;
      const ies = Buffer.concat(udhList);
      esmClass |= ESM_CLASS_UDHI;
      return Buffer.concat([Buffer.from([ies.length]), ies, msgBytes]);
    }
    return undefined;
  };
  const shortMessage = raw(pdu["short_message"]) ?? new Uint8Array(0);
  const messagePayload = raw(pdu["message_payload"]);
  return {
    source: typeof pdu["source_addr"] === "string" ? pdu["source_addr"] : "",
    destination: typeof pdu["destination_addr"] === "string" ? pdu["destination_addr"] : "",
    esmClass,
    dataCoding,
    shortMessage,
    messagePayload,
    sarMsgRefNum: asInt(pdu["sar_msg_ref_num"]),
    sarTotalSegments: asInt(pdu["sar_total_segments"]),
    sarSegmentSeqnum: asInt(pdu["sar_segment_seqnum"]),
  };
}

/** Inverse of the smpp package's own decoders, so the octets decode to the same text. */
function reencodePreDecoded(text: string, dataCoding: number): Uint8Array {
  const dc = dataCoding & 0x0f;
  if (dc === 0x08) {
    const b = Buffer.from(text, "utf16le");
    b.swap16();
    return b;
  }
  if (dc === 0x03) return Buffer.from(text, "latin1");
  if (dc === 0x00 || dc === 0x01) {
    // smpp read these octets with its GSM table; map back to the same septets
    // (characters it could not map became spaces and stay spaces).
    try {
      return encodeGsmSeptets(text);
    } catch {
      return Buffer.from(text.replace(/[^\x00-\x7f]/g, " "), "latin1");
    }
  }
  throw new SmppCodecError("unsupported_data_coding", `pre-decoded text with data_coding ${dataCoding} cannot be restored`);
}
