export { createKafkaClient } from "./client.js";
export type { KafkaClientOptions } from "./client.js";
export { ensureTopics } from "./topics.js";
export type { EnsureTopicsOptions } from "./topics.js";
export { BatchingProducer, encodeValue } from "./producer.js";
export type { BatchingProducerOptions, OutgoingMessage } from "./producer.js";
export { SchemaConsumer, decodeRecord } from "./consumer.js";
export type {
  BatchContext,
  ConsumedMessage,
  DeadLetterTarget,
  DecodeResult,
  SchemaConsumerOptions,
} from "./consumer.js";
export { CompactedTopicFollower } from "./compacted.js";
export { redactDeadLetter, redactNumbers } from "./redact.js";
export { partitionForKey } from "./partitioner.js";
export { PartitionReader } from "./partition-reader.js";
export type { PartitionRange, PartitionRangeReader, PartitionReaderOptions, PartitionRecord } from "./partition-reader.js";
export type { CompactedTopicFollowerOptions } from "./compacted.js";
export { KafkaModuleError } from "./errors.js";
export type { KafkaModuleErrorCode } from "./errors.js";
export type { Kafka } from "kafkajs";
