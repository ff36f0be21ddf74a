import { z } from "zod";
import { DistinctCounter } from "./hll.js";

/**
 * Near-duplicate campaign clustering for short texts: MinHash over character
 * shingles of a masked text, with LSH bands. Two messages share a campaign when
 * any band of their signatures is equal (≈ Jaccard ≥ 0.6 with the defaults).
 * Digits, URLs, phone numbers and alphanumeric ids are masked first, so rotated
 * numbers and varied digits land in the same campaign.
 */

export interface CampaignOptions {
  /** Character shingle length. */
  readonly shingle: number;
  readonly bands: number;
  readonly rowsPerBand: number;
  /** LRU bound on live campaigns. */
  readonly maxCampaigns: number;
  /** Texts with fewer masked characters than this get no campaign (too short to tell). */
  readonly minLength: number;
}

const DEFAULT_CAMPAIGN_OPTIONS: CampaignOptions = {
  shingle: 3,
  bands: 10,
  rowsPerBand: 3,
  maxCampaigns: 100_000,
  minLength: 8,
};

export interface CampaignCounts {
  readonly campaignId: string;
  readonly messages: number;
  readonly senders: number;
  readonly recipients: number;
  readonly reports: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

interface Campaign {
  readonly id: string;
  readonly bandKeys: number[];
  messages: number;
  reports: number;
  readonly senders: DistinctCounter;
  readonly recipients: DistinctCounter;
  firstSeen: number;
  lastSeen: number;
  /** Logical clock of the last touch, for eviction. */
  touched: number;
}

// Matches start only where a token starts (the lookbehinds): free to start anywhere, both
// patterns re-scanned the rest of a long token from every position (quadratic; a 20 KB text
// cost the scorer about a second). A match never starts inside a token anyway.
const URL_RE = /(?:https?:\/\/|www\.)\S+|(?<![a-z0-9.-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|cn|net|org|top|xyz|vip|cc|me|info|io|co|uk|tv|shop|site|club|link|ly)\b(?:\/\S*)?/gi;
const MIXED_ID_RE = /(?<![a-z0-9])[a-z]*\d[a-z0-9]*/gi;
const NOISE_RE = /[\s\p{P}\p{S}]+/gu;

/** Mask what spammers vary (URLs, numbers, ids) and drop separators. */
export function maskForCampaign(text: string): string {
  return text.toLowerCase().replace(URL_RE, "U").replace(MIXED_ID_RE, "0").replace(NOISE_RE, "");
}

const SEEDS = Array.from({ length: 64 }, (_, i) => (Math.imul(i + 1, 0x9e3779b1) ^ 0x5bd1e995) >>> 0);

function mixSeed(h: number, seed: number): number {
  let x = (h ^ seed) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

let codeBuf = new Int32Array(512);
let sigBuf = new Uint32Array(64);
let filledBuf = new Uint8Array(64);

/** minhash into a module scratch buffer (valid until the next call): no allocation per message. */
function minhashShared(masked: string, o: CampaignOptions): Uint32Array | null {
  // One-permutation hashing with densification (Shrivastava 2017): one hash per shingle
  // instead of one per shingle and signature slot, so a 60-character SMS costs ~60 mixes.
  if (codeBuf.length < masked.length) codeBuf = new Int32Array(masked.length * 2);
  const codes = codeBuf;
  let len = 0;
  for (let i = 0; i < masked.length; i++) {
    let c = masked.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < masked.length) c = ((c - 0xd800) << 10) + (masked.charCodeAt(++i) - 0xdc00) + 0x10000;
    codes[len++] = c;
  }
  if (len < o.minLength) return null;
  const k = o.bands * o.rowsPerBand;
  if (sigBuf.length < k) {
    sigBuf = new Uint32Array(k);
    filledBuf = new Uint8Array(k);
  }
  const sig = sigBuf.subarray(0, k).fill(0xffffffff);
  const filled = filledBuf.subarray(0, k).fill(0);
  const n = Math.max(1, len - o.shingle + 1);
  for (let i = 0; i < n; i++) {
    let h = 0x3c6ef372;
    for (let s = 0; s < o.shingle && i + s < len; s++) h = mixSeed(codes[i + s]!, h);
    const bin = h % k;
    const v = mixSeed(h, 0x27d4eb2f);
    if (v < sig[bin]!) sig[bin] = v;
    filled[bin] = 1;
  }
  // Empty bins borrow the next filled bin's value, salted by the distance.
  for (let j = 0; j < k; j++) {
    if (filled[j]) continue;
    for (let d = 1; d < k; d++) {
      const src = (j + d) % k;
      if (filled[src]) {
        sig[j] = mixSeed(sig[src]!, SEEDS[d % SEEDS.length]!);
        break;
      }
    }
  }
  return sig;
}

/**
 * One 30-bit hash per band (position = band). 30 bits keep Map keys small integers,
 * which V8 hashes far faster than heap doubles; a rare collision merges two campaigns.
 */
function bandKeys(sig: Uint32Array, o: CampaignOptions): number[] {
  const keys: number[] = [];
  for (let b = 0; b < o.bands; b++) {
    let h = 0x12345 + b;
    for (let r = 0; r < o.rowsPerBand; r++) h = mixSeed(sig[b * o.rowsPerBand + r]!, h);
    keys.push(h & 0x3fffffff);
  }
  return keys;
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

export interface ObserveInput {
  readonly text: string;
  readonly sender: string;
  readonly recipient: string;
  readonly at: number;
}

const CounterJson = z.union([z.object({ exact: z.array(z.number().int()) }), z.object({ hll: z.string() })]);
const CampaignSnapshotV1 = z.object({
  v: z.literal(1),
  options: z.object({
    shingle: z.number().int().positive(),
    bands: z.number().int().positive(),
    rowsPerBand: z.number().int().positive(),
    maxCampaigns: z.number().int().positive(),
    minLength: z.number().int().nonnegative(),
  }),
  campaigns: z.array(
    z.object({
      id: z.string(),
      bandKeys: z.array(z.number().int().nonnegative()),
      messages: z.number().int().nonnegative(),
      reports: z.number().int().nonnegative(),
      senders: CounterJson,
      recipients: CounterJson,
      firstSeen: z.number(),
      lastSeen: z.number(),
    }),
  ),
});
export type CampaignSnapshot = z.infer<typeof CampaignSnapshotV1>;

export class CampaignTracker {
  readonly options: CampaignOptions;
  private readonly campaigns = new Map<string, Campaign>();
  private clock = 0;
  /** One map per LSH band: band hash → campaign id. */
  private readonly bandIndex: Map<number, string>[];

  constructor(options: Partial<CampaignOptions> = {}) {
    this.options = { ...DEFAULT_CAMPAIGN_OPTIONS, ...options };
    this.bandIndex = Array.from({ length: this.options.bands }, () => new Map<number, string>());
  }

  get size(): number {
    return this.campaigns.size;
  }

  /** The campaign a text belongs to without counting it (null when too short or unseen). */
  lookup(text: string): string | null {
    const sig = minhashShared(maskForCampaign(text), this.options);
    if (!sig) return null;
    const keys = bandKeys(sig, this.options);
    for (let b = 0; b < keys.length; b++) {
      const id = this.bandIndex[b]!.get(keys[b]!);
      if (id) return id;
    }
    return null;
  }

  /** Assign a campaign id (creating one if needed) and count the message. */
  observe(m: ObserveInput): CampaignCounts | null {
    const sig = minhashShared(maskForCampaign(m.text), this.options);
    if (!sig) return null;
    const keys = bandKeys(sig, this.options);
    let c: Campaign | undefined;
    for (let b = 0; b < keys.length; b++) {
      const id = this.bandIndex[b]!.get(keys[b]!);
      if (id) {
        c = this.campaigns.get(id);
        if (c) break;
      }
    }
    if (!c) {
      // Deterministic id from the first signature: the same template gets the same id on every worker.
      const id = `c${hex8(keys[0]!)}${hex8(keys[1] ?? 0)}`;
      c = this.campaigns.get(id) ?? {
        id,
        bandKeys: keys,
        messages: 0,
        reports: 0,
        senders: new DistinctCounter(),
        recipients: new DistinctCounter(),
        firstSeen: m.at,
        lastSeen: m.at,
        touched: 0,
      };
      this.campaigns.set(id, c);
      this.index(keys, id);
    }
    c.touched = ++this.clock;
    c.messages++;
    c.senders.add(m.sender);
    c.recipients.add(m.recipient);
    if (m.at < c.firstSeen) c.firstSeen = m.at;
    if (m.at > c.lastSeen) c.lastSeen = m.at;
    this.evict();
    return countsOf(c);
  }

  /** Count a user report against the campaign of the reported text. */
  report(text: string): CampaignCounts | null {
    const id = this.lookup(text);
    const c = id ? this.campaigns.get(id) : undefined;
    if (!c) return null;
    c.touched = ++this.clock;
    c.reports++;
    return countsOf(c);
  }

  get(campaignId: string): CampaignCounts | null {
    const c = this.campaigns.get(campaignId);
    return c ? countsOf(c) : null;
  }

  private index(keys: readonly number[], id: string): void {
    keys.forEach((key, b) => {
      const m = this.bandIndex[b];
      if (m && !m.has(key)) m.set(key, id);
    });
  }

  /**
   * Least-recently-touched eviction in batches of ~10 %: one sort per batch keeps the
   * amortised cost per message at O(log n) without reordering a map on every touch.
   */
  private evict(): void {
    const max = this.options.maxCampaigns;
    if (this.campaigns.size <= max) return;
    const keep = Math.max(1, Math.floor(max * 0.9));
    const byAge = [...this.campaigns.values()].sort((a, b) => a.touched - b.touched);
    for (const c of byAge.slice(0, byAge.length - keep)) {
      c.bandKeys.forEach((key, b) => {
        if (this.bandIndex[b]!.get(key) === c.id) this.bandIndex[b]!.delete(key);
      });
      this.campaigns.delete(c.id);
    }
  }

  snapshot(): CampaignSnapshot {
    return {
      v: 1,
      options: { ...this.options },
      campaigns: [...this.campaigns.values()]
        .sort((a, b) => a.touched - b.touched)
        .map((c) => ({
        id: c.id,
        bandKeys: c.bandKeys,
        messages: c.messages,
        reports: c.reports,
        senders: c.senders.toJSON(),
        recipients: c.recipients.toJSON(),
        firstSeen: c.firstSeen,
        lastSeen: c.lastSeen,
      })),
    };
  }

  /** Rebuild from a snapshot (validated); recency order is preserved. */
  static restore(snapshot: unknown): CampaignTracker {
    const s = CampaignSnapshotV1.parse(snapshot);
    const t = new CampaignTracker(s.options);
    for (const c of s.campaigns) {
      t.campaigns.set(c.id, {
        id: c.id,
        bandKeys: c.bandKeys,
        messages: c.messages,
        reports: c.reports,
        senders: DistinctCounter.fromJSON(c.senders),
        recipients: DistinctCounter.fromJSON(c.recipients),
        firstSeen: c.firstSeen,
        lastSeen: c.lastSeen,
        touched: ++t.clock,
      });
      t.index(c.bandKeys, c.id);
    }
    return t;
  }
}

function countsOf(c: Campaign): CampaignCounts {
  return {
    campaignId: c.id,
    messages: c.messages,
    senders: c.senders.count(),
    recipients: c.recipients.count(),
    reports: c.reports,
    firstSeen: c.firstSeen,
    lastSeen: c.lastSeen,
  };
}
