/**
 * Hashed sparse features for short messages.
 *
 * Input is text already normalised by @spam/normalize (NFKC, simplified, folded).
 * Every n-gram is hashed straight from code points (no substrings are built) so a
 * message costs a few hundred integer mixes: microseconds, not milliseconds.
 */

import { isCjkCode } from "./script.js";

export interface FeatureOptions {
  /** log2 of the hashed feature space. */
  readonly bits: number;
  /** Character n-grams from 1 up to this length over the whole message. */
  readonly charNgramMax: number;
  /**
   * Character n-grams up to this length inside Latin words, 0 = off. Only in CJK messages when
   * token n-grams are on (Latin-script messages use those instead).
   */
  readonly latinCharNgramMax: number;
  /** Word unigrams and bigrams over Latin/digit tokens. */
  readonly wordNgrams: boolean;
  /** 1 + ln(tf) instead of raw term frequency. */
  readonly sublinearTf: boolean;
  /**
   * For Latin-script messages (no CJK character at all): character n-grams of this
   * length range inside space-delimited tokens, padded with a space at both ends and with
   * punctuation kept ("£1.50", "txt!", "www."), char_wb in scikit-learn terms. 0 = off.
   * CJK messages keep the features above unchanged, so Chinese scores do not move.
   */
  readonly tokenNgramMin?: number;
  readonly tokenNgramMax?: number;
  /**
   * Keep digits in token n-grams instead of masking them as x. Digits are masked elsewhere because the
   * Chinese set has them masked; the English set has them, and "0906…", "87066", "150p" separate spam.
   */
  readonly tokenDigits?: boolean;
  /**
   * For Latin-script messages, multiply every term weight by an IDF table (held by the model,
   * computed from the Latin-script training messages) before L2 normalisation. Not for CJK
   * messages: IDF there cost Chinese F1 and ham FPR in CV.
   */
  readonly idf?: boolean;
  /**
   * Latin-script messages get three feature blocks instead of all the features above (issue #8): word
   * 1–2-grams and character 1–5-grams over the whole normalised text (digits kept, across word boundaries),
   * and case-sensitive character 2–5-grams over the raw text ("FREE", "Txt", "£"). Each block is IDF-weighted
   * (when idf is on) and L2-normalised on its own, so the many character n-grams do not drown the words.
   * Needs token n-grams or this flag to count a message as Latin-script; CJK messages are unchanged.
   */
  readonly latinViews?: boolean;
  /**
   * CJK messages: a run of masked digits (`x`, from a digit or from the Chinese set's own masking) longer
   * than this is cut to this length, so an order, card or tracking number weighs like a short number and
   * the masked training text and real digits meet in one form. 0 or absent = off.
   */
  readonly digitRunMax?: number;
}

export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = {
  // 2^18 buckets score as well as 2^20 in CV (zh identical, en MCC +0.001) and keep the
  // weight vector (1 MiB) cache-friendly.
  bits: 18,
  charNgramMax: 3,
  latinCharNgramMax: 5,
  wordNgrams: true,
  sublinearTf: true,
  // 5-fold CV on the English set (MODEL_CARD.md): token 2–5-grams with digits kept and IDF lift
  // MCC 0.957 → 0.966; Chinese messages keep the features above, so their figures do not move.
  tokenNgramMin: 2,
  tokenNgramMax: 5,
  tokenDigits: true,
  idf: true,
  // English 5-fold MCC +0.003 (seeds 42/7/123) and +0.005 (seeds 1–6). Shipped with the pipeline's
  // separateLatin + cjkTransfer, so the CJK weights stay those trained without it (MODEL_CARD.md "Issue #8").
  latinViews: true,
};

/** A sparse vector: sorted unique indices and their (L2-normalised) values. */
export interface SparseVector {
  readonly indices: Int32Array;
  readonly values: Float32Array;
  readonly length: number;
  /** A Latin-script message (token n-grams, IDF; calibrated on its own): set by the extractor. */
  readonly latin?: boolean;
}

