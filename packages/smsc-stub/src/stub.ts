import type { Logger } from "pino";
import { decodePdu, fieldsFromSmppPdu, loadSmpp, type SmppPdu, type SmppServer, type SmppSession } from "@spam/smpp-codec";
import type { ConcatInfo } from "@spam/smpp-codec";

const smpp = loadSmpp({ rawMessages: true });
const E = smpp.errors;

/** How the stub answers submit_sm: as a healthy SMSC, as a throttling one, or as one in trouble. */
export type StubMode = "accept" | "throttle" | "fail";

export interface SmscStubOptions {
  readonly host?: string;
  readonly port?: number;
  /** When set, binds must carry these credentials (ESME_RBINDFAIL otherwise). */
  readonly systemId?: string;
  readonly password?: string;
  /** Delay before a delivery receipt goes back (registered_delivery asked for one). */
  readonly receiptDelayMs?: number;
  /** Keep at most this many received submits (oldest dropped) so a long benchmark stays bounded. */
  readonly maxRecorded?: number;
  /** Called for every accepted submit_sm (benchmarks time arrivals without keeping them). */
  readonly onSubmit?: (s: ReceivedSubmit) => void;
  readonly logger: Logger;
}

/** One submit_sm the stub accepted, as it arrived. */
export interface ReceivedSubmit {
  readonly messageId: string;
  /** Epoch milliseconds with sub-millisecond precision (performance.timeOrigin + now). */
  readonly at: number;
  readonly systemId: string;
  readonly source: string;
  readonly destination: string;
  readonly esmClass: number;
  readonly dataCoding: number;
  readonly registeredDelivery: number;
  /** short_message octets exactly as received (UDH included). */
  readonly shortMessage: Buffer;
  readonly sar: { readonly ref: number; readonly total: number; readonly seq: number } | null;
  /** Text of this PDU alone (without its UDH). */
  readonly text: string;
  readonly concat: ConcatInfo | null;
}

export const preciseNow = (): number => performance.timeOrigin + performance.now();

/**
 * A downstream SMSC on loopback: accepts any bind (or the configured one),
 * answers every submit_sm with an id of its own, returns a delivery receipt
 * (DELIVRD) when one is asked for (on the submitting session, or for a
 * transmitter on a receiver of the same system_id), and records what it got. Its mode can be
 * switched at run time to test back-pressure (ESME_RTHROTTLED) and outages
 * (ESME_RSYSERR, or `close()` for a dead link).
 */
export class SmscStub {
  mode: StubMode = "accept";
  private server: SmppServer | null = null;
  private readonly sessions = new Set<SmppSession>();
  /** Bound sessions that take deliver_sm (receiver, transceiver), by system_id: receipts go there. */
  private readonly receivers = new Map<string, Set<SmppSession>>();
  private readonly recorded: ReceivedSubmit[] = [];
  private readonly waiters = new Set<() => void>();
  private next = 1;
  /** Every submit_sm accepted since start, recorded or not. */
  accepted = 0;
  /** Every submit_sm answered with an error (mode throttle or fail). */
  refused = 0;

  constructor(private readonly o: SmscStubOptions) {}

  get port(): number {
    const a = this.server?.address();
    if (!a || typeof a === "string") throw new Error("SMSC stub is not listening");
    return a.port;
  }

  get received(): readonly ReceivedSubmit[] {
    return this.recorded;
  }

  listen(): Promise<void> {
    this.server = smpp.createServer({}, (session) => this.onSession(session));
    return new Promise((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(this.o.port ?? 0, this.o.host ?? "127.0.0.1", () => resolve());
    });
  }

