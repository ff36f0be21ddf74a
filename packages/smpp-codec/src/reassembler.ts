import { decodeUserData } from "./text.js";
import type { ConcatStyle } from "./udh.js";
import type { MessagePart } from "./parts.js";

export interface ReassemblerOptions {
  /** A set still incomplete this long after its first part is published as partial. */
  readonly timeoutMs: number;
  /** Most incomplete sets held at once; beyond it the oldest is published as partial. */
  readonly maxPendingSets: number;
  /** Most user-data octets held at once; beyond it the oldest set is published as partial. */
  readonly maxPendingBytes: number;
  /** Injectable clock (epoch ms). */
  readonly now?: () => number;
}

export type AssemblyReason = "single" | "complete" | "timeout" | "evicted" | "superseded" | "flushed";

export interface AssembledMessage<TMeta> {
  readonly source: string;
  readonly destination: string;
  /** data_coding of the first part. */
  readonly dataCoding: number;
  readonly text: string;
  readonly concatStyle: ConcatStyle | null;
  readonly reference: number | null;
  readonly totalParts: number;
  readonly receivedParts: number;
  /** Some parts never arrived: published anyway, flagged. */
  readonly partial: boolean;
  /** 1-based sequence numbers that are missing. */
  readonly missingParts: readonly number[];
  readonly reason: AssemblyReason;
  readonly firstPartAt: number;
  /** Caller metadata of every received part, in sequence order. */
  readonly metas: readonly TMeta[];
}

/** "evicted": this part's own set had to leave at once (as partial) to respect the memory bounds. */
type PushStatus = "single" | "completed" | "pending" | "duplicate" | "evicted";

export interface PushResult<TMeta> {
  readonly status: PushStatus;
  /** Messages ready to publish now: this one if complete, plus any timed-out or evicted sets. */
  readonly emitted: AssembledMessage<TMeta>[];
}

interface PendingSet<TMeta> {
  readonly key: string;
  readonly source: string;
  readonly destination: string;
  readonly style: ConcatStyle;
  readonly reference: number;
  readonly total: number;
  readonly firstPartAt: number;
  readonly parts: Map<number, { part: MessagePart; meta: TMeta }>;
  bytes: number;
}

/**
 * Reassembles concatenated SMS keyed by (scope, source, destination, reference);
 * the scope (the gateway passes the SMPP account) keeps one sender's parts from
 * completing or superseding another's.
 * Nothing is ever dropped: incomplete sets leave as partial messages on
 * timeout or when the memory bounds are hit (oldest first).
 */
export class Reassembler<TMeta = undefined> {
  // Map keeps insertion order: the first entry is always the oldest set.
  private readonly sets = new Map<string, PendingSet<TMeta>>();
  private bytes = 0;
  private readonly now: () => number;
  /**
   * Sets completed within the last timeout: a part resent after its set was
   * published (its answer got lost) is a duplicate, not the start of a new set.
   */
  private readonly recent = new Map<string, { total: number; at: number; prints: Map<number, string> }>();

  constructor(private readonly opts: ReassemblerOptions) {
    if (!(opts.timeoutMs > 0) || !(opts.maxPendingSets >= 1) || !(opts.maxPendingBytes >= 1)) {
      throw new RangeError("Reassembler needs timeoutMs > 0, maxPendingSets ≥ 1 and maxPendingBytes ≥ 1");
    }
    this.now = opts.now ?? Date.now;
  }

  get pendingSets(): number {
    return this.sets.size;
  }

  get pendingBytes(): number {
    return this.bytes;
  }

  push(part: MessagePart, meta: TMeta, scope = ""): PushResult<TMeta> {
    const now = this.now();
    const emitted = this.expire(now);
    const c = part.concat;
    if (!c) {
      emitted.push(assemble([{ part, meta }], "single", now, null));
      return { status: "single", emitted };
    }
    const key = setKey(scope, part.source, part.destination, c.reference);
    let set = this.sets.get(key);
    if (!set) {
      const done = this.recent.get(key);
      // Same reference, same part, same octets: a resend. Different octets: a new message
      // that reused the reference, which must never be swallowed.
      if (done && done.total === c.total && now - done.at < this.opts.timeoutMs && done.prints.get(c.seq) === fingerprint(part.userData)) {
        return { status: "duplicate", emitted };
      }
    }
    if (set && (set.total !== c.total || set.style !== c.style)) {
      // Same reference reused for a different message: publish what we had.
      emitted.push(this.take(set, "superseded"));
      set = undefined;
    }
    if (!set) {
      set = {
        key,
        source: part.source,
        destination: part.destination,
        style: c.style,
        reference: c.reference,
        total: c.total,
        firstPartAt: now,
        parts: new Map(),
        bytes: 0,
      };
      this.sets.set(key, set);
    }
    if (set.parts.has(c.seq)) return { status: "duplicate", emitted };
    set.parts.set(c.seq, { part, meta });
    set.bytes += part.userData.length;
    this.bytes += part.userData.length;
    if (set.parts.size === set.total) {
      const prints = new Map([...set.parts].map(([seq, v]) => [seq, fingerprint(v.part.userData)]));
      emitted.push(this.take(set, "complete"));
      this.remember(key, set.total, now, prints);
      return { status: "completed", emitted };
    }
    let status: PushStatus = "pending";
    while (this.sets.size > this.opts.maxPendingSets || this.bytes > this.opts.maxPendingBytes) {
      const oldest = this.sets.values().next().value;
      if (!oldest) break;
      if (oldest === set) status = "evicted";
      emitted.push(this.take(oldest, "evicted"));
    }
    return { status, emitted };
  }