const SPACE = 0x20;
/** Marks the entries of a Latin-script message in count vectors (bits ≤ 24): IDF applies to those. */
export const LATIN_TAG = 1 << 30;
/** Feature block (1–3) of a latinViews entry in count vectors: each block is normalised on its own. */
const BLOCK_SHIFT = 26;
const BLOCK_BITS = 3 << BLOCK_SHIFT;
/** The bucket of a tagged count-vector entry (bits ≤ 24). */
const INDEX_MASK = (1 << 24) - 1;
const DIGIT_MASK = 0x78; // 'x': the Chinese training set masks digits as x, so live digits map there too

function mix(h: number, v: number): number {
  h = Math.imul(h ^ v, 0x9e3779b1);
  return (h ^ (h >>> 15)) | 0;
}

function finish(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function isLatinOrDigit(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x27;
}

/** Word characters of the latinViews word block: also £, $ and & ("£1000", "t&c"). */
function isViewWordChar(c: number): boolean {
  return isLatinOrDigit(c) || c === 0xa3 || c === 0x24 || c === 0x26;
}

/**
 * Reusable extractor: keeps scratch buffers so scoring allocates only the output.
 * Not re-entrant; create one per worker.
 */
export class FeatureExtractor {
  readonly options: FeatureOptions;
  private readonly mask: number;
  private codes = new Int32Array(1024);
  /** Same as codes but with digits kept. */
  private rawCodes = new Int32Array(1024);
  private hashes = new Int32Array(4096);
  private nHashes = 0;
  /** LATIN_TAG while extracting a Latin-script message, else 0. */
  private tag = 0;

  /** Per-bucket IDF weights (length 2^bits) when options.idf is on; null = plain TF. */
  private readonly idf: Float32Array | null;

  constructor(options: FeatureOptions = DEFAULT_FEATURE_OPTIONS, idf: Float32Array | null = null) {
    this.options = options;
    this.mask = (1 << options.bits) - 1;
    if (idf && idf.length !== 1 << options.bits) throw new RangeError(`IDF table has ${idf.length} entries, expected ${1 << options.bits}`);
    this.idf = options.idf ? idf : null;
  }

  private push(h: number): void {
    if (this.nHashes === this.hashes.length) {
      const next = new Int32Array(this.hashes.length * 2);
      next.set(this.hashes);
      this.hashes = next;
    }
    this.hashes[this.nHashes++] = (finish(h) & this.mask) | this.tag;
  }

  /** Map the text to code points: ASCII folded, digits masked, whitespace runs collapsed. */
  private toCodes(text: string): number {
    if (this.codes.length < text.length + 2) {
      this.codes = new Int32Array(text.length * 2 + 2);
      this.rawCodes = new Int32Array(text.length * 2 + 2);
    }
    const codes = this.codes;
    const raw = this.rawCodes;
    let n = 0;
    let cjk = 0;
    let prevSpace = true;
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        c = ((c - 0xd800) << 10) + (text.charCodeAt(i + 1) - 0xdc00) + 0x10000;
        i++;
      }
      let r = c;
      if (c >= 0x41 && c <= 0x5a) r = c += 0x20;
      else if (c >= 0x30 && c <= 0x39) c = DIGIT_MASK;
      else if (c <= 0x20 || c === 0x3000 || c === 0xa0) r = c = SPACE;
      if (c === SPACE) {
        if (prevSpace) continue;
        prevSpace = true;
      } else prevSpace = false;
      if (isCjkCode(c)) cjk++;
      raw[n] = r;
      codes[n++] = c;
    }
    if (n > 0 && codes[n - 1] === SPACE) n--;
    this.cjkCount = cjk;
    return n;
  }

  private outIdx = new Int32Array(1024);
  private outVal = new Float32Array(1024);
  private cjkCount = 0;

  /** Extract the hashed, TF-weighted, L2-normalised feature vector of one message (owned by the caller). */
  extract(text: string, raw?: string): SparseVector {
    const v = this.extractShared(text, raw);
    return { indices: v.indices.slice(0, v.length), values: v.values.slice(0, v.length), length: v.length, latin: v.latin === true };
  }

  /**
   * Same as extract, into scratch buffers reused by the next call: no typed-array
   * allocation on the scoring path. Use the result before extracting again.
   */
  extractShared(text: string, raw?: string): SparseVector {
    this.extractHashes(text, raw);
    return this.collect();
  }

  /** Cut runs of masked digits longer than `max` (codes and rawCodes alike); returns the new length. */
  private capDigitRuns(n: number, max: number): number {
    const codes = this.codes;
    const raw = this.rawCodes;
    let out = 0;
    let run = 0;
    for (let i = 0; i < n; i++) {
      run = codes[i] === DIGIT_MASK ? run + 1 : 0;
      if (run > max) continue;
      codes[out] = codes[i]!;
      raw[out++] = raw[i]!;
    }
    return out;
  }

  private extractHashes(text: string, raw: string | undefined): void {
    const o = this.options;
    const n0 = this.toCodes(text);
    const codes = this.codes;
    this.nHashes = 0;
    const tMin = Math.max(1, o.tokenNgramMin ?? 0);
    const tMax = o.tokenNgramMax ?? 0;
    // Latin-script message (English): token n-grams and IDF instead of n-grams inside words.
    const latin = (tMax >= tMin || o.latinViews === true) && this.cjkCount === 0 && n0 > 0;
    this.tag = latin ? LATIN_TAG : 0;
    if (latin && o.latinViews) {
      this.latinViews(n0, raw ?? text);
      return;
    }
    const latinMax = latin ? 0 : o.latinCharNgramMax;
    const n = o.digitRunMax && !latin ? this.capDigitRuns(n0, o.digitRunMax) : n0;

    // Character n-grams over the whole message (Chinese has no word boundaries).
    for (let i = 0; i < n; i++) {
      let h = 0x1234567;
      const c0 = codes[i]!;
      for (let k = 0; k < o.charNgramMax && i + k < n; k++) {
        const c = codes[i + k]!;
        if (k > 0 && c === SPACE && c0 === SPACE) break;
        h = mix(h, c);
        if (k === 0 && c === SPACE) continue; // a lone space is no feature
        this.push(mix(h, k + 1));
      }
    }

    // Latin/digit words: unigrams, bigrams and longer character n-grams inside words.
    if (o.wordNgrams || latinMax > o.charNgramMax) {
      let prevWord = 0;
      let havePrev = false;
      let i = 0;
      while (i < n) {
        const c = codes[i]!;
        const isW = isLatinOrDigit(c);
        if (!isW) {
          // Chinese characters break word bigrams only when they are not spaces.
          if (c !== SPACE) havePrev = false;
          i++;
          continue;
        }
        let j = i;
        let h = 0x51ed27;
        while (j < n && isLatinOrDigit(codes[j]!)) {
          h = mix(h, codes[j]!);
          j++;
        }
        if (o.wordNgrams) {
          this.push(mix(h, 101));
          if (havePrev) this.push(mix(mix(prevWord, h), 102));
        }
        if (latinMax > o.charNgramMax) {
          // Pad with boundaries so prefixes and suffixes are their own features.
          for (let s = i - 1; s < j; s++) {
            let g = 0x2468ace;
            for (let k = 0; k < latinMax; k++) {
              const p = s + k;
              if (p > j) break;
              const cc = p < i || p >= j ? SPACE : codes[p]!;
              g = mix(g, cc);
              if (k + 1 > o.charNgramMax) this.push(mix(g, 200 + k));
            }
          }
        }
        prevWord = h;
        havePrev = true;
        i = j;
      }
    }

    // Space-delimited tokens, padded, with punctuation: "£1.50", "x/x", "www.", "!!".
    if (latin) {
      let i = 0;
      while (i < n) {
        const c = codes[i]!;
        if (c === SPACE || isCjkCode(c)) {
          i++;
          continue;
        }
        let j = i;
        while (j < n && codes[j] !== SPACE && !isCjkCode(codes[j]!)) j++;
        const src = o.tokenDigits ? this.rawCodes : codes;
        // Positions i-1 and j are the padding spaces.
        for (let s = i - 1; s <= j; s++) {
          let g = 0x3c6ef35;
          for (let k = 0; k < tMax; k++) {
            const p = s + k;
            if (p > j) break;
            g = mix(g, p < i || p >= j ? SPACE : src[p]!);
            if (k + 1 >= tMin) this.push(mix(g, 400 + k));
          }
        }
        i = j;
      }
    }

    // Message length bucket: very short or very long texts behave differently.
    this.push(mix(0x777, 300 + Math.min(12, Math.floor(n / 16))));
  }

  /**
   * The three latinViews blocks of a Latin-script message of n normalised code points; `raw` is the text
   * before normalisation (case kept). Every entry carries LATIN_TAG and its block number.
   */
  private latinViews(n: number, raw: string): void {
    const codes = this.rawCodes; // lower-case, digits kept, whitespace collapsed
    // Block 1: word unigrams and bigrams, and the length bucket.
    this.tag = LATIN_TAG | (1 << BLOCK_SHIFT);
    let prev = 0;
    let havePrev = false;
    let i = 0;
    while (i < n) {
      if (!isViewWordChar(codes[i]!)) {
        i++;
        continue;
      }
      let j = i;
      let h = 0x51ed27;
      while (j < n && isViewWordChar(codes[j]!)) h = mix(h, codes[j++]!);
      this.push(mix(h, 101));
      if (havePrev) this.push(mix(mix(prev, h), 102));
      prev = h;
      havePrev = true;
      i = j;
    }
    this.push(mix(0x777, 300 + Math.min(12, Math.floor(n / 16))));
    // Block 2: character 1–5-grams over the whole text, padded with a space at both ends.
    this.tag = LATIN_TAG | (2 << BLOCK_SHIFT);
    for (let s = -1; s <= n; s++) {
      let g = 0x6c62272;
      for (let k = 0; k < 5 && s + k <= n; k++) {
        const p = s + k;
        g = mix(g, p < 0 || p >= n ? SPACE : codes[p]!);
        this.push(mix(g, 500 + k));
      }
    }
    // Block 3: case-sensitive character 2–5-grams over the raw text (whitespace runs as one space).
    this.tag = LATIN_TAG | (3 << BLOCK_SHIFT);
    const m = this.toCaseCodes(raw);
    const cc = this.caseCodes;
    for (let s = 0; s < m; s++) {
      let g = 0x1b873593;
      for (let k = 0; k < 5 && s + k < m; k++) {
        g = mix(g, cc[s + k]!);
        if (k >= 1) this.push(mix(g, 600 + k));
      }
    }
    this.tag = LATIN_TAG;
  }

  private caseCodes = new Int32Array(1024);

  /** Code points of `raw` with whitespace runs as one space and a space at both ends. */
  private toCaseCodes(raw: string): number {
    if (this.caseCodes.length < raw.length + 2) this.caseCodes = new Int32Array(raw.length * 2 + 2);
    const out = this.caseCodes;
    let m = 0;
    out[m++] = SPACE;
    for (let i = 0; i < raw.length; i++) {
      let c = raw.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < raw.length) {
        c = ((c - 0xd800) << 10) + (raw.charCodeAt(i + 1) - 0xdc00) + 0x10000;
        i++;
      }
      if (c <= 0x20 || c === 0x3000 || c === 0xa0) {
        if (out[m - 1] === SPACE) continue;
        c = SPACE;
      }
      out[m++] = c;
    }
    if (out[m - 1] !== SPACE) out[m++] = SPACE;
    return m;
  }

  /**
   * Unique hashed features of one message with raw counts (no TF transform, no IDF, not
   * normalised; token n-grams carry LATIN_TAG): training computes IDF from these.
   */
  extractCounts(text: string, raw?: string): SparseVector {
    this.extractHashes(text, raw);
    const u = this.unique();
    return { indices: this.outIdx.slice(0, u), values: this.outVal.slice(0, u), length: u };
  }

  private unique(): number {
    const m = this.nHashes;
    const hs = this.hashes.subarray(0, m);
    hs.sort();
    if (this.outIdx.length < m) {
      this.outIdx = new Int32Array(m * 2);
      this.outVal = new Float32Array(m * 2);
    }
    const indices = this.outIdx;
    const values = this.outVal;
    let u = -1;
    for (let i = 0; i < m; i++) {
      if (i === 0 || hs[i] !== hs[i - 1]) {
        u++;
        indices[u] = hs[i]!;
        values[u] = 1;
      } else values[u]! += 1;
    }
    return u + 1;
  }

  private collect(): SparseVector {
    const unique = this.unique();
    const values = this.outVal;
    weighTerms(this.outIdx, values, unique, this.options.sublinearTf, this.idf);
    return { indices: this.outIdx, values, length: unique, latin: this.tag !== 0 };
  }
}

