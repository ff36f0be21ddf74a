import { createHash } from "node:crypto";
import type { WirePdu } from "./downstream.js";
import type { RelayVerdict } from "./verdicts.js";

/** The PDU fields that make a resend the same message: addresses, coding, class and UDH, the octets. */
const SAME_MESSAGE = [
  "source_addr",
  "destination_addr",
  "data_coding",
  "esm_class",
  "short_message",
  "message_payload",
  "sar_msg_ref_num",
  "sar_total_segments",
  "sar_segment_seqnum",
] as const;

/**
 * What a deferred message is recognised by when the upstream resends it: a digest of the account
 * and, part by part, the fields above. Any octet that differs makes another message.
 */
export function resendDigest(account: string, wire: readonly WirePdu[]): string {
  const h = createHash("sha256");
  const field = (b: Buffer) => {
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(b.length);
    h.update(len);
    h.update(b);
  };
  field(Buffer.from(account, "utf8"));
  for (const pdu of wire) {
    for (const k of SAME_MESSAGE) {
      const v = pdu[k];
      field(Buffer.isBuffer(v) ? v : v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(v === undefined || v === null ? "" : String(v), "utf8"));
    }
  }
  return h.digest("base64");
}

export interface DeferredEntry {
  readonly id: string;
  /** The verdict of the first attempt; null until it comes (a message that failed open). */
  verdict: RelayVerdict | null;
  readonly until: number;
}

/**
 * Messages the downstream deferred (the upstream was told to resend), by digest: a resend reuses
 * the first attempt's id and verdict instead of being published and scored again. Bounded by
 * count and age; what falls out is counted twice if it is resent later, never lost.
 */
export class DeferredMessages {
  private readonly byDigest = new Map<string, DeferredEntry>();

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
    private readonly onDrop: (e: DeferredEntry) => void,
  ) {}

  get size(): number {
    return this.byDigest.size;
  }

  add(digest: string, id: string, verdict: RelayVerdict | null, now: number): DeferredEntry {
    const old = this.byDigest.get(digest);
    if (old) this.byDigest.delete(digest);
    const entry: DeferredEntry = { id, verdict, until: now + this.ttlMs };
    this.byDigest.set(digest, entry);
    this.sweep(now);
    return entry;
  }

  /** The entry a resend matches, taken out (a later deferral adds it again). */
  take(digest: string, now: number): DeferredEntry | null {
    this.sweep(now);
    const e = this.byDigest.get(digest);
    if (!e) return null;
    this.byDigest.delete(digest);
    return e;
  }

  private sweep(now: number): void {
    // Map order is age order: the oldest first.
    for (const [k, e] of this.byDigest) {
      if (this.byDigest.size <= this.max && e.until > now) break;
      this.byDigest.delete(k);
      this.onDrop(e);
    }
  }
}