  private remember(key: string, total: number, now: number, prints: Map<number, string>): void {
    this.recent.delete(key);
    this.recent.set(key, { total, at: now, prints });
    // Bounded like the pending sets; oldest first (Map order is completion order).
    for (const [k, v] of this.recent) {
      if (this.recent.size <= this.opts.maxPendingSets && now - v.at < this.opts.timeoutMs) break;
      this.recent.delete(k);
    }
  }

  /** Forgets a completed set so its reference can start a new one at once (e.g. its publish failed). */
  forgetCompleted(source: string, destination: string, reference: number, scope = ""): void {
    this.recent.delete(setKey(scope, source, destination, reference));
  }

  /** Publishes sets whose timeout has passed. Call from a timer (see `nextExpiryAt`). */
  expire(now = this.now()): AssembledMessage<TMeta>[] {
    const out: AssembledMessage<TMeta>[] = [];
    for (const set of this.sets.values()) {
      if (now - set.firstPartAt < this.opts.timeoutMs) break;
      out.push(this.take(set, "timeout"));
    }
    return out;
  }

  /** When the oldest pending set times out, or null when nothing is pending. */
  nextExpiryAt(): number | null {
    const oldest = this.sets.values().next().value;
    return oldest ? oldest.firstPartAt + this.opts.timeoutMs : null;
  }

  /** Publishes everything pending (shutdown). */
  flush(): AssembledMessage<TMeta>[] {
    return [...this.sets.values()].map((s) => this.take(s, "flushed"));
  }

  private take(set: PendingSet<TMeta>, reason: AssemblyReason): AssembledMessage<TMeta> {
    this.sets.delete(set.key);
    this.bytes -= set.bytes;
    const ordered = [...set.parts.entries()].sort((a, b) => a[0] - b[0]);
    const missing: number[] = [];
    for (let i = 1; i <= set.total; i++) if (!set.parts.has(i)) missing.push(i);
    return assemble(
      ordered.map(([, v]) => v),
      reason,
      set.firstPartAt,
      { style: set.style, reference: set.reference, total: set.total, missing },
    );
  }
}

/** Length and FNV-1a of a part's octets: enough to tell a resend from a different message. */
function fingerprint(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return `${bytes.length}:${(h >>> 0).toString(16)}`;
}

function assemble<TMeta>(
  parts: { part: MessagePart; meta: TMeta }[],
  reason: AssemblyReason,
  firstPartAt: number,
  set: { style: ConcatStyle; reference: number; total: number; missing: number[] } | null,
): AssembledMessage<TMeta> {
  const first = parts[0]!.part;
  // Decode runs of one data_coding together so characters split across parts
  // (surrogate pairs, GSM escapes, GB18030 multi-byte) come out whole.
  let text = "";
  let run: Uint8Array[] = [];
  let runDc = first.dataCoding;
  const flushRun = (): void => {
    if (run.length) text += decodeUserData(Buffer.concat(run), runDc);
    run = [];
  };
  for (const { part } of parts) {
    if (part.dataCoding !== runDc) {
      flushRun();
      runDc = part.dataCoding;
    }
    run.push(part.userData);
  }
  flushRun();
  const missing = set?.missing ?? [];
  return {
    source: first.source,
    destination: first.destination,
    dataCoding: first.dataCoding,
    text,
    concatStyle: set?.style ?? null,
    reference: set?.reference ?? null,
    totalParts: set?.total ?? 1,
    receivedParts: parts.length,
    partial: missing.length > 0,
    missingParts: missing,
    reason,
    firstPartAt,
    metas: parts.map((p) => p.meta),
  };
}

function setKey(scope: string, source: string, destination: string, reference: number): string {
  return `${scope}\u0000${source}\u0000${destination}\u0000${reference}`;
}
