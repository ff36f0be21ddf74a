import { SmppCodecError } from "./errors.js";
import { gsmCharSeptets } from "./gsm7.js";
import { codecFor, encodeText } from "./text.js";
import { buildConcatUdh, type ConcatStyle } from "./udh.js";
import { ESM_CLASS_UDHI } from "./parts.js";

/** Fields to spread into an `smpp` submit_sm / deliver_sm (raw octets). */
export interface OutgoingPart {
  short_message: Buffer;
  data_coding: number;
  esm_class: number;
  sar_msg_ref_num?: number;
  sar_total_segments?: number;
  sar_segment_seqnum?: number;
}

export interface SplitOptions {
  readonly dataCoding: number;
  /** How to mark parts when the text needs more than one. Default "udh8". */
  readonly concat?: ConcatStyle;
  /** Concatenation reference (8 or 16 bits by style). Default 1. */
  readonly reference?: number;
  /** Octets of user data per SMS (GSM counts septets: 160 per 140 octets). Default 140. */
  readonly maxOctets?: number;
  /** Base esm_class bits to keep (e.g. message mode). Default 0. */
  readonly esmClass?: number;
}

/** Characters → encoded units, never splitting a surrogate pair or a GSM escape. */
function unitsOf(text: string, dataCoding: number): Uint8Array[] {
  const codec = codecFor(dataCoding);
  const out: Uint8Array[] = [];
  for (const ch of text) {
    if (codec === "gsm7") {
      const s = gsmCharSeptets(ch);
      if (!s) throw new SmppCodecError("unencodable_text", `character ${JSON.stringify(ch)} is not in the GSM 03.38 alphabet`);
      out.push(Uint8Array.from(s));
    } else {
      out.push(encodeText(ch, dataCoding));
    }
  }
  return out;
}

/**
 * Splits text into SMS parts for a data_coding, with UDH (8/16-bit reference)
 * or SAR TLVs when it needs more than one. For replies, tests and benchmarks.
 */
export function splitMessage(text: string, opts: SplitOptions): OutgoingPart[] {
  const dc = opts.dataCoding;
  const style = opts.concat ?? "udh8";
  const reference = opts.reference ?? 1;
  const maxOctets = opts.maxOctets ?? 140;
  const baseEsm = (opts.esmClass ?? 0) & ~ESM_CLASS_UDHI;
  const gsm = codecFor(dc) === "gsm7";
  // GSM is carried unpacked in SMPP but billed in septets: 140 octets hold 160.
  const capacity = (headerOctets: number): number => {
    const octets = maxOctets - headerOctets;
    const cap = gsm ? Math.floor((octets * 8) / 7) : octets;
    return codecFor(dc) === "ucs2" ? cap & ~1 : cap;
  };
  const units = unitsOf(text, dc);
  const total = units.reduce((n, u) => n + u.length, 0);
  if (total <= capacity(0)) {
    return [{ short_message: Buffer.concat(units), data_coding: dc, esm_class: baseEsm }];
  }
  // SAR leaves room for the UDH the SMSC adds when delivering to the handset.
  const header = style === "udh16" ? 7 : 6;
  const cap = capacity(header);
  const chunks: Uint8Array[][] = [[]];
  let used = 0;
  for (const u of units) {
    if (u.length > cap) throw new SmppCodecError("message_too_long", "a single character does not fit in a part");
    if (used + u.length > cap) {
      chunks.push([]);
      used = 0;
    }
    chunks[chunks.length - 1]!.push(u);
    used += u.length;
  }
  if (chunks.length > 255) throw new SmppCodecError("message_too_long", `text needs ${chunks.length} parts (max 255)`);
  return chunks.map((chunk, i) => {
    const body = Buffer.concat(chunk);
    if (style === "sar") {
      return {
        short_message: body,
        data_coding: dc,
        esm_class: baseEsm,
        sar_msg_ref_num: reference & 0xffff,
        sar_total_segments: chunks.length,
        sar_segment_seqnum: i + 1,
      };
    }
    return {
      short_message: Buffer.concat([buildConcatUdh(style, reference, chunks.length, i + 1), body]),
      data_coding: dc,
      esm_class: baseEsm | ESM_CLASS_UDHI,
    };
  });
}
