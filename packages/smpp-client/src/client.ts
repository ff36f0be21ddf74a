import { chooseDataCoding, decodePdu, fieldsFromSmppPdu, loadSmpp, splitMessage, type SmppPdu, type SmppSession } from "@spam/smpp-codec";

export class SmppClientError extends Error {
  override readonly name = "SmppClientError";
  constructor(
    readonly commandStatus: number,
    message: string,
  ) {
    super(message);
  }
}

export interface EsmeOptions {
  readonly host: string;
  readonly port: number;
  readonly systemId: string;
  readonly password: string;
  readonly bindAs?: "transceiver" | "transmitter" | "receiver";
}

export interface SubmitOptions {
  readonly source: string;
  readonly destination: string;
  /** Defaults to GSM 7-bit when the text fits the alphabet, else UCS-2. */
  readonly dataCoding?: number;
  /** How a long text is split: UDH with 8/16-bit reference or SAR TLVs. */
  readonly concat?: "udh8" | "udh16" | "sar";
  readonly reference?: number;
  /** SMPP registered_delivery: 1 asks for a delivery receipt. Default 0. */
  readonly registeredDelivery?: number;
}

export interface SubmitResult {
  /** One message id per PDU sent (one per part of a long text). */
  readonly messageIds: string[];
}

export interface DeliveredMessage {
  readonly source: string;
  readonly destination: string;
  readonly text: string;
  readonly esmClass: number;
  /** Delivery receipts: the id of the message the receipt is about (receipted_message_id). */
  readonly receiptedMessageId: string | null;
}

const smpp = loadSmpp({ rawMessages: true });
export const SMPP_STATUS = smpp.errors;

/** An ESME session: bind, submit (awaiting each submit_sm_resp), receive deliver_sm. */
export class EsmeClient {
  private readonly delivered: DeliveredMessage[] = [];
  private readonly waiters: Array<() => void> = [];

  private constructor(private readonly session: SmppSession) {
    session.on("deliver_sm", (pdu: SmppPdu) => {
      const { text } = decodePdu(fieldsFromSmppPdu(pdu));
      const esmClass = typeof pdu["esm_class"] === "number" ? pdu["esm_class"] : 0;
      const receipted = pdu["receipted_message_id"];
      this.delivered.push({
        source: String(pdu["source_addr"] ?? ""),
        destination: String(pdu["destination_addr"] ?? ""),
        text,
        esmClass,
        receiptedMessageId: typeof receipted === "string" && receipted !== "" ? receipted : null,
      });
      session.send(pdu.response());
      for (const w of this.waiters.splice(0)) w();
    });
    session.on("enquire_link", (pdu: SmppPdu) => session.send(pdu.response()));
  }

  static connect(options: EsmeOptions, timeoutMs = 10_000): Promise<EsmeClient> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`SMPP bind to ${options.host}:${options.port} timed out`)), timeoutMs);
      const session = smpp.connect({ url: `smpp://${options.host}:${options.port}`, auto_enquire_link_period: 0 }, () => {
        const bind = `bind_${options.bindAs ?? "transceiver"}`;
        (session[bind] as (o: Record<string, unknown>, cb: (pdu: SmppPdu) => void) => void)(
          { system_id: options.systemId, password: options.password },
          (pdu) => {
            clearTimeout(timer);
            if (pdu.command_status === 0) resolve(new EsmeClient(session));
            else {
              session.close();
              reject(new SmppClientError(pdu.command_status, `bind failed with status 0x${pdu.command_status.toString(16)}`));
            }
          },
        );
      });
      session.on("error", (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Sends a (possibly multipart) text; resolves when every part was answered with success. */
  async submit(text: string, options: SubmitOptions): Promise<SubmitResult> {
    const dataCoding = options.dataCoding ?? chooseDataCoding(text);
    const parts = splitMessage(text, { dataCoding, concat: options.concat ?? "udh8", reference: options.reference ?? 1 });
    const messageIds = await Promise.all(
      parts.map(
        (part) =>
          new Promise<string>((resolve, reject) => {
            (this.session["submit_sm"] as (o: Record<string, unknown>, cb: (pdu: SmppPdu) => void) => void)(
              { source_addr: options.source, destination_addr: options.destination, registered_delivery: options.registeredDelivery ?? 0, ...part },
              (resp) => {
                if (resp.command_status === 0) resolve(String(resp["message_id"] ?? ""));
                else reject(new SmppClientError(resp.command_status, `submit_sm failed with status 0x${resp.command_status.toString(16)}`));
              },
            );
          }),
      ),
    );
    return { messageIds };
  }

  /** Messages the gateway delivered to this session (replies to reporters). */
  get inbox(): readonly DeliveredMessage[] {
    return this.delivered;
  }

  /** Waits until a delivered message matches, or fails after the timeout. */
  async waitForDelivery(match: (m: DeliveredMessage) => boolean, timeoutMs = 10_000): Promise<DeliveredMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.delivered.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no matching deliver_sm within the timeout");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Unbinds and closes the connection. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => resolve();
      try {
        (this.session["unbind"] as (o: Record<string, unknown>, cb: () => void) => void)({}, () => this.session.close(done));
        setTimeout(() => this.session.destroy(done), 1_000).unref();
      } catch {
        this.session.destroy(done);
      }
    });
  }
}