  /** Resolves with the received submits once `match` holds for them (checked on every arrival). */
  async waitFor<T>(check: (received: readonly ReceivedSubmit[]) => T | undefined, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = check(this.recorded);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("SMSC stub: condition not met within the timeout");
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 200));
        this.waiters.add(wake);
      });
    }
  }

  /** Drops every bound link at once (an outage as the relay sees it); the server keeps listening. */
  dropSessions(): void {
    for (const s of this.sessions) s.destroy();
    this.sessions.clear();
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.dropSessions();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onSession(session: SmppSession): void {
    this.sessions.add(session);
    let systemId: string | null = null;
    session.on("close", () => {
      this.sessions.delete(session);
      if (systemId !== null) this.receivers.get(systemId)?.delete(session);
    });
    session.on("error", (err: Error) => {
      this.o.logger.debug({ err: err.message }, "SMSC stub: session error");
      session.destroy();
    });
    session.on("pdu", (pdu: SmppPdu) => {
      if (pdu.isResponse()) return;
      switch (pdu.command) {
        case "bind_transmitter":
        case "bind_receiver":
        case "bind_transceiver": {
          const id = String(pdu["system_id"] ?? "");
          const ok = this.o.systemId === undefined || (id === this.o.systemId && String(pdu["password"] ?? "") === this.o.password);
          if (!ok) {
            session.send(pdu.response({ command_status: E["ESME_RBINDFAIL"] }));
            session.close();
            return;
          }
          systemId = id;
          if (pdu.command !== "bind_transmitter") {
            let set = this.receivers.get(id);
            if (!set) this.receivers.set(id, (set = new Set()));
            set.add(session);
          }
          session.send(pdu.response({ system_id: "smsc-stub" }));
          return;
        }
        case "enquire_link":
          session.send(pdu.response());
          return;
        case "unbind":
          session.send(pdu.response());
          session.close();
          return;
        case "submit_sm":
          if (systemId === null) {
            session.send(pdu.response({ command_status: E["ESME_RINVBNDSTS"] }));
            return;
          }
          this.onSubmit(session, pdu, systemId);
          return;
        default:
          session.send(pdu.response({ command_status: E["ESME_RINVCMDID"] }));
      }
    });
  }

  private onSubmit(session: SmppSession, pdu: SmppPdu, systemId: string): void {
    if (this.mode !== "accept") {
      this.refused++;
      session.send(pdu.response({ command_status: this.mode === "throttle" ? E["ESME_RTHROTTLED"] : E["ESME_RSYSERR"] }));
      return;
    }
    const at = preciseNow();
    const messageId = `s${(this.next++).toString(16)}`;
    const fields = fieldsFromSmppPdu(pdu);
    let text = "";
    let concat: ConcatInfo | null = null;
    try {
      ({ text, concat } = decodePdu(fields));
    } catch {
      // Recorded anyway: the stub is a witness of what arrived, not a judge.
    }
    const registeredDelivery = typeof pdu["registered_delivery"] === "number" ? pdu["registered_delivery"] : 0;
    const submit: ReceivedSubmit = {
      messageId,
      at,
      systemId,
      source: fields.source,
      destination: fields.destination,
      esmClass: fields.esmClass,
      dataCoding: fields.dataCoding,
      registeredDelivery,
      shortMessage: Buffer.from(fields.shortMessage),
      sar:
        fields.sarMsgRefNum !== undefined && fields.sarTotalSegments !== undefined && fields.sarSegmentSeqnum !== undefined
          ? { ref: fields.sarMsgRefNum, total: fields.sarTotalSegments, seq: fields.sarSegmentSeqnum }
          : null,
      text,
      concat,
    };
    this.accepted++;
    this.o.onSubmit?.(submit);
    if ((this.o.maxRecorded ?? 100_000) > 0) {
      this.recorded.push(submit);
      if (this.recorded.length > (this.o.maxRecorded ?? 100_000)) this.recorded.shift();
    }
    session.send(pdu.response({ message_id: messageId }));
    for (const w of [...this.waiters]) w();
    if ((registeredDelivery & 0x03) !== 0) {
      setTimeout(() => this.sendReceipt(session, submit), this.o.receiptDelayMs ?? 5).unref();
    }
  }

  /** To the session that submitted when it receives, else to a receiving session of the same system_id. */
  private sendReceipt(submitter: SmppSession, s: ReceivedSubmit): void {
    const bound = this.receivers.get(s.systemId);
    const session = bound?.has(submitter) ? submitter : bound?.values().next().value;
    if (!session || !this.sessions.has(session)) return;
    const date = smppDate(new Date());
    const body = `id:${s.messageId} sub:001 dlvrd:001 submit date:${date} done date:${date} stat:DELIVRD err:000 text:`;
    try {
      session.send(
        new smpp.PDU("deliver_sm", {
          source_addr: s.destination,
          destination_addr: s.source,
          esm_class: 0x04,
          data_coding: 0,
          short_message: Buffer.from(body, "latin1"),
          receipted_message_id: s.messageId,
          message_state: 2,
        }),
      );
    } catch (err) {
      this.o.logger.debug({ err: (err as Error).message }, "SMSC stub: receipt not sent");
    }
  }
}

/** SMPP receipt date: YYMMDDhhmm. */
function smppDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}
