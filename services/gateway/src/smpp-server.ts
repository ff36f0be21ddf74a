import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { KafkaModuleError } from "@spam/kafka";
import {
  Reassembler,
  SmppCodecError,
  extractPart,
  fieldsFromSmppPdu,
  loadSmpp,
  type AssembledMessage,
  type GsmPacking,
  type MessagePart,
  type SmppPdu,
  type SmppServer,
  type SmppSession,
} from "@spam/smpp-codec";
import type { Account } from "./accounts.js";
import type { MessageRouter } from "./router.js";
import { TokenBucket } from "./throttle.js";

const smpp = loadSmpp({ rawMessages: true });
const E = smpp.errors as Record<string, number>;
const status = (name: string): number => {
  const v = E[name];
  if (v === undefined) throw new Error(`unknown SMPP status ${name}`);
  return v;
};
const OK = 0;
const RTHROTTLED = status("ESME_RTHROTTLED");
const RSYSERR = status("ESME_RSYSERR");
const RINVBNDSTS = status("ESME_RINVBNDSTS");
const RALYBND = status("ESME_RALYBND");
const RBINDFAIL = status("ESME_RBINDFAIL");
const RINVDCS = status("ESME_RINVDCS");
const RINVESMCLASS = status("ESME_RINVESMCLASS");
const RINVCMDLEN = status("ESME_RINVCMDLEN");
const RINVCMDID = status("ESME_RINVCMDID");
const RX_R_APPN = status("ESME_RX_R_APPN");

export type BindType = "transmitter" | "receiver" | "transceiver";

export interface SmppServerOptions {
  readonly host: string;
  readonly port: number;
  readonly gatewayId: string;
  readonly accounts: ReadonlyMap<string, Account>;
  readonly router: MessageRouter;
  readonly logger: Logger;
  readonly idleTimeoutMs: number;
  readonly reassembly: { readonly timeoutMs: number; readonly maxPendingSets: number; readonly maxPendingBytes: number };
  readonly gsmPacking?: GsmPacking;
  readonly now?: () => number;
}

interface SessionState {
  readonly id: number;
  readonly session: SmppSession;
  readonly log: Logger;
  account: Account | null;
  bindType: BindType | null;
  /** submit_sm received and not yet answered. */
  outstanding: number;
  /** performance.now() of the last PDU; a server-wide sweep closes idle sessions (no timer per PDU). */
  lastActivity: number;
  closed: boolean;
}

interface PartMeta {
  readonly state: SessionState;
  readonly pdu: SmppPdu;
  readonly receivedAt: number;
  readonly part: MessagePart;
  /** Answered when stored, before the whole message existed (see onSubmit). */
  acked: boolean;
}

/** Receivers a reply can be delivered through. */
export interface ReceiverSession {
  readonly systemId: string;
  readonly session: SmppSession;
}

/**
 * SMSC-role SMPP server. Each submit_sm is answered with success only after the
 * whole message it belongs to was acknowledged by Kafka; over an account's
 * throughput or a session's window the answer is ESME_RTHROTTLED; nothing is
 * queued without bound and nothing accepted is dropped.
 */
export class GatewaySmppServer {
  private server: SmppServer | null = null;
  private readonly states = new Set<SessionState>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly reassembler: Reassembler<PartMeta>;
  private expiryTimer: NodeJS.Timeout | null = null;
  private idleSweep: NodeJS.Timeout | null = null;
  private expiryAt = Infinity;
  private readonly inFlight = new Set<Promise<void>>();
  private nextSessionId = 1;
  private readonly now: () => number;
  private rr = 0;
  /** Called when a receiver binds (the reply dispatcher flushes what waited for one). */
  onReceiverBound: (() => void) | null = null;

  constructor(private readonly o: SmppServerOptions) {
    this.now = o.now ?? Date.now;
    this.reassembler = new Reassembler<PartMeta>({ ...o.reassembly, now: this.now });
  }

  get address(): { port: number } {
    const address = this.server?.address();
    if (!address || typeof address === "string") throw new Error("server is not listening");
    return { port: address.port };
  }

  get sessionCount(): number {
    return this.states.size;
  }

  listen(): Promise<void> {
    this.server = smpp.createServer({}, (session) => this.onSession(session));
    this.idleSweep = setInterval(() => this.sweepIdle(), Math.max(10, Math.min(1_000, this.o.idleTimeoutMs / 4)));
    this.idleSweep.unref();
    return new Promise((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(this.o.port, this.o.host, () => resolve());
    });
  }

