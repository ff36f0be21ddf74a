import { blockListKey, type BlockKind, type BlockListEntry } from "@spam/contracts";
import { extractUrls, isPublicSuffix, registrableDomain } from "@spam/normalize";
import { normaliseNumber } from "@spam/report-parser";

export interface BlockMatch {
  readonly kind: BlockKind;
  readonly value: string;
}

/**
 * The active block list in memory, fed from the compacted topic. Lookups are
 * Map gets (sub-microsecond); no network call on the message path.
 */
export class BlockList {
  private readonly entries = new Map<string, BlockListEntry>();
  private activeDomains = 0;

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.entries.size;
  }

  /** Applies one record of the compacted topic; keeps the highest version per key; null deletes. */
  apply(key: string, entry: BlockListEntry | null): void {
    const current = this.entries.get(key);
    if (entry === null) {
      if (current?.kind === "domain") this.activeDomains--;
      this.entries.delete(key);
      return;
    }
    if (current && current.version > entry.version) return;
    if (current?.kind === "domain") this.activeDomains--;
    if (entry.kind === "domain") this.activeDomains++;
    this.entries.set(key, entry);
  }

  private active(key: string): BlockListEntry | undefined {
    const e = this.entries.get(key);
    if (!e || e.state !== "active") return undefined;
    if (e.expiresAt !== null && e.expiresAt <= this.now()) return undefined;
    return e;
  }

  /** An active block under this key (`blockListKey(kind, value)`): the relay asks about a verdict's campaign. */
  hasActive(key: string): boolean {
    return this.active(key) !== undefined;
  }

  /** The first active block that applies to a message: its sender, then domains in its text. */
  match(source: string, text: string): BlockMatch | null {
    const candidates = [source];
    const n = normaliseNumber(source);
    if (n && n.digits !== source) candidates.push(n.digits);
    for (const c of candidates) {
      if (this.active(blockListKey("sender", c))) return { kind: "sender", value: c };
    }
    if (this.activeDomains > 0 && text.length > 0) {
      // The URL extractor the scorer uses (linear, length-capped). A host is blocked by a block on
      // itself or on its registrable domain (a.b.evil.com.cn by evil.com.cn), never through a
      // public suffix: a block on com.cn or github.io, however it got in, matches nothing.
      for (const { domain: host } of extractUrls(text)) {
        if (!isPublicSuffix(host) && this.active(blockListKey("domain", host))) return { kind: "domain", value: host };
        const registrable = registrableDomain(host);
        if (registrable !== null && registrable !== host && this.active(blockListKey("domain", registrable))) return { kind: "domain", value: registrable };
      }
    }
    return null;
  }
}
