import tsCharacters from "opencc-js/dict/TSCharacters";

/**
 * Per-code-unit tables built once at load. The hot path is then a single
 * table lookup per UTF-16 unit instead of NFKC + toLowerCase + t2s calls.
 */

/** Character classes of the *mapped* character. */
export const C_OTHER = 0;
export const C_CJK = 1;
export const C_LETTER = 2;
export const C_DIGIT = 3;
export const C_SPACE = 4;
/** Symbols spammers put between characters (发.票, 发*票): dropped between CJK and in compact. */
export const C_SEP = 5;
/** Zero-width, format and combining characters: always dropped. */
export const C_DROP = 6;
/** Chinese numerals that become digits when they form a number run. */
export const C_NUMERAL = 7;
/** Sentence punctuation: kept in text, dropped in compact. */
const C_PUNCT = 8;

/** Mapped code unit for each BMP code unit. */
export const MAP = new Uint16Array(65536);
/** Class of the mapped code unit. */
export const CLS = new Uint8Array(65536);
/** 1 when the unit needs a whole-string NFKC / multi-char replacement first (rare path). */
export const SLOW = new Uint8Array(65536);

/** Digit variants NFKC does not cover, or covers as more than one char. */
export const MULTI: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  const ranges: Array<[number, number]> = [
    [0x2776, 1], // ❶..❿
    [0x2780, 1], // ➀..➉
    [0x278a, 1], // ➊..➓
    [0x24f5, 1], // ⓵..⓾
  ];
  for (const [start, first] of ranges) {
    for (let i = 0; i < 10; i++) m.set(String.fromCharCode(start + i), String(first + i));
  }
  m.set("\u24ff", "0"); // ⓿
  m.set("\u24ea", "0"); // ⓪
  for (let i = 0; i < 10; i++) m.set(String.fromCharCode(0x3220 + i), "一二三四五六七八九十"[i] ?? ""); // ㈠..㈩
  return m;
})();

export const NUMERAL_VALUE = new Int8Array(65536).fill(-1);

const SEP_CHARS = ".*-_|/\\~`^+=#@&'\"<>[](){}·•・‧∙⋅°※★☆◆◇■□●○◎♥♡❤→←↑↓※〓＿｜～・¨´-—–―…‥";
const PUNCT_CHARS = ",;:!?。、，；：！？“”‘’「」『』【】《》〈〉〔〕（）%$¥￥";

/** Lookalikes of Latin letters (after lower-casing). */
const LATIN_HOMOGLYPHS: Record<string, string> = {
  "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
  "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ɡ": "g", "ո": "n", "υ": "u",
  "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "χ": "x",
  "ω": "w", "ℓ": "l",
};

function build(): void {
  const t2s = new Map<number, number>();
  for (const entry of tsCharacters.split("|")) {
    const sp = entry.indexOf(" ");
    if (sp !== 1) continue; // astral trad chars: rare in SMS, left alone
    const to = entry.charCodeAt(sp + 1);
    const end = entry.indexOf(" ", sp + 1);
    const toLen = (end < 0 ? entry.length : end) - (sp + 1);
    if (toLen !== 1) continue;
    t2s.set(entry.charCodeAt(0), to);
  }
  const numerals = "零〇一二三四五六七八九";
  for (let i = 0; i < numerals.length; i++) NUMERAL_VALUE[numerals.charCodeAt(i)] = i === 0 ? 0 : i - 1;
  const financial = "零壹贰叁肆伍陆柒捌玖";
  for (let i = 1; i < financial.length; i++) NUMERAL_VALUE[financial.charCodeAt(i)] = i;
  NUMERAL_VALUE["幺".charCodeAt(0)] = 1; // "yao" for 1 when reading out numbers

  const sep = new Set<number>();
  for (const ch of SEP_CHARS) sep.add(ch.charCodeAt(0));
  const punct = new Set<number>();
  for (const ch of PUNCT_CHARS) punct.add(ch.charCodeAt(0));
  const reSpace = /\s/u;
  const reCf = /\p{Cf}/u;
  const reLetter = /\p{L}/u;
  const reDigit = /\p{Nd}/u;

  for (let c = 0; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdfff) {
      MAP[c] = c;
      CLS[c] = C_OTHER;
      SLOW[c] = 1; // astral: math alphanumerics etc. need NFKC
      continue;
    }
    let s = String.fromCharCode(c);
    if (MULTI.has(s)) SLOW[c] = 1;
    let n = s.normalize("NFKC");
    if (n.length !== 1) {
      SLOW[c] = 1;
      n = s;
    }
    n = n.toLowerCase();
    if (n.length !== 1) n = s;
    let m = n.charCodeAt(0);
    m = t2s.get(m) ?? m;
    const hg = LATIN_HOMOGLYPHS[String.fromCharCode(m)];
    if (hg !== undefined) m = hg.charCodeAt(0);
    s = String.fromCharCode(m);
    let cls: number;
    if (
      (c < 0x20 && c !== 9 && c !== 10 && c !== 13) ||
      reCf.test(String.fromCharCode(c)) ||
      (c >= 0x300 && c <= 0x36f) ||
      (c >= 0x1ab0 && c <= 0x1aff) ||
      (c >= 0x1dc0 && c <= 0x1dff) ||
      (c >= 0x20d0 && c <= 0x20ff) ||
      (c >= 0xfe00 && c <= 0xfe0f) ||
      (c >= 0xfe20 && c <= 0xfe2f) ||
      c === 0x7f
    ) {
      cls = C_DROP;
    } else if (reSpace.test(s) || c === 0x3000) {
      cls = C_SPACE;
      m = 0x20;
    } else if (NUMERAL_VALUE[m] !== -1 && m > 0x7f) {
      cls = C_NUMERAL;
    } else if ((m >= 0x4e00 && m <= 0x9fff) || (m >= 0x3400 && m <= 0x4dbf) || (m >= 0xf900 && m <= 0xfaff)) {
      cls = C_CJK;
    } else if (m >= 0x30 && m <= 0x39) {
      cls = C_DIGIT;
    } else if (reDigit.test(s)) {
      cls = C_DIGIT;
    } else if (reLetter.test(s)) {
      cls = C_LETTER;
    } else if (sep.has(m)) {
      cls = C_SEP;
    } else if (punct.has(m)) {
      cls = C_PUNCT;
    } else {
      cls = C_OTHER;
    }
    MAP[c] = m;
    CLS[c] = cls;
  }
}

build();
