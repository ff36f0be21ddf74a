import type { Logger } from "pino";
import { SmppCodecError, extractPart, fieldsFromSmppPdu, loadSmpp, type GsmPacking, type SmppPdu, type SmppSession } from "@spam/smpp-codec";
import type { Answer, MessageIntake } from "./intake.js";
import { closeSession, responseTo } from "./pdu.js";
import type { ReceiverSession } from "./smpp-server.js";

const smpp = loadSmpp({ rawMessages: true });
const E = smpp.errors as Record<string, number>;
const OK = 0;
const RX_T_APPN = E["ESME_RX_T_APPN"] ?? 0x64;
const RX_R_APPN = E["ESME_RX_R_APPN"] ?? 0x66;
const RINVDCS = E["ESME_RINVDCS"] ?? 0x104;
const RINVESMCLASS = E["ESME_RINVESMCLASS"] ?? 0x43;
const RINVCMDID = E["ESME_RINVCMDID"] ?? 0x03;

export interface EsmeClientOptions {
  readonly host: string;
  readonly port: number;
  readonly systemId: string;
  readonly password: string;
  readonly bindMode: "receiver" | "transceiver";
  readonly intake: MessageIntake;
  readonly logger: Logger;
  readonly gsmPacking?: GsmPacking;
  readonly enquireLinkMs?: number;
  readonly reconnectInitialMs?: number;
  readonly reconnectMaxMs?: number;
}

/**
 * ESME role: binds to an upstream SMSC and takes mobile-originated messages
 * from deliver_sm. Each deliver_sm_resp follows the same rule as the server's
 * submit_sm_resp: success only after Kafka acknowledged; Kafka trouble answers
 * ESME_RX_T_APPN so the SMSC retries. Reconnects with exponential backoff.
 */
export class EsmeClient {
  private session: SmppSession | null = null;
  private bound = false;
  private stopping = false;
  private backoffMs: number;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private enquireTimer: NodeJS.Timeout | null = null;
  private readonly log: Logger;
  /** Number of successful binds (for tests and metrics). */
  binds = 0;
  onBound: (() => void) | null = null;

  constructor(private readonly o: EsmeClientOptions) {
    this.backoffMs = o.reconnectInitialMs ?? 500;
    this.log = o.logger.child({ component: "esme-client", upstream: `${o.host}:${o.port}`, systemId: o.systemId });
  }

  get isBound(): boolean {
    return this.bound;
  }

  /** The upstream session for replies (submit_sm), when bound as transceiver. */
  receiver(): ReceiverSession | null {
    if (!this.bound || !this.session || this.o.bindMode !== "transceiver") return null;
    return { systemId: this.o.systemId, session: this.session, command: "submit_sm" };
  }

  start(): void {
    this.stopping = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.enquireTimer) clearInterval(this.enquireTimer);
    const s = this.session;
    if (!s) return;
    await closeSession(s, this.bound);
  }

  private connect(): void {
    const s = smpp.connect({ host: this.o.host, port: this.o.port });
    this.session = s;
    s.on("connect", () => {
      const bind = s[`bind_${this.o.bindMode}`] as (o: object, cb: (pdu: SmppPdu) => void) => void;
      bind.call(s, { system_id: this.o.systemId, password: this.o.password }, (resp) => {
        if (resp.command_status !== OK) {
          this.log.error({ status: resp.command_status }, "upstream bind refused");
          s.close();
          return;
        }
        this.bound = true;
        this.binds++;
        this.backoffMs = this.o.reconnectInitialMs ?? 500;
        this.log.info({ bindMode: this.o.bindMode }, "bound to upstream SMSC");
        const every = this.o.enquireLinkMs ?? 30_000;
        this.enquireTimer = setInterval(() => (s["enquire_link"] as (o: object) => void).call(s, {}), every);
        this.enquireTimer.unref();
        this.onBound?.();
      });
    });
    s.on("pdu", (pdu: SmppPdu) => {
      try {
        this.onPdu(s, pdu);
      } catch (err) {
        this.log.error({ err, command: pdu.command }, "upstream PDU handling failed");
        if (!pdu.isResponse()) s.send(responseTo(pdu, RX_T_APPN));
      }
    });
    s.on("error", (err: Error) => {
      this.log.warn({ err: err.message }, "upstream session error");
      s.destroy();
    });
    s.on("close", () => {
      this.bound = false;
      if (this.enquireTimer) clearInterval(this.enquireTimer);
      this.enquireTimer = null;
      if (this.session === s) this.session = null;
      if (this.stopping) return;
      const delay = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.o.reconnectMaxMs ?? 30_000);
      this.log.warn({ delayMs: delay }, "upstream session closed: reconnecting");
      this.reconnectTimer = setTimeout(() => this.connect(), delay * (0.8 + Math.random() * 0.4));
      this.reconnectTimer.unref();
    });
  }

  private onPdu(s: SmppSession, pdu: SmppPdu): void {
    if (pdu.isResponse()) return;
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
        return this.onDeliver(s, pdu);
      default:
        s.send(responseTo(pdu, RINVCMDID));
    }
  }

  private onDeliver(s: SmppSession, pdu: SmppPdu): void {
    const esm = typeof pdu["esm_class"] === "number" ? pdu["esm_class"] : 0;
    // Message type bits 2–5: delivery receipts and acknowledgements for our own replies, not MO traffic.
    if ((esm & 0x3c) !== 0) {
      s.send(responseTo(pdu));
      return;
    }
    let part;
    try {
      part = extractPart(fieldsFromSmppPdu(pdu), { gsmPacking: this.o.gsmPacking ?? "auto" });
    } catch (err) {
      if (err instanceof SmppCodecError) {
        s.send(responseTo(pdu, err.code === "unsupported_data_coding" ? RINVDCS : RINVESMCLASS));
        return;
      }
      throw err;
    }
    this.o.intake.accept(part, this.o.systemId, (answer: Answer) => {
      if (answer.kind === "accepted") s.send(responseTo(pdu, OK, { message_id: "" }));
      else s.send(responseTo(pdu, answer.kind === "rejected" ? RX_R_APPN : RX_T_APPN));
    });
  }
}
