export type NumberKind = "mobile" | "sp" | "landline" | "service";

const MOBILE = /^1[3-9]\d{9}$/;
/** SP (value-added service) access codes: 106 + operator/SP digits. */
const SP = /^106\d{5,17}$/;
/** 95xxx/96xxx hotlines, 100xx/101xx operator and 12xxx public-service numbers, 400/800 numbers. */
const SERVICE = /^(?:9[56]\d{3,6}|10[01]\d{2}|11185|12\d{3}|[48]00\d{7})$/;
/** Area code 010 / 02x + 8 digits, or a three-digit area code + 7–8 digits. */
const LANDLINE = /^(?:0(?:10|2\d)\d{8}|0[3-9]\d{2}\d{7,8})$/;

export function classifyNumber(digits: string): NumberKind | null {
  if (MOBILE.test(digits)) return "mobile";
  if (SP.test(digits)) return "sp";
  if (SERVICE.test(digits)) return "service";
  if (LANDLINE.test(digits)) return "landline";
  return null;
}

/** Full-width ASCII (U+FF01–FF5E) and the ideographic space folded to ASCII, one code unit each. */
export function foldWidth(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xff01 && c <= 0xff5e) out += String.fromCharCode(c - 0xfee0);
    else if (c === 0x3000) out += " ";
    else if (c === 0xfe61 || c === 0x2731 || c === 0x204e) out += "*"; // ﹡ ✱ ⁎ read as the star
    else out += text[i]!;
  }
  return out;
}

export interface NormalisedNumber {
  readonly digits: string;
  readonly kind: NumberKind;
}

/**
 * Digits of a typed number without separators and without the country prefix
 * (+86 / 0086 / 86) when what follows is a Chinese number. Null when it is
 * not a number we can classify.
 */
export function normaliseNumber(typed: string): NormalisedNumber | null {
  const folded = foldWidth(typed).trim();
  if (!/^\+?[\d\s\-().]+$/.test(folded)) return null;
  const digits = folded.replace(/\D/g, "");
  if (digits.length === 0) return null;
  const candidates: string[] = [digits];
  for (const prefix of ["0086", "86"]) {
    if (digits.startsWith(prefix) && digits.length > prefix.length + 4) {
      const rest = digits.slice(prefix.length);
      candidates.unshift(rest, `0${rest}`);
      break;
    }
  }
  for (const c of candidates) {
    const kind = classifyNumber(c);
    // A country prefix only makes sense on a full subscriber or landline number.
    if (kind && (c === digits || kind === "mobile" || kind === "landline")) return { digits: c, kind };
  }
  return null;
}
