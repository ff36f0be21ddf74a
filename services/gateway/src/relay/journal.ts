import type { Logger } from "pino";
import { z } from "zod";
import { CompactedTopicFollower, type Kafka, type OutgoingMessage } from "@spam/kafka";
import type { MessagePart } from "@spam/smpp-codec";
import { MAX_SYSTEM_ID } from "../accounts.js";
import type { WirePdu } from "./downstream.js";
import type { ReceiptTarget } from "./relay.js";

/** A part answered OK while its message was incomplete: all a restarted gateway needs to hold it again. */
export interface HeldPart {
  readonly account: string;
  readonly receivedAt: number;
  readonly part: MessagePart;
  /** The id the upstream was given for this part (its receipt comes back with it). */
  readonly ackedId: string;
  readonly wire: WirePdu;
  readonly receipts: ReceiptTarget;
}

/** Octets in JSON: the PDU fields keep their Buffers as base64. */
const Octets = z.object({ b64: z.string().max(400_000) }).strict();
const WireValue = z.union([z.string().max(10_000), z.number(), Octets]);

const HeldPartRecordV1 = z.object({
  v: z.literal(1),
  gatewayId: z.string().min(1).max(128),
  account: z.string().min(1).max(MAX_SYSTEM_ID),
  receivedAt: z.number().int().nonnegative(),
  ackedId: z.string().min(1).max(64),
  receipts: z.object({ account: z.string().min(1).max(MAX_SYSTEM_ID), sessionId: z.number().int() }),
  part: z.object({
    source: z.string().max(64),
    destination: z.string().max(64),
    dataCoding: z.number().int().min(0).max(255),
    concat: z.object({ style: z.enum(["udh8", "udh16", "sar"]), reference: z.number().int().min(0).max(65_535), total: z.number().int().min(1).max(255), seq: z.number().int().min(1).max(255) }),
    userData: Octets,
  }),
  wire: z.record(WireValue),
});
type HeldPartRecord = z.infer<typeof HeldPartRecordV1>;

function toJson(wire: WirePdu): Record<string, z.infer<typeof WireValue>> {
  const out: Record<string, z.infer<typeof WireValue>> = {};
  for (const [k, v] of Object.entries(wire)) {
    if (Buffer.isBuffer(v) || v instanceof Uint8Array) out[k] = { b64: Buffer.from(v).toString("base64") };
    else if (typeof v === "string" || typeof v === "number") out[k] = v;
  }
  return out;
}

function fromJson(wire: Record<string, z.infer<typeof WireValue>>): WirePdu {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(wire)) out[k] = typeof v === "object" ? Buffer.from(v.b64, "base64") : v;
  return out;
}

export interface RelayJournalOptions {
  readonly gatewayId: string;
  readonly topic: string;
  /** Resolves once Kafka acknowledged. */
  readonly publish: (messages: readonly OutgoingMessage[]) => Promise<void>;
  readonly logger: Logger;
}

/**
 * Relay mode's journal of held parts (services/gateway/README.md, "Durability"): a part of a
 * multipart message is answered OK only once its record is on Kafka, and the record is
 * tombstoned when its message was forwarded or stopped. At start the gateway reads back what
 * it left, so a SIGKILL between two parts loses neither.
 */
export class RelayJournal {
  constructor(private readonly o: RelayJournalOptions) {}

  /** One key a part: the gateway (each recovers only its own), then the reassembly key and the part's number. */
  key(account: string, part: MessagePart): string {
    const c = part.concat!;
    return JSON.stringify([this.o.gatewayId, account, part.source, part.destination, c.reference, c.seq]);
  }

  hold(h: HeldPart): Promise<void> {
    const c = h.part.concat;
    if (!c) return Promise.reject(new Error("only parts of a multipart message are journaled"));
    const value: HeldPartRecord = {
      v: 1,
      gatewayId: this.o.gatewayId,
      account: h.account,
      receivedAt: h.receivedAt,
      ackedId: h.ackedId,
      receipts: { account: h.receipts.account, sessionId: h.receipts.sessionId },
      part: { source: h.part.source, destination: h.part.destination, dataCoding: h.part.dataCoding, concat: { ...c }, userData: { b64: Buffer.from(h.part.userData).toString("base64") } },
      wire: toJson(h.wire),
    };
    return this.o.publish([{ topic: this.o.topic, key: this.key(h.account, h.part), value }]);
  }

  /** Tombstones: these parts' message is decided. */
  release(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return Promise.resolve();
    return this.o.publish(keys.map((key) => ({ topic: this.o.topic, key, value: null })));
  }

  /** Reads the journal to its end: this gateway's parts still held when it last stopped. */
  async recover(kafka: Kafka, groupId: string): Promise<HeldPart[]> {
    const live = new Map<string, HeldPartRecord>();
    const reader = new CompactedTopicFollower({
      kafka,
      logger: this.o.logger,
      topic: this.o.topic,
      schema: HeldPartRecordV1,
      groupId,
      onRecord: (key, value) => {
        if (value === null) live.delete(key);
        else if (value.gatewayId === this.o.gatewayId) live.set(key, value);
      },
    });
    try {
      await reader.start();
    } finally {
      await reader.stop();
    }
    return [...live.values()].map((r) => ({
      account: r.account,
      receivedAt: r.receivedAt,
      ackedId: r.ackedId,
      receipts: r.receipts,
      part: { ...r.part, userData: Buffer.from(r.part.userData.b64, "base64") },
      wire: fromJson(r.wire),
    }));
  }
}
