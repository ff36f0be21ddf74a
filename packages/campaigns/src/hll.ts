/**
 * Distinct counter: exact while small (most campaigns), HyperLogLog (p=10, ~3 % error,
 * 1 KiB) once it passes EXACT_LIMIT, so memory per campaign stays bounded.
 */
const P = 10;
const M = 1 << P;
const EXACT_LIMIT = 64;

export function hash32(s: string): number {
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
  private exact: Set<number> | null = new Set();
  private registers: Uint8Array | null = null;

  add(value: string): void {
    const h = hash32(value);
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
    if (rank > r[idx]!) r[idx] = rank;
  }

  count(): number {
    if (this.exact) return this.exact.size;
    const r = this.registers!;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < M; i++) {
      sum += 2 ** -r[i]!;
      if (r[i] === 0) zeros++;
    }
    const alpha = 0.7213 / (1 + 1.079 / M);
    const est = (alpha * M * M) / sum;
    if (est <= 2.5 * M && zeros > 0) return Math.round(M * Math.log(M / zeros));
    return Math.round(est);
  }

  toJSON(): { exact: number[] } | { hll: string } {
    if (this.exact) return { exact: [...this.exact] };
    return { hll: Buffer.from(this.registers!).toString("base64") };
  }

  static fromJSON(j: { exact: number[] } | { hll: string }): DistinctCounter {
    const c = new DistinctCounter();
    if ("exact" in j) c.exact = new Set(j.exact);
    else {
      const buf = Buffer.from(j.hll, "base64");
      if (buf.length !== M) throw new Error(`HyperLogLog needs ${M} registers, got ${buf.length}`);
      c.exact = null;
      c.registers = new Uint8Array(buf);
    }
    return c;
  }
}
