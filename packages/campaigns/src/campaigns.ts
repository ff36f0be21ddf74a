import { z } from "zod";
import { DistinctCounter, hash32 } from "./hll.js";

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

export const DEFAULT_CAMPAIGN_OPTIONS: CampaignOptions = {
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
  readonly bandKeys: string[];
  messages: number;
  reports: number;
  readonly senders: DistinctCounter;
  readonly recipients: DistinctCounter;
  firstSeen: number;
  lastSeen: number;
}

const URL_RE = /(?:https?:\/\/|www\.)\S+|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|cn|net|org|top|xyz|vip|cc|me|info|io|co|uk|tv|shop|site|club|link|ly)\b(?:\/\S*)?/gi;
const MIXED_ID_RE = /[a-z]*\d[a-z0-9]*/gi;
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

/** MinHash signature of the masked text, or null when it is too short. */
export function minhash(masked: string, o: CampaignOptions = DEFAULT_CAMPAIGN_OPTIONS): Uint32Array | null {
  const chars = Array.from(masked);
  if (chars.length < o.minLength) return null;
  const k = o.bands * o.rowsPerBand;
  const sig = new Uint32Array(k).fill(0xffffffff);
  const n = Math.max(1, chars.length - o.shingle + 1);
  for (let i = 0; i < n; i++) {
    const h = hash32(chars.slice(i, i + o.shingle).join(""));
    for (let j = 0; j < k; j++) {
      const v = mixSeed(h, SEEDS[j]!);
      if (v < sig[j]!) sig[j] = v;
    }
  }
  return sig;
}

function bandKeys(sig: Uint32Array, o: CampaignOptions): string[] {
  const keys: string[] = [];
  for (let b = 0; b < o.bands; b++) {
    let h = 0x12345 + b;
    for (let r = 0; r < o.rowsPerBand; r++) h = mixSeed(sig[b * o.rowsPerBand + r]!, h);
    keys.push(`${b}:${h.toString(36)}`);
  }
  return keys;
}

export interface ObserveInput {
  readonly text: string;
  readonly sender: string;
  readonly recipient: string;
  readonly at: number;
}

const CounterJson = z.union([z.object({ exact: z.array(z.number().int()) }), z.object({ hll: z.string() })]);
export const CampaignSnapshotV1 = z.object({
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
      bandKeys: z.array(z.string()),
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
  /** Insertion order is recency order: touched campaigns are re-inserted (LRU). */
  private readonly campaigns = new Map<string, Campaign>();
  private readonly bandIndex = new Map<string, string>();

  constructor(options: Partial<CampaignOptions> = {}) {
    this.options = { ...DEFAULT_CAMPAIGN_OPTIONS, ...options };
  }

  get size(): number {
    return this.campaigns.size;
  }

  /** The campaign a text belongs to without counting it (null when too short or unseen). */
  lookup(text: string): string | null {
    const sig = minhash(maskForCampaign(text), this.options);
    if (!sig) return null;
    for (const key of bandKeys(sig, this.options)) {
      const id = this.bandIndex.get(key);
      if (id) return id;
    }
    return null;
  }

  /** Assign a campaign id (creating one if needed) and count the message. */
  observe(m: ObserveInput): CampaignCounts | null {
    const sig = minhash(maskForCampaign(m.text), this.options);
    if (!sig) return null;
    const keys = bandKeys(sig, this.options);
    let c: Campaign | undefined;
    for (const key of keys) {
      const id = this.bandIndex.get(key);
      if (id) {
        c = this.campaigns.get(id);
        if (c) break;
      }
    }
    if (!c) {
      // Deterministic id from the first signature: the same template gets the same id on every worker.
      const id = `c${hash32(keys.join("|")).toString(16).padStart(8, "0")}${hash32(keys[0]!).toString(16).padStart(8, "0")}`;
      c = this.campaigns.get(id) ?? {
        id,
        bandKeys: keys,
        messages: 0,
        reports: 0,
        senders: new DistinctCounter(),
        recipients: new DistinctCounter(),
        firstSeen: m.at,
        lastSeen: m.at,
      };
      for (const key of keys) if (!this.bandIndex.has(key)) this.bandIndex.set(key, id);
    }
    this.campaigns.delete(c.id);
    this.campaigns.set(c.id, c);
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
    c.reports++;
    return countsOf(c);
  }

  get(campaignId: string): CampaignCounts | null {
    const c = this.campaigns.get(campaignId);
    return c ? countsOf(c) : null;
  }

  private evict(): void {
    while (this.campaigns.size > this.options.maxCampaigns) {
      const oldest = this.campaigns.keys().next().value as string;
      const c = this.campaigns.get(oldest)!;
      for (const key of c.bandKeys) if (this.bandIndex.get(key) === oldest) this.bandIndex.delete(key);
      this.campaigns.delete(oldest);
    }
  }

  snapshot(): CampaignSnapshot {
    return {
      v: 1,
      options: { ...this.options },
      campaigns: [...this.campaigns.values()].map((c) => ({
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
      });
      for (const key of c.bandKeys) if (!t.bandIndex.has(key)) t.bandIndex.set(key, c.id);
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
