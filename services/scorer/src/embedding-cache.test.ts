import { describe, expect, it } from "vitest";
import { CachingEmbedder } from "./embedding-cache.js";

function counting() {
  const calls: string[][] = [];
  return {
    calls,
    embed: async (texts: readonly string[]) => {
      calls.push([...texts]);
      return texts.map((t) => Float32Array.of(t.length));
    },
  };
}

describe("CachingEmbedder", () => {
  it("embeds each distinct text once and answers repeats from the cache, in input order", async () => {
    const inner = counting();
    const c = new CachingEmbedder(inner, 10);
    const a = await c.embed(["aa", "b", "aa"]);
    expect(a.map((v) => v[0])).toEqual([2, 1, 2]);
    const b = await c.embed(["b", "ccc"]);
    expect(b.map((v) => v[0])).toEqual([1, 3]);
    expect(inner.calls).toEqual([["aa", "b"], ["ccc"]]);
    expect([c.hits, c.misses]).toEqual([1, 3]);
  });

  it("evicts the least recently used text beyond its capacity", async () => {
    const inner = counting();
    const c = new CachingEmbedder(inner, 2);
    await c.embed(["a", "b"]);
    await c.embed(["a"]); // a is now more recent than b
    await c.embed(["c"]); // evicts b
    await c.embed(["a", "b"]);
    expect(inner.calls).toEqual([["a", "b"], ["c"], ["b"]]);
  });

  it("with capacity 0 embeds every call", async () => {
    const inner = counting();
    const c = new CachingEmbedder(inner, 0);
    await c.embed(["a"]);
    await c.embed(["a"]);
    expect(inner.calls).toEqual([["a"], ["a"]]);
    expect(() => new CachingEmbedder(inner, -1)).toThrow(RangeError);
  });
});
