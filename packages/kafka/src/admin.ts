import { Admin, findErrorBy, ListOffsetTimestamps } from "@platformatic/kafka";
import type { Kafka } from "./client.js";
import { KafkaModuleError } from "./errors.js";

export interface TopicToCreate {
  readonly topic: string;
  readonly numPartitions: number;
  readonly replicationFactor?: number;
  readonly configEntries?: ReadonlyArray<{ readonly name: string; readonly value: string }>;
}

/** One partition's bounds: `low` is its first offset, `high` (= `offset`) the next offset to be written. */
export interface PartitionOffsets {
  readonly partition: number;
  readonly offset: string;
  readonly high: string;
  readonly low: string;
}

export interface GroupDescription {
  readonly groupId: string;
  /** "Stable", "Empty", "PreparingRebalance", "CompletingRebalance", "Dead". */
  readonly state: string;
  readonly members: ReadonlyArray<{ readonly memberId: string; readonly clientId: string }>;
}

const STATES: Record<string, string> = {
  STABLE: "Stable",
  EMPTY: "Empty",
  DEAD: "Dead",
  PREPARING_REBALANCE: "PreparingRebalance",
  COMPLETING_REBALANCE: "CompletingRebalance",
};

/**
 * Topic, offset and group administration. The method names and result shapes are the ones this
 * repository's services, tests and tools have always used (offsets as decimal strings).
 */
export class KafkaAdmin {
  private readonly admin: Admin;

  constructor(kafka: Kafka) {
    this.admin = new Admin(kafka.baseOptions());
  }

  /** Connections open on first use; kept for symmetry with disconnect(). */
  async connect(): Promise<void> {}

  async disconnect(): Promise<void> {
    await this.admin.close();
  }

  listTopics(): Promise<string[]> {
    return this.admin.listTopics();
  }

  async createTopics(options: { readonly topics: readonly TopicToCreate[] }): Promise<void> {
    for (const t of options.topics) {
      try {
        await this.admin.createTopics({
          topics: [t.topic],
          partitions: t.numPartitions,
          replicas: t.replicationFactor ?? 1,
          configs: (t.configEntries ?? []).map((c) => ({ name: c.name, value: c.value })),
        });
      } catch (err) {
        // Another process created it since the caller listed the topics: the result it wanted.
        if (!(err instanceof Error && findErrorBy(err, "apiId", "TOPIC_ALREADY_EXISTS"))) throw err;
      }
    }
  }

  /** `timeout` is accepted for callers written for other clients; the client's request timeout applies. */
  async deleteTopics(options: { readonly topics: readonly string[]; readonly timeout?: number }): Promise<void> {
    if (options.topics.length > 0) await this.admin.deleteTopics({ topics: [...options.topics] });
  }

  /** Each topic's partitions and their leaders (-1: none yet). */
  async fetchTopicMetadata(options: { readonly topics: readonly string[] }): Promise<{ topics: Array<{ name: string; partitions: Array<{ partitionId: number; leader: number }> }> }> {
    const metadata = await this.admin.metadata({ topics: [...options.topics], forceUpdate: true });
    return {
      topics: options.topics.flatMap((name) => {
        const t = metadata.topics.get(name);
        return t ? [{ name, partitions: t.partitions.map((p, partitionId) => ({ partitionId, leader: p.leader })) }] : [];
      }),
    };
  }

  async describeCluster(): Promise<{ clusterId: string; controller: number; brokers: Array<{ nodeId: number; host: string; port: number }> }> {
    const metadata = await this.admin.metadata({ topics: [], forceUpdate: true });
    return {
      clusterId: metadata.id,
      controller: metadata.controllerId,
      brokers: [...metadata.brokers].map(([nodeId, b]) => ({ nodeId, host: b.host, port: b.port })),
    };
  }

  private async partitionCount(topic: string): Promise<number> {
    const metadata = await this.admin.metadata({ topics: [topic] });
    const t = metadata.topics.get(topic);
    // Right after its creation the broker may not list it yet: worth retrying.
    if (!t) throw new KafkaModuleError("topics_not_ready", `unknown topic ${topic}`, { retriable: true });
    return t.partitionsCount;
  }

  /** Per partition, the offset of the first record at `timestamp` (epoch ms, or a ListOffsetTimestamps value). */
  private async offsetsAt(topic: string, timestamp: bigint): Promise<Map<number, bigint>> {
    const count = await this.partitionCount(topic);
    const partitions = Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp }));
    const [listed] = await this.admin.listOffsets({ topics: [{ name: topic, partitions }] });
    return new Map((listed?.partitions ?? []).map((p) => [p.partitionIndex, p.offset]));
  }

  async fetchTopicOffsets(topic: string): Promise<PartitionOffsets[]> {
    const high = await this.offsetsAt(topic, ListOffsetTimestamps.LATEST);
    const low = await this.offsetsAt(topic, ListOffsetTimestamps.EARLIEST);
    return [...high].sort(([a], [b]) => a - b).map(([partition, h]) => ({ partition, offset: String(h), high: String(h), low: String(low.get(partition) ?? 0n) }));
  }

  /** The first offset at or after `timestamp` per partition; -1 where no record is that recent. */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp: number): Promise<Array<{ partition: number; offset: string }>> {
    const at = await this.offsetsAt(topic, BigInt(timestamp));
    return [...at].sort(([a], [b]) => a - b).map(([partition, offset]) => ({ partition, offset: String(offset) }));
  }

  /** The group's committed offsets for every partition of each topic ("-1": none). */
  async fetchOffsets(options: { readonly groupId: string; readonly topics: readonly string[] }): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>> {
    const out: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> = [];
    for (const topic of options.topics) {
      const count = await this.partitionCount(topic);
      const partitionIndexes = Array.from({ length: count }, (_, i) => i);
      const [group] = await this.admin.listConsumerGroupOffsets({ groups: [{ groupId: options.groupId, topics: [{ name: topic, partitionIndexes }] }] });
      const committed = new Map((group?.topics.find((t) => t.name === topic)?.partitions ?? []).map((p) => [p.partitionIndex, p.committedOffset]));
      out.push({ topic, partitions: partitionIndexes.map((partition) => ({ partition, offset: String(committed.get(partition) ?? -1n) })) });
    }
    return out;
  }

  /** Sets a group's committed offsets (the group must have no active member). */
  async setOffsets(options: { readonly groupId: string; readonly topic: string; readonly partitions: ReadonlyArray<{ partition: number; offset: string }> }): Promise<void> {
    await this.admin.alterConsumerGroupOffsets({
      groupId: options.groupId,
      topics: [{ name: options.topic, partitionOffsets: options.partitions.map((p) => ({ partition: p.partition, offset: BigInt(p.offset) })) }],
    });
  }

  async describeGroups(groupIds: readonly string[]): Promise<{ groups: GroupDescription[] }> {
    const described = await this.admin.describeGroups({ groups: [...groupIds] });
    return {
      groups: [...described.values()].map((g) => ({
        groupId: g.id,
        state: STATES[g.state] ?? g.state,
        members: [...g.members.values()].map((m) => ({ memberId: m.id, clientId: m.clientId })),
      })),
    };
  }
}