  /** Bound receiver/transceiver sessions, rotated so replies spread over them. */
  receivers(): ReceiverSession[] {
    const list: ReceiverSession[] = [];
    for (const s of this.states) {
      if (!s.closed && s.account && (s.bindType === "receiver" || s.bindType === "transceiver")) {
        list.push({ systemId: s.account.systemId, session: s.session });
      }
    }
    if (list.length > 1) {
      const k = this.rr++ % list.length;
      return [...list.slice(k), ...list.slice(0, k)];
    }
    return list;
  }

  /** Stops accepting, publishes incomplete sets as partial, answers what is in flight, closes sessions. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.idleSweep) clearInterval(this.idleSweep);
    for (const m of this.reassembler.flush()) this.publish(m);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    for (const s of this.states) this.closeSession(s, false);
    await closed;
  }

  private onSession(session: SmppSession): void {
    const id = this.nextSessionId++;
    const state: SessionState = {
      id,
      session,
      log: this.o.logger.child({ session: id, remote: session.socket.remoteAddress }),
      account: null,
      bindType: null,
      outstanding: 0,
      lastActivity: performance.now(),
      closed: false,
    };
    this.states.add(state);
    session.on("close", () => {
      state.closed = true;
      this.states.delete(state);
    });
    session.on("error", (err: Error) => {
      // The smpp package emits parse failures (bad command_length, truncated body) here
      // and stops reading that socket: answer generic_nack and close.
      state.log.warn({ err: err.message }, "malformed PDU or socket error: closing session");
      this.nackAndClose(state, RINVCMDLEN);
    });
    session.on("pdu", (pdu: SmppPdu) => {
      try {
        state.lastActivity = performance.now();
        this.dispatch(state, pdu);
      } catch (err) {
        state.log.error({ err, command: pdu.command }, "PDU handling failed");
        this.reply(state, pdu, RSYSERR);
      }
    });
  }

  private dispatch(state: SessionState, pdu: SmppPdu): void {
    if (pdu.isResponse()) {
      if (pdu.command === "generic_nack") state.log.warn({ status: pdu.command_status }, "peer sent generic_nack");
      return; // responses to our deliver_sm are matched by the smpp package's callbacks
    }
    switch (pdu.command) {
      case "bind_transmitter":
      case "bind_receiver":
      case "bind_transceiver":
        return this.onBind(state, pdu, pdu.command.slice("bind_".length) as BindType);
      case "enquire_link":
        return this.reply(state, pdu, OK);
      case "unbind":
        this.reply(state, pdu, OK);
        return this.closeSession(state, false);
      case "submit_sm":
      case "data_sm":
        return this.onSubmit(state, pdu);
      case "unknown":
        // smpp builds a generic_nack with ESME_RINVCMDID for an unknown command id.
        state.session.send(pdu.response());
        return;
      default:
        // Known but not offered by this gateway (query_sm, submit_multi, …).
        return this.reply(state, pdu, RINVCMDID);
    }
  }

  private onBind(state: SessionState, pdu: SmppPdu, bindType: BindType): void {
    if (state.account) return this.reply(state, pdu, RALYBND);
    const systemId = String(pdu["system_id"] ?? "");
    const account = this.o.accounts.get(systemId);
    if (!account || account.password !== String(pdu["password"] ?? "")) {
      // The attempt is logged with the system_id only: never the password.
      state.log.warn({ systemId, bindType }, "bind refused: bad credentials");
      this.reply(state, pdu, RBINDFAIL);
      return this.closeSession(state, false);
    }
    state.account = account;
    state.bindType = bindType;
    state.log.info({ systemId, bindType }, "bound");
    state.session.send(pdu.response({ system_id: this.o.gatewayId }));
    if (bindType !== "transmitter") this.onReceiverBound?.();
  }

  private onSubmit(state: SessionState, pdu: SmppPdu): void {
    const account = state.account;
    if (!account || state.bindType === "receiver") return this.reply(state, pdu, RINVBNDSTS);
    if (state.outstanding >= account.window) return this.reply(state, pdu, RTHROTTLED);
    let bucket = this.buckets.get(account.systemId);
    if (!bucket) this.buckets.set(account.systemId, (bucket = new TokenBucket(account.throughputPerSec)));
    if (!bucket.tryTake()) return this.reply(state, pdu, RTHROTTLED);
    let part;
    try {
      part = extractPart(fieldsFromSmppPdu(pdu), { gsmPacking: this.o.gsmPacking ?? "auto" });
    } catch (err) {
      if (err instanceof SmppCodecError) {
        state.log.info({ code: err.code, dataCoding: pdu["data_coding"] }, "submit refused: cannot decode");
        return this.reply(state, pdu, err.code === "unsupported_data_coding" ? RINVDCS : RINVESMCLASS);
      }
      throw err;
    }
    state.outstanding++;
    const meta: PartMeta = { state, pdu, receivedAt: this.now(), part, acked: false };
    const result = this.reassembler.push(part, meta);
    if (result.status === "pending" || result.status === "duplicate") {
      // A part that does not complete its message is answered once held: senders with a
      // window of 1 send the next part only after this answer. The whole message is
      // acknowledged by Kafka before the completing part is answered; a set that cannot
      // be published goes back into the reassembler, so held parts are never dropped.
      state.outstanding--;
      meta.acked = true;
      this.reply(state, pdu, OK, { message_id: randomUUID() });
    }
    for (const m of result.emitted) this.publish(m);
    this.armExpiry();
  }

  private armExpiry(): void {
    const at = this.reassembler.nextExpiryAt();
    if (at === null || at >= this.expiryAt) return;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryAt = at;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      this.expiryAt = Infinity;
      for (const m of this.reassembler.expire()) this.publish(m);
      this.armExpiry();
    }, Math.max(0, at - this.now()) + 5);
    this.expiryTimer.unref();
  }

  private publish(m: AssembledMessage<PartMeta>): void {
    const id = randomUUID();
    const first = m.metas[0]!;
    if (m.partial) {
      this.o.logger.warn({ messageId: id, reason: m.reason, missing: m.missingParts.length, total: m.totalParts }, "publishing incomplete multipart message");
    }
    const done = this.o.router
      .route({
        id,
        account: first.state.account?.systemId ?? "",
        source: m.source,
        destination: m.destination,
        text: m.text,
        dataCoding: m.dataCoding,
        parts: m.receivedParts,
        partial: m.partial,
        receivedAt: first.receivedAt,
      })
      .then(
        (outcome) => {
          const rejected = outcome.kind === "blocked" && outcome.policy === "reject";
          for (const meta of m.metas) {
            if (meta.acked) continue;
            meta.state.outstanding--;
            if (rejected) this.reply(meta.state, meta.pdu, RX_R_APPN);
            else this.reply(meta.state, meta.pdu, OK, { message_id: id });
          }
        },
        (err: unknown) => {
          const full = err instanceof KafkaModuleError && err.code === "queue_full";
          this.o.logger.error({ err, messageId: id }, "Kafka did not accept the message: answering with a temporary error");
          for (const meta of m.metas) {
            if (meta.acked) {
              // Already answered: hold it again until the sender retries the rest.
              for (const e of this.reassembler.push(meta.part, meta).emitted) this.publish(e);
              continue;
            }
            meta.state.outstanding--;
            this.reply(meta.state, meta.pdu, full ? RTHROTTLED : RSYSERR);
          }
          this.armExpiry();
        },
      );
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  private reply(state: SessionState, pdu: SmppPdu, commandStatus: number, fields: Record<string, unknown> = {}): void {
    if (state.closed) return;
    state.session.send(pdu.response(commandStatus === OK ? fields : { command_status: commandStatus }));
  }

  private sweepIdle(): void {
    const now = performance.now();
    for (const state of this.states) {
      if (!state.closed && now - state.lastActivity >= this.o.idleTimeoutMs) {
        state.log.info({ idleMs: this.o.idleTimeoutMs }, "idle timeout: closing session");
        this.closeSession(state, true);
      }
    }
  }

  private nackAndClose(state: SessionState, commandStatus: number): void {
    if (state.closed) return;
    try {
      state.session.send(new smpp.PDU("generic_nack", { command_status: commandStatus, sequence_number: 0 }));
    } catch {
      // the socket may already be gone
    }
    this.closeSession(state, false);
  }

  private closeSession(state: SessionState, sendUnbind: boolean): void {
    if (state.closed) return;
    state.closed = true;
    if (sendUnbind) {
      try {
        state.session.send(new smpp.PDU("unbind", {}));
      } catch {
        // ignore: closing anyway
      }
    }
    state.session.close();
    // A peer that never closes its side must not hold the socket.
    setTimeout(() => state.session.destroy(), 2_000).unref();
  }
}
