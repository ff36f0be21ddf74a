import { Producer, ProduceAcks } from "@platformatic/kafka";
import type { Kafka } from "./client.js";
import { keyHash } from "./partitioner.js";

export interface SimpleMessage {
  readonly key?: string | Buffer | null;
  readonly value: string | Buffer | null;
  readonly partition?: number;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Sends records as given, one request per call (tests and tools; services use BatchingProducer). */
export class SimpleProducer {
  private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>;

  constructor(kafka: Kafka) {
    this.producer = new Producer({ ...kafka.baseOptions(), autocreateTopics: false });
  }

  async connect(): Promise<void> {}

  async send(options: { readonly topic: string; readonly messages: readonly SimpleMessage[] }): Promise<void> {
    await this.producer.send({
      acks: ProduceAcks.ALL,
      messages: options.messages.map((m) => toRecord(options.topic, m.key, m.value, m.partition, m.headers)),
    });
  }

  async disconnect(): Promise<void> {
    await this.producer.close();
  }
}

export interface ProducedRecord {
  topic: string;
  key: Buffer | undefined;
  value: Buffer | undefined;
  partition?: number;
  headers?: Map<Buffer, Buffer>;
}

/** A record with the key's murmur2 partition unless one is given (the client takes it modulo the partition count). */
export function toRecord(
  topic: string,
  key: string | Buffer | null | undefined,
  value: string | Buffer | null,
  partition?: number,
  headers?: Readonly<Record<string, string>>,
): ProducedRecord {
  const k = key === null || key === undefined ? undefined : Buffer.isBuffer(key) ? key : Buffer.from(key, "utf8");
  const record: ProducedRecord = { topic, key: k, value: value === null ? undefined : Buffer.isBuffer(value) ? value : Buffer.from(value, "utf8") };
  const p = partition ?? (k !== undefined ? keyHash(k) : undefined);
  if (p !== undefined) record.partition = p;
  if (headers) record.headers = new Map(Object.entries(headers).map(([hk, hv]) => [Buffer.from(hk), Buffer.from(hv)]));
  return record;
}
