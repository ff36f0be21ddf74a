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
    const out = new Array<Float32Array | undefined>(texts.length);
    const missing: string[] = [];
    texts.forEach((t, i) => {
      const hit = this.cache.get(t);
      if (hit) {
        // Map order is insertion order: re-inserting marks the text as recently used.
        this.cache.delete(t);
        this.cache.set(t, hit);
        out[i] = hit;
        this.hits++;
      } else if (!missing.includes(t)) missing.push(t);
    });
    if (missing.length > 0) {
      this.misses += missing.length;
      const vectors = await this.inner.embed(missing);
      const fresh = new Map(missing.map((t, j) => [t, vectors[j]!]));
      texts.forEach((t, i) => {
        out[i] ??= fresh.get(t);
      });
      for (const [t, v] of fresh) {
        if (this.capacity === 0) break;
        this.cache.set(t, v);
        if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
      }
    }
    return out as Float32Array[];
  }
}
