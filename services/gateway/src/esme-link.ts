import type { Logger } from "pino";
import { loadSmpp, type SmppPdu, type SmppSession } from "@spam/smpp-codec";
import { closeSession, responseTo } from "./pdu.js";

const smpp = loadSmpp({ rawMessages: true });
const OK = 0;
const RINVCMDID = (smpp.errors as Record<string, number>)["ESME_RINVCMDID"] ?? 0x03;

export interface EsmeLinkOptions {
  readonly host: string;
  readonly port: number;
  readonly systemId: string;
  readonly password: string;
  readonly bindMode: "transmitter" | "receiver" | "transceiver";
  /** Names the SMSC in the log lines: "upstream" or "downstream". */
  readonly peer: "upstream" | "downstream";
  readonly enquireLinkMs: number;
  readonly reconnectInitialMs: number;
  readonly reconnectMaxMs: number;
  readonly logger: Logger;
  /** A deliver_sm or data_sm from the SMSC; the handler answers it. */
  readonly onDeliver: (s: SmppSession, pdu: SmppPdu) => void;
  /** The handler threw on a request (it is logged): a last chance to answer it. */
  readonly onHandlerError?: (s: SmppSession, pdu: SmppPdu) => void;
  readonly onBound?: () => void;
  /** The session is gone (before a reconnect, or at stop). */
  readonly onClosed?: () => void;
}

/**
 * One SMPP session to an SMSC in the ESME role, kept up: bind, enquire_link,
 * reconnect with exponential backoff (jittered) after any close but a stop.
 * The gateway's client role (esme-client.ts) and each relay link
 * (relay/downstream.ts) are one of these plus what they do with messages.
 */
export class EsmeLink {
  private session: SmppSession | null = null;
  private bound = false;
  private stopping = false;
  private backoffMs: number;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private enquireTimer: NodeJS.Timeout | null = null;
  /** Successful binds so far. */
  binds = 0;

  constructor(private readonly o: EsmeLinkOptions) {
    this.backoffMs = o.reconnectInitialMs;
  }

  get isBound(): boolean {
    return this.bound;
  }

  /** The session while bound, else null. */
  get boundSession(): SmppSession | null {
    return this.bound ? this.session : null;
  }

  start(): void {
    this.stopping = false;
    this.connect();
  }

  /** No reconnect from now on; `drain` (outstanding work) is awaited before the unbind. */
  async stop(drain?: () => Promise<void>): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await drain?.();
    if (this.enquireTimer) clearInterval(this.enquireTimer);
    const s = this.session;
    if (!s) return;
    await closeSession(s, this.bound);
  }

  private connect(): void {
    const log = this.o.logger;
    const s = smpp.connect({ host: this.o.host, port: this.o.port });
    this.session = s;
    s.on("connect", () => {
      const bind = s[`bind_${this.o.bindMode}`] as (o: object, cb: (pdu: SmppPdu) => void) => void;
      bind.call(s, { system_id: this.o.systemId, password: this.o.password }, (resp) => {
        if (resp.command_status !== OK) {
          log.error({ status: resp.command_status }, `${this.o.peer} bind refused`);
          s.close();
          return;
        }
        this.bound = true;
        this.binds++;
        this.backoffMs = this.o.reconnectInitialMs;
        log.info({ bindMode: this.o.bindMode }, `bound to ${this.o.peer} SMSC`);
        this.enquireTimer = setInterval(() => {
          try {
            (s["enquire_link"] as (o: object) => void).call(s, {});
          } catch {
            // the close handler reconnects
          }
        }, this.o.enquireLinkMs);
        this.enquireTimer.unref();
        this.o.onBound?.();
      });
    });
    s.on("pdu", (pdu: SmppPdu) => {
      if (pdu.isResponse()) return;
      try {
        this.onRequest(s, pdu);
      } catch (err) {
        log.error({ err, command: pdu.command }, `${this.o.peer} PDU handling failed`);
        this.o.onHandlerError?.(s, pdu);
      }
    });
    s.on("error", (err: Error) => {
      log.warn({ err: err.message }, `${this.o.peer} session error`);
      s.destroy();
    });
    s.on("close", () => {
      this.bound = false;
      if (this.enquireTimer) clearInterval(this.enquireTimer);
      this.enquireTimer = null;
      if (this.session === s) this.session = null;
      this.o.onClosed?.();
      if (this.stopping) return;
      const delay = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.o.reconnectMaxMs);
      log.warn({ delayMs: delay }, `${this.o.peer} link closed: reconnecting`);
      this.reconnectTimer = setTimeout(() => this.connect(), delay * (0.8 + Math.random() * 0.4));
      this.reconnectTimer.unref();
    });
  }

  private onRequest(s: SmppSession, pdu: SmppPdu): void {
    switch (pdu.command) {
      case "enquire_link":
        s.send(responseTo(pdu));
        return;
      case "unbind":
        s.send(responseTo(pdu));
        s.close();
        return;
      case "deliver_sm":
      case "data_sm":
        return this.o.onDeliver(s, pdu);
      default:
        s.send(responseTo(pdu, RINVCMDID));
    }
  }
}
