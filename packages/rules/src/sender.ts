import { canonicalSender } from "@spam/contracts";

// The canonical form is a contract (it is the traffic key); re-exported for rule authors.
export { canonicalSender };

interface Range {
  from: string;
  to: string;
  rule: number;
}

/** Exact ids, prefixes and same-length number ranges, each mapped to rule indexes. */
export class SenderMatcher {
  private readonly exact = new Map<string, number[]>();
  private readonly prefixes = new Map<string, number[]>();
  private readonly prefixLengths: number[] = [];
  private readonly ranges: Range[] = [];

  add(rule: number, def: { senders: string[]; prefixes: string[]; ranges: Array<{ from: string; to: string }> }): void {
    for (const s of def.senders) push(this.exact, canonicalSender(s), rule);
    for (const p of def.prefixes) {
      const c = p.replace(/^\+/, "");
      push(this.prefixes, c, rule);
      if (!this.prefixLengths.includes(c.length)) this.prefixLengths.push(c.length);
    }
    for (const r of def.ranges) this.ranges.push({ from: r.from, to: r.to, rule });
  }

  get empty(): boolean {
    return this.exact.size === 0 && this.prefixes.size === 0 && this.ranges.length === 0;
  }

  /** Calls `onMatch(rule, how)` once per matching entry. `sender` must be canonical. */
  match(sender: string, onMatch: (rule: number, how: string) => void): void {
    if (sender === "") return;
    const ex = this.exact.get(sender);
    if (ex !== undefined) for (const r of ex) onMatch(r, `sender ${sender}`);
    for (const len of this.prefixLengths) {
      if (len > sender.length) continue;
      const p = sender.slice(0, len);
      const hit = this.prefixes.get(p);
      if (hit !== undefined) for (const r of hit) onMatch(r, `sender prefix ${p}`);
    }
    for (const r of this.ranges) {
      if (r.from.length === sender.length && sender >= r.from && sender <= r.to) onMatch(r.rule, `sender in ${r.from}-${r.to}`);
    }
  }
}

function push<K>(m: Map<K, number[]>, k: K, v: number): void {
  const a = m.get(k);
  if (a === undefined) m.set(k, [v]);
  else if (!a.includes(v)) a.push(v);
}
