import { createRequire } from "node:module";
import type { EventEmitter } from "node:events";
import type { Server as NetServer, Socket } from "node:net";

/** A PDU as the `smpp` package (0.5.x) represents it: header fields plus named params/TLVs. */
export interface SmppPdu {
  command: string;
  command_id: number;
  command_status: number;
  sequence_number: number;
  [field: string]: unknown;
  response(options?: Record<string, unknown>): SmppPdu;
  isResponse(): boolean;
  toBuffer(): Buffer;
}

export interface SmppSession extends EventEmitter {
  readonly socket: Socket;
  paused: boolean;
  send(pdu: SmppPdu, responseCallback?: (resp: SmppPdu) => void, sendCallback?: () => void): boolean;
  pause(): void;
  resume(): void;
  close(callback?: () => void): void;
  destroy(callback?: () => void): void;
  /** Command shortcuts: `session.submit_sm(options, (resp) => …)`. */
  [command: string]: unknown;
}

export interface SmppServer extends NetServer {
  sessions: SmppSession[];
}

interface SmppPduConstructor {
  new (command: string, options?: Record<string, unknown>): SmppPdu;
  new (buffer: Buffer): SmppPdu;
  maxLength: number;
}

export interface SmppModule {
  PDU: SmppPduConstructor;
  createServer(options: Record<string, unknown>, listener?: (session: SmppSession) => void): SmppServer;
  connect(options: Record<string, unknown>, listener?: () => void): SmppSession;
  commands: Record<string, { id: number; params?: Record<string, { filter?: unknown }> }>;
  tlvs: Record<string, { id: number; filter?: unknown }>;
  errors: Record<string, number>;
  consts: Record<string, unknown>;
}

const require = createRequire(import.meta.url);

/**
 * Loads the `smpp` package with types. With `rawMessages` (what the gateway
 * uses) short_message and message_payload stay raw Buffers both ways instead of
 * being pre-decoded to `{ udh, message }`, so this codec sees the true octets.
 * The switch is process-wide: the package keeps its filters in shared tables.
 */
export function loadSmpp(opts: { rawMessages?: boolean } = {}): SmppModule {
  const smpp = require("smpp") as SmppModule;
  if (opts.rawMessages) {
    for (const cmd of Object.values(smpp.commands)) {
      const sm = cmd.params?.["short_message"];
      if (sm) delete sm.filter;
    }
    const mp = smpp.tlvs["message_payload"];
    if (mp) delete mp.filter;
  }
  return smpp;
}

const corkedSessions = new WeakSet<SmppSession>();

/**
 * Holds a session's writes until the end of this tick, so the PDUs sent in one go (the answers
 * to a Kafka batch, a load generator's submits) leave in one writev instead of a syscall each.
 */
export function corkUntilNextTick(session: SmppSession): void {
  if (corkedSessions.has(session)) return;
  corkedSessions.add(session);
  const socket = session.socket;
  socket.cork();
  process.nextTick(() => {
    corkedSessions.delete(session);
    socket.uncork();
  });
}
