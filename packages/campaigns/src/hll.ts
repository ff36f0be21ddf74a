/**
 * Distinct counter: exact while small (most campaigns), HyperLogLog (p=10, ~3 % error,
 * 1 KiB) once it passes EXACT_LIMIT, so memory per campaign stays bounded.
 */
const P = 10;
const M = 1 << P;
const EXACT_LIMIT = 64;
const POW2NEG = Float64Array.from({ length: 64 }, (_, i) => 2 ** -i);

function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class DistinctCounter {
  private exact: Set<number> | null = null;
  private first = -1;
  /** Σ 2^-register and the number of zero registers, kept up to date so count() is O(1). */
  private sum = M;
  private zeros = M;
  private registers: Uint8Array | null = null;

  add(value: string): void {
    const h = hash32(value);
    // Most campaigns have one sender: hold it in a field before allocating a set.
    if (this.registers === null && this.exact === null) {
      if (this.first === -1 || this.first === h) {
        this.first = h;
        return;
      }
      this.exact = new Set([this.first, h]);
      return;
    }
    if (this.exact) {
      this.exact.add(h);
      if (this.exact.size > EXACT_LIMIT) {
        this.registers = new Uint8Array(M);
        for (const x of this.exact) this.addHll(x);
        this.exact = null;
      }
    } else this.addHll(h);
  }

  private addHll(h: number): void {
    const idx = h >>> (32 - P);
    const rest = (h << P) >>> 0;
    const rank = rest === 0 ? 32 - P + 1 : Math.clz32(rest) + 1;
    const r = this.registers!;
    const old = r[idx]!;
    if (rank > old) {
      r[idx] = rank;
      this.sum += POW2NEG[rank]! - POW2NEG[old]!;
      if (old === 0) this.zeros--;
    }
  }

  count(): number {
    if (this.registers === null && this.exact === null) return this.first === -1 ? 0 : 1;
    if (this.exact) return this.exact.size;
    const alpha = 0.7213 / (1 + 1.079 / M);
    const est = (alpha * M * M) / this.sum;
    if (est <= 2.5 * M && this.zeros > 0) return Math.round(M * Math.log(M / this.zeros));
    return Math.round(est);
  }

  toJSON(): { exact: number[] } | { hll: string } {
    if (this.registers === null && this.exact === null) return { exact: this.first === -1 ? [] : [this.first] };
    if (this.exact) return { exact: [...this.exact] };
    return { hll: Buffer.from(this.registers!).toString("base64") };
  }

  static fromJSON(j: { exact: number[] } | { hll: string }): DistinctCounter {
    const c = new DistinctCounter();
    if ("exact" in j) {
      if (j.exact.length === 1) c.first = j.exact[0]!;
      else if (j.exact.length > 1) c.exact = new Set(j.exact);
    }
    else {
      const buf = Buffer.from(j.hll, "base64");
      if (buf.length !== M) throw new Error(`HyperLogLog needs ${M} registers, got ${buf.length}`);
      c.exact = null;
      c.registers = new Uint8Array(buf);
      c.sum = 0;
      c.zeros = 0;
      for (const v of c.registers) {
        c.sum += POW2NEG[v]!;
        if (v === 0) c.zeros++;
      }
    }
    return c;
  }
}
