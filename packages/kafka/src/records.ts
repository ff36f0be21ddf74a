import type { ZodType, ZodTypeDef } from "zod";
import type { DeadLetter } from "@spam/contracts";
import { redactDeadLetter } from "./redact.js";

/** A record as the client delivers it: key, value and header names/values as bytes. */
export interface KafkaRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly timestamp: bigint;
  readonly leaderEpoch: number;
  readonly key: Buffer | undefined | null;
  readonly value: Buffer | undefined | null;
  readonly headers: Map<Buffer, Buffer>;
}

export interface ConsumedMessage<T> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: T;
  /** Broker timestamp (epoch ms). */
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
}

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: string };

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** JSON + schema check of one record; never throws. */
export function decodeRecord<T>(schema: ZodType<T, ZodTypeDef, unknown>, raw: Buffer | null | undefined): DecodeResult<T> {
  if (raw === null || raw === undefined) return { ok: false, error: "empty record value (tombstone) on a non-compacted topic" };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString("utf8"));
  } catch (e) {
    return { ok: false, error: `invalid JSON: ${(e as Error).message}` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    return { ok: false, error: `schema validation failed: ${issues.join("; ")}` };
  }
  return { ok: true, value: parsed.data };
}

function headersToRecord(headers: Map<Buffer, Buffer>): Readonly<Record<string, string>> {
  if (headers.size === 0) return NO_HEADERS;
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    const key = name.toString("utf8");
    if (!(key in out)) out[key] = value.toString("utf8");
  }
  return out;
}

export function toConsumed<T>(record: KafkaRecord, value: T): ConsumedMessage<T> {
  return {
    topic: record.topic,
    partition: record.partition,
    offset: String(record.offset),
    key: record.key ? record.key.toString("utf8") : null,
    value,
    timestamp: Number(record.timestamp),
    headers: headersToRecord(record.headers),
  };
}

/** Where a record that failed came from, and why. */
export interface DeadLetterSource {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | string | null;
  readonly value: Buffer | null;
  readonly error: string;
  /** The service recording it. */
  readonly service: string;
}

/**
 * The one builder of dead letters: the record's bytes base64, the error capped, and every part that may
 * quote a subscriber's number masked (`redactDeadLetter`).
 */
export function buildDeadLetter(source: DeadLetterSource): DeadLetter {
  const key = source.key === null ? null : Buffer.isBuffer(source.key) ? source.key.toString("utf8") : source.key;
  return redactDeadLetter({
    v: 1,
    sourceTopic: source.topic,
    partition: source.partition,
    offset: source.offset,
    key,
    valueBase64: source.value ? source.value.toString("base64") : null,
    error: source.error.slice(0, 4_000),
    service: source.service,
    failedAt: Date.now(),
  });
}

/** The key a dead letter is published under (the source record's coordinates). */
export function deadLetterKey(d: DeadLetter): string {
  return `${d.sourceTopic}:${d.partition}:${d.offset}`;
}