/**
 * TF transform (1 + ln tf when sublinear), IDF weighting of tagged (token n-gram) entries when a
 * table is given, then L2 normalisation (per feature block for latinViews entries), in place; tags
 * are stripped from `indices`. Shared by scoring and training so both weigh terms identically. A
 * bucket hit by two kinds of feature appears twice (once per kind): the dot product adds both.
 */
export function weighTerms(
  indices: Int32Array,
  values: Float32Array,
  length: number,
  sublinearTf: boolean,
  idf: Float32Array | null,
): void {
  // Sum of squares per block (0: not a latinViews entry); entries are sorted, so blocks are runs.
  let n0 = 0;
  let n1 = 0;
  let n2 = 0;
  let n3 = 0;
  let blocks = 0;
  for (let i = 0; i < length; i++) {
    const tf = values[i]!;
    let v = sublinearTf ? 1 + Math.log(tf) : tf;
    const j = indices[i]!;
    if (j & LATIN_TAG && idf) v *= idf[j & INDEX_MASK]!;
    values[i] = v;
    const b = (j & BLOCK_BITS) >>> BLOCK_SHIFT;
    blocks |= b;
    if (b === 0) n0 += v * v;
    else if (b === 1) n1 += v * v;
    else if (b === 2) n2 += v * v;
    else n3 += v * v;
  }
  const i0 = n0 > 0 ? 1 / Math.sqrt(n0) : 1;
  if (blocks === 0) {
    for (let i = 0; i < length; i++) {
      values[i]! *= i0;
      indices[i] = indices[i]! & INDEX_MASK;
    }
    return;
  }
  const i1 = n1 > 0 ? 1 / Math.sqrt(n1) : 1;
  const i2 = n2 > 0 ? 1 / Math.sqrt(n2) : 1;
  const i3 = n3 > 0 ? 1 / Math.sqrt(n3) : 1;
  for (let i = 0; i < length; i++) {
    const j = indices[i]!;
    const b = (j & BLOCK_BITS) >>> BLOCK_SHIFT;
    values[i]! *= b === 0 ? i0 : b === 1 ? i1 : b === 2 ? i2 : i3;
    indices[i] = j & INDEX_MASK;
  }
}

/**
 * Smoothed IDF per bucket, ln((1 + n) / (1 + df)) + 1 (scikit-learn's form), from the
 * document frequencies of the token n-grams (tagged entries) of `rows` (count vectors from
 * extractCounts). Buckets never seen get the largest weight, as a term in one document of n + 1 would.
 */
export function idfTable(d: { indptr: Int32Array; indices: Int32Array }, rows: ArrayLike<number>, bits: number): Float32Array {
  const df = new Float64Array(1 << bits);
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k]!;
    for (let p = d.indptr[i]!, e = d.indptr[i + 1]!; p < e; p++) {
      const j = d.indices[p]!;
      if (j & LATIN_TAG) df[j & INDEX_MASK]! += 1;
    }
  }
  let n = 0;
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k]!;
    if (d.indptr[i + 1]! > d.indptr[i]! && d.indices[d.indptr[i]!]! & LATIN_TAG) n++;
  }
  const out = new Float32Array(1 << bits);
  for (let j = 0; j < out.length; j++) out[j] = Math.log((1 + n) / (1 + df[j]!)) + 1;
  return out;
}
