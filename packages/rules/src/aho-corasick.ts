/**
 * Aho–Corasick over UTF-16 code units, built once per rule set.
 * Root transitions are a direct 64K table (most characters of a message start
 * nothing), deeper nodes keep their few edges in flat arrays scanned linearly.
 */
export class AhoCorasick {
  private readonly root: Int32Array;
  private readonly edgeStart: Int32Array;
  private readonly edgeCount: Uint16Array;
  private readonly edgeChar: Uint16Array;
  private readonly edgeNext: Int32Array;
  private readonly fail: Int32Array;
  /** Pattern index ending at this node, or -1. */
  private readonly out: Int32Array;
  /** Nearest node on the fail chain with an output, or -1. */
  private readonly dict: Int32Array;
  readonly size: number;

  constructor(patterns: readonly string[]) {
    // Build a trie with Map edges first, then flatten.
    const edges: Array<Map<number, number>> = [new Map()];
    const out: number[] = [-1];
    patterns.forEach((p, idx) => {
      let node = 0;
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        let next = edges[node]!.get(c);
        if (next === undefined) {
          next = edges.length;
          edges.push(new Map());
          out.push(-1);
          edges[node]!.set(c, next);
        }
        node = next;
      }
      if (out[node] === -1) out[node] = idx;
    });
    const n = edges.length;
    this.size = n;
    this.root = new Int32Array(65536).fill(0);
    this.edgeStart = new Int32Array(n);
    this.edgeCount = new Uint16Array(n);
    let total = 0;
    for (const e of edges) total += e.size;
    this.edgeChar = new Uint16Array(total);
    this.edgeNext = new Int32Array(total);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const e = edges[i]!;
      this.edgeStart[i] = k;
      this.edgeCount[i] = e.size;
      for (const [c, t] of e) {
        this.edgeChar[k] = c;
        this.edgeNext[k] = t;
        k++;
      }
    }
    for (const [c, t] of edges[0]!) this.root[c] = t;
    this.out = Int32Array.from(out);
    this.fail = new Int32Array(n);
    this.dict = new Int32Array(n).fill(-1);
    // BFS for failure and dictionary links.
    const queue: number[] = [];
    for (const t of edges[0]!.values()) queue.push(t);
    for (let q = 0; q < queue.length; q++) {
      const u = queue[q]!;
      for (const [c, v] of edges[u]!) {
        let f = this.fail[u]!;
        let nxt = this.step(f, c);
        while (nxt === -1) {
          f = this.fail[f]!;
          nxt = this.step(f, c);
        }
        this.fail[v] = nxt === v ? 0 : nxt;
        const fv = this.fail[v]!;
        this.dict[v] = this.out[fv] !== -1 ? fv : this.dict[fv]!;
        queue.push(v);
      }
    }
  }

  /** Transition without failure; root never fails (returns 0). */
  private step(node: number, c: number): number {
    if (node === 0) return this.root[c]!;
    const s = this.edgeStart[node]!;
    const e = s + this.edgeCount[node]!;
    for (let i = s; i < e; i++) if (this.edgeChar[i] === c) return this.edgeNext[i]!;
    return -1;
  }

  /** Calls `onMatch(patternIndex, endExclusive)` for every occurrence. */
  search(text: string, onMatch: (pattern: number, end: number) => void): void {
    const root = this.root;
    let node = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      let next: number;
      if (node === 0) next = root[c]!;
      else {
        next = this.step(node, c);
        while (next === -1) {
          node = this.fail[node]!;
          next = node === 0 ? root[c]! : this.step(node, c);
        }
      }
      node = next;
      if (node === 0) continue;
      if (this.out[node] !== -1) onMatch(this.out[node]!, i + 1);
      let d = this.dict[node]!;
      while (d !== -1) {
        onMatch(this.out[d]!, i + 1);
        d = this.dict[d]!;
      }
    }
  }
}
