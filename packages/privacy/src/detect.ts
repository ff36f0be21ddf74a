/**
 * Finds what a person could read as a phone or account number in text written by an adversary:
 * full-width, circled, superscript and other Unicode digits (NFKC and the Nd class), Chinese
 * numerals (〇零一二…, 壹贰叁…, 两, 幺), Latin O/o/l/I standing in for 0/1, digits split by
 * separators (spaces of any kind, dots, dashes, slashes, brackets, punctuation) and by
 * invisible characters (zero-width, bidi and other format characters, soft hyphen, combining marks).
 *
 * One left-to-right pass over the code points; no regular expression runs over the text as a whole.
 */

/** Texts longer than this are cut before they are scanned or shown (SMS payloads are at most 64 KiB). */
export const MAX_TEXT_CHARS = 65_536;
/** A run with at least this many digits is a number to mask; verification codes (4–6 digits) stay readable. */
const MIN_NUMBER_DIGITS = 7;
/** Visible separator characters allowed between two digits of one number ("138 - 0013"). */
const MAX_SEPARATORS = 6;

const CHINESE_DIGITS: Readonly<Record<string, string>> = {
  〇: "0", 零: "0", 洞: "0",
  一: "1", 壹: "1", 幺: "1", 弌: "1",
  二: "2", 贰: "2", 貳: "2", 两: "2", 兩: "2", 弍: "2",
  三: "3", 叁: "3", 參: "3", 弎: "3",
  四: "4", 肆: "4",
  五: "5", 伍: "5",
  六: "6", 陆: "6", 陸: "6",
  七: "7", 柒: "7",
  八: "8", 捌: "8",
  九: "9", 玖: "9",
};

/** Letters a reader takes for digits next to digits (Latin, Greek and Cyrillic O; l and I). */
const LOOKALIKE_DIGITS: Readonly<Record<string, string>> = {
  O: "0", o: "0", Ο: "0", ο: "0", О: "0", о: "0",
  l: "1", I: "1",
};

const SEPARATOR_CHARS = new Set(Array.from(".·•・‧∙⋅°_/\\|,、:;*#~+'\"`^=。｡!?"));
const SEPARATOR_CLASS = /^[\s\p{Zs}\p{Pd}\p{Ps}\p{Pe}\p{Pi}\p{Pf}\p{Cc}]$/u;
const INVISIBLE_CLASS = /^[\p{Cf}\p{M}\u115F\u1160\u3164\uFFA0]$/u;
const ND = /^\p{Nd}$/u;
/** Letters of the scripts whose words contain the look-alikes; CJK next to "O13…" does not make it a word. */
const LETTER = /^[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}]$/u;
const ASCII_DIGITS = /^[0-9]+$/;

const enum Kind {
  Other,
  Letter,
  Digit,
  Lookalike,
  Separator,
  Invisible,
}

interface Unit {
  readonly kind: Kind;
  readonly start: number;
  readonly end: number;
  /** The digits this character reads as (Digit, Lookalike). */
  readonly digits: string;
}

/** The decimal value of a Unicode Nd character NFKC leaves alone (Arabic-Indic, Devanagari, Thai…): Nd digits come in runs 0–9. */
function ndValue(cp: number): string {
  let back = 0;
  while (back < 9 && ND.test(String.fromCodePoint(cp - back - 1))) back++;
  return String(back % 10);
}

const classifyCache = new Map<string, { kind: Kind; digits: string }>();

/** ASCII is most of what is scanned: classified once, looked up by code. */
const ASCII_CLASSES: readonly { kind: Kind; digits: string }[] = Array.from({ length: 128 }, (_, c) => classifyUncached(String.fromCharCode(c)));

function classify(ch: string): { kind: Kind; digits: string } {
  const code = ch.charCodeAt(0);
  if (code < 128) return ASCII_CLASSES[code]!;
  const cached = classifyCache.get(ch);
  if (cached) return cached;
  const result = classifyUncached(ch);
  if (classifyCache.size < 20_000) classifyCache.set(ch, result);
  return result;
}

function classifyUncached(ch: string): { kind: Kind; digits: string } {
  if (ch >= "0" && ch <= "9") return { kind: Kind.Digit, digits: ch };
  const chinese = CHINESE_DIGITS[ch];
  if (chinese) return { kind: Kind.Digit, digits: chinese };
  const lookalike = LOOKALIKE_DIGITS[ch];
  if (lookalike) return { kind: Kind.Lookalike, digits: lookalike };
  if (INVISIBLE_CLASS.test(ch)) return { kind: Kind.Invisible, digits: "" };
  const n = ch.normalize("NFKC");
  // Full-width, circled (①, ⑩), parenthesised, superscript, mathematical digits; "⒈" is "1." after NFKC.
  // ㈠ and ㊀ are 一 after NFKC.
  const digitPart = Array.from(n.replace(/[.,()]/g, ""), (c) => CHINESE_DIGITS[c] ?? c).join("");
  if (digitPart.length > 0 && ASCII_DIGITS.test(digitPart)) return { kind: Kind.Digit, digits: digitPart };
  if (ND.test(ch)) return { kind: Kind.Digit, digits: ndValue(ch.codePointAt(0) ?? 0) };
  if (n.length > 0 && Array.from(n).every((c) => SEPARATOR_CHARS.has(c) || SEPARATOR_CLASS.test(c))) return { kind: Kind.Separator, digits: "" };
  const nLookalike = LOOKALIKE_DIGITS[n];
  if (nLookalike) return { kind: Kind.Lookalike, digits: nLookalike };
  if (LETTER.test(ch)) return { kind: Kind.Letter, digits: "" };
  return { kind: Kind.Other, digits: "" };
}

