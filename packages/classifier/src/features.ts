/**
 * Hashed sparse features for short messages.
 *
 * Input is text already normalised by @spam/normalize (NFKC, simplified, folded).
 * Every n-gram is hashed straight from code points (no substrings are built) so a
 * message costs a few hundred integer mixes: microseconds, not milliseconds.
 */

export interface FeatureOptions {
  /** log2 of the hashed feature space. */
  readonly bits: number;
  /** Character n-grams from 1 up to this length over the whole message. */
  readonly charNgramMax: number;
  /** Character n-grams up to this length inside Latin words (English), 0 = off. */
  readonly latinCharNgramMax: number;
  /** Word unigrams and bigrams over Latin/digit tokens. */
  readonly wordNgrams: boolean;
  /** 1 + ln(tf) instead of raw term frequency. */
  readonly sublinearTf: boolean;
}

export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = {
  // 2^18 buckets score as well as 2^20 in CV (zh identical, en MCC +0.001) and keep the
  // weight vector (1 MiB) cache-friendly.
  bits: 18,
  charNgramMax: 3,
  latinCharNgramMax: 5,
  wordNgrams: true,
  sublinearTf: true,
};

/** A sparse vector: sorted unique indices and their (L2-normalised) values. */
export interface SparseVector {
  readonly indices: Int32Array;
  readonly values: Float32Array;
  readonly length: number;
}

const SPACE = 0x20;
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

/**
 * Reusable extractor: keeps scratch buffers so scoring allocates only the output.
 * Not re-entrant; create one per worker.
 */
export class FeatureExtractor {
  readonly options: FeatureOptions;
  private readonly mask: number;
  private codes = new Int32Array(1024);
  private hashes = new Int32Array(4096);
  private nHashes = 0;

  constructor(options: FeatureOptions = DEFAULT_FEATURE_OPTIONS) {
    this.options = options;
    this.mask = (1 << options.bits) - 1;
  }

  private push(h: number): void {
    if (this.nHashes === this.hashes.length) {
      const next = new Int32Array(this.hashes.length * 2);
      next.set(this.hashes);
      this.hashes = next;
    }
    this.hashes[this.nHashes++] = finish(h) & this.mask;
  }

  /** Map the text to code points: ASCII folded, digits masked, whitespace runs collapsed. */
  private toCodes(text: string): number {
    if (this.codes.length < text.length + 2) this.codes = new Int32Array(text.length * 2 + 2);
    const codes = this.codes;
    let n = 0;
    let prevSpace = true;
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
        c = ((c - 0xd800) << 10) + (text.charCodeAt(i + 1) - 0xdc00) + 0x10000;
        i++;
      }
      if (c >= 0x41 && c <= 0x5a) c += 0x20;
      else if (c >= 0x30 && c <= 0x39) c = DIGIT_MASK;
      else if (c <= 0x20 || c === 0x3000 || c === 0xa0) c = SPACE;
      if (c === SPACE) {
        if (prevSpace) continue;
        prevSpace = true;
      } else prevSpace = false;
      codes[n++] = c;
    }
    if (n > 0 && codes[n - 1] === SPACE) n--;
    return n;
  }

  private outIdx = new Int32Array(1024);
  private outVal = new Float32Array(1024);

  /** Extract the hashed, TF-weighted, L2-normalised feature vector of one message (owned by the caller). */
  extract(text: string): SparseVector {
    const v = this.extractShared(text);
    return { indices: v.indices.slice(0, v.length), values: v.values.slice(0, v.length), length: v.length };
  }

  /**
   * Same as extract, into scratch buffers reused by the next call: no typed-array
   * allocation on the scoring path. Use the result before extracting again.
   */
  extractShared(text: string): SparseVector {
    const o = this.options;
    const n = this.toCodes(text);
    const codes = this.codes;
    this.nHashes = 0;

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
    if (o.wordNgrams || o.latinCharNgramMax > o.charNgramMax) {
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
        if (o.latinCharNgramMax > o.charNgramMax) {
          // Pad with boundaries so prefixes and suffixes are their own features.
          for (let s = i - 1; s < j; s++) {
            let g = 0x2468ace;
            for (let k = 0; k < o.latinCharNgramMax; k++) {
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

    // Message length bucket: very short or very long texts behave differently.
    this.push(mix(0x777, 300 + Math.min(12, Math.floor(n / 16))));

    return this.collect();
  }

  private collect(): SparseVector {
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
    const unique = u + 1;
    let norm = 0;
    for (let i = 0; i < unique; i++) {
      const tf = values[i]!;
      const v = this.options.sublinearTf ? 1 + Math.log(tf) : tf;
      values[i] = v;
      norm += v * v;
    }
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let i = 0; i < unique; i++) values[i]! *= inv;
    }
    return { indices, values, length: unique };
  }
}
