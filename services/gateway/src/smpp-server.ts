import type { Logger } from "pino";
import {
  SmppCodecError,
  corkUntilNextTick,
  extractPart,
  fieldsFromSmppPdu,
  loadSmpp,
  type GsmPacking,
  type SmppPdu,
  type SmppServer,
  type SmppSession,
} from "@spam/smpp-codec";
import type { Account } from "./accounts.js";
import type { Answer, MessageIntake } from "./intake.js";
import { responseTo } from "./pdu.js";
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
  readonly intake: MessageIntake;
  readonly logger: Logger;
  readonly idleTimeoutMs: number;
  readonly gsmPacking?: GsmPacking;
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

/** Receivers a reply can be delivered through. */
export interface ReceiverSession {
  readonly systemId: string;
  readonly session: SmppSession;
  /** deliver_sm towards a bound ESME (server role), submit_sm towards an upstream SMSC (client role). */
  readonly command: "deliver_sm" | "submit_sm";
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
  private idleSweep: NodeJS.Timeout | null = null;
  private nextSessionId = 1;
  private rr = 0;
  /** Called when a receiver binds (the reply dispatcher flushes what waited for one). */
  onReceiverBound: (() => void) | null = null;

  constructor(private readonly o: SmppServerOptions) {}

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
        list.push({ systemId: s.account.systemId, session: s.session, command: "deliver_sm" });
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
    if (this.idleSweep) clearInterval(this.idleSweep);
    await this.o.intake.close();
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
        return this.reply(state, pdu, RINVCMDID); // generic_nack: unknown command id
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
    this.reply(state, pdu, OK, { system_id: this.o.gatewayId });
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
    let answered = false;
    this.o.intake.accept(part, account.systemId, (answer: Answer) => {
      if (answered) return;
      answered = true;
      state.outstanding--;
      if (answer.kind === "accepted") this.reply(state, pdu, OK, { message_id: answer.messageId });
      else if (answer.kind === "rejected") this.reply(state, pdu, RX_R_APPN);
      else this.reply(state, pdu, answer.throttled ? RTHROTTLED : RSYSERR);
    });
  }

  private reply(state: SessionState, pdu: SmppPdu, commandStatus: number, fields: Record<string, unknown> = {}): void {
    if (state.closed) return;
    try {
      corkUntilNextTick(state.session);
      state.session.send(responseTo(pdu, commandStatus, fields));
    } catch (err) {
      state.log.warn({ err: (err as Error).message, command: pdu.command }, "could not answer PDU: closing session");
      this.closeSession(state, false);
    }
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
