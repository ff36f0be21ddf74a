import type { Logger } from "pino";
import { SmppCodecError, extractPart, fieldsFromSmppPdu, loadSmpp, type GsmPacking, type SmppPdu, type SmppSession } from "@spam/smpp-codec";
import type { Answer, MessageIntake } from "./intake.js";
import { EsmeLink } from "./esme-link.js";
import { responseTo } from "./pdu.js";
import type { ReceiverSession } from "./smpp-server.js";

const smpp = loadSmpp({ rawMessages: true });
const E = smpp.errors as Record<string, number>;
const OK = 0;
const RX_T_APPN = E["ESME_RX_T_APPN"] ?? 0x64;
const RX_R_APPN = E["ESME_RX_R_APPN"] ?? 0x66;
const RINVDCS = E["ESME_RINVDCS"] ?? 0x104;
const RINVESMCLASS = E["ESME_RINVESMCLASS"] ?? 0x43;

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
 * ESME_RX_T_APPN so the SMSC retries. The session itself (bind, enquire_link,
 * reconnect with backoff) is an EsmeLink.
 */
export class EsmeClient {
  private readonly link: EsmeLink;
  onBound: (() => void) | null = null;

  constructor(private readonly o: EsmeClientOptions) {
    this.link = new EsmeLink({
      host: o.host,
      port: o.port,
      systemId: o.systemId,
      password: o.password,
      bindMode: o.bindMode,
      peer: "upstream",
      enquireLinkMs: o.enquireLinkMs ?? 30_000,
      reconnectInitialMs: o.reconnectInitialMs ?? 500,
      reconnectMaxMs: o.reconnectMaxMs ?? 30_000,
      logger: o.logger.child({ component: "esme-client", upstream: `${o.host}:${o.port}`, systemId: o.systemId }),
      onDeliver: (s, pdu) => this.onDeliver(s, pdu),
      onHandlerError: (s, pdu) => s.send(responseTo(pdu, RX_T_APPN)),
      onBound: () => this.onBound?.(),
    });
  }

  get isBound(): boolean {
    return this.link.isBound;
  }

  /** Number of successful binds (for tests and metrics). */
  get binds(): number {
    return this.link.binds;
  }

  /** The upstream session for replies (submit_sm), when bound as transceiver. */
  receiver(): ReceiverSession | null {
    const session = this.link.boundSession;
    if (!session || this.o.bindMode !== "transceiver") return null;
    return { systemId: this.o.systemId, session, command: "submit_sm" };
  }

  start(): void {
    this.link.start();
  }

  stop(): Promise<void> {
    return this.link.stop();
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
