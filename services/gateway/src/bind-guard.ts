export interface BindGuardOptions {
  /** Failed binds in a row before the key is refused for a while. */
  readonly failuresBeforeBackoff: number;
  /** First refusal period; doubles with every further failure. */
  readonly baseMs: number;
  readonly maxMs: number;
  /** Remote addresses remembered; the least recently failed are forgotten first. */
  readonly maxAddresses: number;
  readonly now?: () => number;
}

interface Failures {
  count: number;
  /** Refused until this time (0: not refused). */
  until: number;
  last: number;
}

/** Addresses remembered per account as having bound it: the account's lock does not apply to them. */
const KNOWN_GOOD_PER_ACCOUNT = 32;

/**
 * Failed-bind backoff per remote address and per system_id (SMPP has no
 * lockout of its own): after `failuresBeforeBackoff` failures the key is refused,
 * even with the right password, for `baseMs`·2^k up to `maxMs`. Attempts while
 * refused do not extend the period. An account's lock spares addresses that bound
 * it before, so a stranger guessing its password cannot lock out its real link.
 * Memory is bounded: addresses in an LRU of `maxAddresses`, system_ids only for
 * configured accounts.
 */
export class BindGuard {
  private readonly byAddress = new Map<string, Failures>();
  private readonly byAccount = new Map<string, Failures>();
  private readonly knownGood = new Map<string, Set<string>>();
  private readonly now: () => number;

  constructor(private readonly o: BindGuardOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Milliseconds the bind must still wait; 0 when it may be tried. */
  refusedFor(address: string, systemId: string, known: boolean): number {
    const now = this.now();
    const byAddress = this.remaining(this.byAddress.get(address), now);
    const spared = this.knownGood.get(systemId)?.has(address) ?? false;
    const byAccount = known && !spared ? this.remaining(this.byAccount.get(systemId), now) : 0;
    return Math.max(byAddress, byAccount);
  }

  failed(address: string, systemId: string, known: boolean): void {
    const now = this.now();
    this.bump(this.byAddress, address, now);
    if (this.byAddress.size > this.o.maxAddresses) this.byAddress.delete(this.byAddress.keys().next().value!);
    if (known) this.bump(this.byAccount, systemId, now);
  }

  succeeded(address: string, systemId: string): void {
    this.byAddress.delete(address);
    this.byAccount.delete(systemId);
    let good = this.knownGood.get(systemId);
    if (!good) this.knownGood.set(systemId, (good = new Set()));
    good.delete(address);
    good.add(address);
    if (good.size > KNOWN_GOOD_PER_ACCOUNT) good.delete(good.values().next().value!);
  }

  get trackedAddresses(): number {
    return this.byAddress.size;
  }

  private remaining(f: Failures | undefined, now: number): number {
    return f && f.until > now ? f.until - now : 0;
  }

  private bump(map: Map<string, Failures>, key: string, now: number): void {
    let f = map.get(key);
    // A key quiet for longer than the longest period starts over.
    if (f && now - f.last > this.o.maxMs) f = undefined;
    f ??= { count: 0, until: 0, last: now };
    map.delete(key); // re-insert: the map's order is the LRU order
    f.count++;
    f.last = now;
    const over = f.count - this.o.failuresBeforeBackoff;
    if (over >= 0) f.until = now + Math.min(this.o.maxMs, this.o.baseMs * 2 ** Math.min(over, 30));
    map.set(key, f);
  }
}
