import type { MessageEmbedder } from "./worker.js";

/**
 * Remembers the embeddings of the last `capacity` distinct texts: a spam run sends one text to many
 * recipients, and each embedding costs milliseconds. Least recently used texts go first.
 */
export class CachingEmbedder implements MessageEmbedder {
  private readonly cache = new Map<string, Float32Array>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly inner: MessageEmbedder,
    private readonly capacity: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`capacity must be an integer ≥ 0, got ${capacity}`);
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    // This call's answers: cache hits, then what was embedded (later insertions may evict a hit).
    const found = new Map<string, Float32Array>();
    const missing = new Set<string>();
    for (const t of texts) {
      const hit = this.cache.get(t);
      if (hit === undefined) {
        missing.add(t);
        continue;
      }
      // Map order is insertion order: re-inserting marks the text as recently used.
      this.cache.delete(t);
      this.cache.set(t, hit);
      found.set(t, hit);
      this.hits++;
    }
    if (missing.size > 0) {
      const list = [...missing];
      this.misses += list.length;
      const vectors = await this.inner.embed(list);
      list.forEach((t, j) => {
        found.set(t, vectors[j]!);
        if (this.capacity === 0) return;
        this.cache.set(t, vectors[j]!);
        if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
      });
    }
    return texts.map((t) => found.get(t)!);
  }
}
