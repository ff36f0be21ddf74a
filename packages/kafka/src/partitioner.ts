import { Partitioners, type PartitionerArgs } from "kafkajs";

const pick = Partitioners.DefaultPartitioner();

/**
 * The partition a keyed record goes to, as this module's producer picks it (kafkajs' default,
 * the Java client's murmur2): which traffic partition a sender's messages are on.
 */
export function partitionForKey(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0] }));
  return pick({ topic: "", partitionMetadata, message: { key, value: null } } as unknown as PartitionerArgs);
}
