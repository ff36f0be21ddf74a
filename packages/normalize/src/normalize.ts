import {
  CLS,
  C_CJK,
  C_DIGIT,
  C_DROP,
  C_LETTER,
  C_NUMERAL,
  C_OTHER,
  C_SEP,
  C_SPACE,
  MAP,
  MULTI,
  NUMERAL_VALUE,
  SLOW,
} from "./tables.js";
import { extractAmounts, extractPhones, extractQqIds, extractWechatIds, scanUrls, type UrlMatch } from "./extract.js";

/**
 * Characters of one SMS that are read at all: what the gateway keeps of a
 * message (`message_payload` allows 64 KB). Every regex over SMS text runs
 * behind this cap, so a message's worst-case cost is bounded.
 */
export const MAX_TEXT_CHARS = 20_000;

export interface NormalizedText {
  /** Readable normalised text: NFKC, half-width, simplified, lower-case, evasion separators removed. */
  text: string;
  /** `text` without any spaces, separators or punctuation: the form keyword rules match on. */
  compact: string;
  /** URLs as found (deobfuscated, lower-case; scheme kept when present). */
  urls: string[];
  /** Host names of `urls`, ASCII (punycode) form, without a leading "www.". */
  domains: string[];
  /** Phone numbers, digits only, without +86. */
  phones: string[];
  qqIds: string[];
  wechatIds: string[];
  /** Money amounts in yuan (万/w multiplied out). */
  amounts: number[];
}

let buf = new Uint16Array(1024);
let cbuf = new Uint16Array(1024);

function toStr(a: Uint16Array, n: number): string {
  if (n <= 4096) return String.fromCharCode.apply(null, a.subarray(0, n) as unknown as number[]);
  let s = "";
  for (let i = 0; i < n; i += 4096) {
    s += String.fromCharCode.apply(null, a.subarray(i, Math.min(n, i + 4096)) as unknown as number[]);
  }
  return s;
}

const MULTI_RE = new RegExp(`[${[...MULTI.keys()].join("")}]`, "g");

function isHan(cls: number): boolean {
  return cls === C_CJK || cls === C_NUMERAL;
}

/**
 * Stage 1: per-unit folding (NFKC, width, case, traditional→simplified, homoglyph
 * letters), zero-width removal, whitespace collapsing. Writes into `buf`.
 * Returns the length and whether Chinese numerals occurred.
 */
function fold(input: string): number {
  let s = input.length > MAX_TEXT_CHARS ? input.slice(0, MAX_TEXT_CHARS) : input;
  for (let i = 0; i < s.length; i++) {
    if (SLOW[s.charCodeAt(i)] === 1) {
      s = s.replace(MULTI_RE, (ch) => MULTI.get(ch) ?? ch).normalize("NFKC");
      break;
    }
  }
  if (buf.length < s.length + 1) buf = new Uint16Array(s.length * 2 + 16);
  let n = 0;
  let pendingSpace = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const cls = CLS[c]!;
    if (cls === C_DROP) continue;
    if (cls === C_SPACE) {
      pendingSpace = n > 0;
      continue;
    }
    if (pendingSpace) {
      buf[n++] = 0x20;
      pendingSpace = false;
    }
    buf[n++] = MAP[c]!;
  }
  return n;
}

/** Chinese numerals (and digits mixed with them) in runs of 3+ become ASCII digits: 一三八 → 138. */
function numeralRuns(a: Uint16Array, n: number): void {
  let i = 0;
  while (i < n) {
    const cls = CLS[a[i]!]!;
    if (cls !== C_NUMERAL && cls !== C_DIGIT) {
      i++;
      continue;
    }
    let j = i;
    let hasNumeral = false;
    while (j < n) {
      const cj = CLS[a[j]!]!;
      if (cj === C_NUMERAL) hasNumeral = true;
      else if (cj !== C_DIGIT) break;
      j++;
    }
    if (hasNumeral && j - i >= 3) {
      for (let k = i; k < j; k++) {
        const v = NUMERAL_VALUE[a[k]!]!;
        if (v >= 0 && a[k]! > 0x7f) a[k] = 0x30 + v;
      }
    }
    i = j;
  }
}

/** Phrase homoglyphs, applied to the separator-free forms. */
const PHRASES: Array<[RegExp, string]> = [
  [/(?:[v威薇徽维围]|wei) ?信|v芯|微(?:xin|x(?![a-z0-9]))|weixin/g, "微信"],
  [/[扣抠寇叩蔻]{2}|(?<![a-z0-9])q\s+q(?![a-z0-9])/g, "qq"],
];
const PHRASE_TEST = /[vw威薇徽维围扣抠寇叩蔻q微]/;

function phrases(s: string): string {
  if (!PHRASE_TEST.test(s)) return s;
  for (const [re, to] of PHRASES) s = s.replace(re, to);
  return s;
}

/** Stage 1 and the numeral runs: the form URLs and phones are read from. Leaves it in `buf`. */
function foldedForm(input: string): { folded: string; n: number } {
  const n = fold(input);
  let hasNumeral = false;
  for (let i = 0; i < n; i++) {
    if (CLS[buf[i]!] === C_NUMERAL) {
      hasNumeral = true;
      break;
    }
  }
  if (hasNumeral) numeralRuns(buf, n);
  return { folded: toStr(buf, n), n };
}

/**
 * The URLs of one SMS and their hosts, exactly as `normalize` finds them
 * (deobfuscated, lower-case, punycode, no leading "www."), without the rest
 * of the work: the one URL/host extractor for everything that reads SMS text.
 */
export function extractUrls(input: string): UrlMatch[] {
  return scanUrls(foldedForm(input).folded).urls;
}

/**
 * Normalise one SMS for matching and extract its contact points.
 * Pure and allocation-light: safe to call at line rate.
 */
export function normalize(input: string): NormalizedText {
  const { folded, n } = foldedForm(input);
  const scan = scanUrls(folded);

  // Text: drop separator runs between two Han characters (发 票, 发.票, 发*票 → 发票).
  if (cbuf.length < n + 1) cbuf = new Uint16Array(n * 2 + 16);
  let t = 0;
  let sepStart = -1;
  let lastCls = -1; // class of the last non-separator unit written
  for (let i = 0; i < n; i++) {
    const c = buf[i]!;
    const cls = CLS[c]!;
    if (c === 0x20 || cls === C_SEP) {
      if (sepStart < 0) sepStart = t;
      buf[t++] = c;
      continue;
    }
    if (sepStart >= 0) {
      if (isHan(cls) && isHan(lastCls)) t = sepStart;
      sepStart = -1;
    }
    buf[t++] = c;
    lastCls = cls;
  }
  let text = toStr(buf, t).trim();
  text = phrases(text);

  // Compact: letters, digits, Han and other symbols only.
  let k = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const cls = CLS[c]!;
    if (cls === C_CJK || cls === C_LETTER || cls === C_DIGIT || cls === C_NUMERAL || cls === C_OTHER) cbuf[k++] = c;
  }
  const compact = phrases(toStr(cbuf, k));

  const domains: string[] = [];
  const urlList: string[] = [];
  for (const u of scan.urls) {
    urlList.push(u.url);
    if (!domains.includes(u.domain)) domains.push(u.domain);
  }
  return {
    text,
    compact,
    urls: urlList,
    domains,
    phones: extractPhones(scan.rest),
    qqIds: extractQqIds(compact),
    wechatIds: extractWechatIds(text, compact),
    amounts: extractAmounts(text),
  };
}

