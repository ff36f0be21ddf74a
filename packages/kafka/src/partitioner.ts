/**
 * Kafka's murmur2, as the Java client's `Utils.murmur2` defines it (the previous client's default partitioner
 * used the same): 32-bit integer arithmetic with `Math.imul`, no allocation. The client library ships a BigInt port
 * that allocates per four bytes; keys are hashed for every message produced, so this one is used instead.
 */
export function murmur2(data: Buffer): number {
  const length = data.length;
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= data[whole + 2]! << 16;
    if (rest >= 2) h ^= data[whole + 1]! << 8;
    h ^= data[whole]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The Java client's `toPositive(murmur2(key))`: the producer sends this as the record's partition and the
 * client takes it modulo the topic's partition count.
 */
export function keyHash(key: Buffer): number {
  return murmur2(key) & 0x7fffffff;
}

/**
 * The partition a keyed record goes to, as this module's producer picks it (the Java client's murmur2
 * over the key's UTF-8 bytes): which traffic partition a sender's messages are on.
 */
export function partitionForKey(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  return keyHash(Buffer.from(key, "utf8")) % partitions;
}