function units(text: string): Unit[] {
  const out: Unit[] = [];
  let i = 0;
  for (const ch of text) {
    const c = classify(ch);
    out.push({ kind: c.kind, start: i, end: i + ch.length, digits: c.digits });
    i += ch.length;
  }
  return out;
}

/**
 * Look-alike letters count as digits only outside words: a maximal run of them whose nearest visible
 * neighbours are not letters ("138oo13" yes, "Hello" and "or" no).
 */
function resolveLookalikes(us: Unit[]): Unit[] {
  const out = us.slice();
  let i = 0;
  while (i < out.length) {
    if (out[i]!.kind !== Kind.Lookalike) {
      i++;
      continue;
    }
    let j = i;
    while (j < out.length && (out[j]!.kind === Kind.Lookalike || out[j]!.kind === Kind.Invisible)) j++;
    let before = i - 1;
    while (before >= 0 && out[before]!.kind === Kind.Invisible) before--;
    const inWord = (before >= 0 && out[before]!.kind === Kind.Letter) || (j < out.length && out[j]!.kind === Kind.Letter);
    for (let k = i; k < j; k++) {
      const u = out[k]!;
      if (u.kind === Kind.Lookalike) out[k] = { ...u, kind: inWord ? Kind.Letter : Kind.Lookalike };
    }
    i = j;
  }
  return out;
}

/** A number found in text: where it is (UTF-16 offsets, end exclusive) and the digits it reads as. */
export interface NumberSpan {
  readonly start: number;
  readonly end: number;
  readonly digits: string;
}

interface RunDigit {
  readonly unit: Unit;
  /** End of the digit with the marks and format characters attached to it (keycap 1️⃣). */
  end: number;
  readonly lookalike: boolean;
  /** A visible separator stands between this digit and the one before it. */
  readonly separated: boolean;
}

function closeRun(run: RunDigit[], out: NumberSpan[]): void {
  // Look-alike letters at either end set apart by a separator are words ("I", "lol"), not digits.
  let a = 0;
  while (a < run.length && run[a]!.lookalike) {
    let g = a;
    while (g + 1 < run.length && run[g + 1]!.lookalike && !run[g + 1]!.separated) g++;
    if (g + 1 < run.length && run[g + 1]!.separated) a = g + 1;
    else break;
  }
  let b = run.length - 1;
  while (b >= a && run[b]!.lookalike) {
    let g = b;
    while (g - 1 >= a && run[g - 1]!.lookalike && !run[g]!.separated) g--;
    if (run[g]!.separated && g > a) b = g - 1;
    else break;
  }
  if (b < a) return;
  let digits = "";
  let strong = false;
  for (let k = a; k <= b; k++) {
    digits += run[k]!.unit.digits;
    strong ||= !run[k]!.lookalike;
  }
  if (!strong) return;
  if (digits.length < MIN_NUMBER_DIGITS) return;
  out.push({ start: run[a]!.unit.start, end: run[b]!.end, digits });
}

/** Every number in `text` (which should already be capped at MAX_TEXT_CHARS), in order. */
export function findNumbers(text: string): NumberSpan[] {
  const us = resolveLookalikes(units(text));
  const found: NumberSpan[] = [];
  let run: RunDigit[] = [];
  let separators = 0;
  for (const u of us) {
    switch (u.kind) {
      case Kind.Digit:
      case Kind.Lookalike:
        run.push({ unit: u, end: u.end, lookalike: u.kind === Kind.Lookalike, separated: run.length > 0 && separators > 0 });
        separators = 0;
        break;
      case Kind.Invisible:
        if (run.length > 0 && separators === 0) run[run.length - 1]!.end = u.end;
        break;
      case Kind.Separator:
        if (run.length > 0 && ++separators > MAX_SEPARATORS) {
          closeRun(run, found);
          run = [];
        }
        break;
      default:
        if (run.length > 0) closeRun(run, found);
        run = [];
        separators = 0;
    }
  }
  if (run.length > 0) closeRun(run, found);
  return found;
}

/**
 * The digits a reader could take from `text`, in order, everything else dropped (look-alike letters
 * always read as digits): the strictest view of what a masked text still gives away.
 */
export function readableDigits(text: string): string {
  let out = "";
  for (const ch of text) {
    const c = classify(ch);
    if (c.kind === Kind.Digit || c.kind === Kind.Lookalike) out += c.digits;
  }
  return out;
}
