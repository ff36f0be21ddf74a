import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { RawMessage } from "@spam/contracts";
import { decodePdu, fieldsFromSmppPdu, loadSmpp, type SmppPdu, type SmppServer, type SmppSession } from "@spam/smpp-codec";

export interface SmppServerOptions {
  readonly host: string;
  readonly port: number;
  readonly gatewayId: string;
  readonly accounts: ReadonlyMap<string, string>;
  readonly logger: Logger;
  /** Resolves once the message is durably on Kafka; rejects if it is not. */
  readonly publish: (message: RawMessage) => Promise<void>;
}

const smpp = loadSmpp({ rawMessages: true });

/**
 * SMSC-role server. A submit_sm is answered with success only after `publish`
 * resolved (the broker acknowledged it); otherwise with a system error so the
 * sender retries: the gateway never accepts and drops.
 */
export class GatewaySmppServer {
  private server: SmppServer | null = null;
  private readonly sessions = new Set<SmppSession>();

  constructor(private readonly options: SmppServerOptions) {}

  get address(): { port: number } {
    const address = this.server?.address();
    if (!address || typeof address === "string") throw new Error("server is not listening");
    return { port: address.port };
  }

  listen(): Promise<void> {
    this.server = smpp.createServer({}, (session) => this.onSession(session));
    return new Promise((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(this.options.port, this.options.host, () => resolve());
    });
  }

  /** Stops accepting connections and closes sessions (after their pending responses). */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const session of this.sessions) session.close();
    });
  }

  private onSession(session: SmppSession): void {
    this.sessions.add(session);
    const log = this.options.logger.child({ remote: session.socket.remoteAddress });
    let account: string | null = null;
    session.on("close", () => this.sessions.delete(session));
    session.on("error", (err: Error) => log.warn({ err }, "session error"));
    const onBind = (pdu: SmppPdu) => {
      const systemId = String(pdu["system_id"] ?? "");
      const expected = this.options.accounts.get(systemId);
      if (expected === undefined || expected !== String(pdu["password"] ?? "")) {
        log.warn({ systemId, command: pdu.command }, "bind refused: bad credentials");
        session.send(pdu.response({ command_status: smpp.errors["ESME_RBINDFAIL"] }));
        session.close();
        return;
      }
      account = systemId;
      log.info({ systemId, command: pdu.command }, "bound");
      session.send(pdu.response({ system_id: this.options.gatewayId }));
    };
    session.on("bind_transceiver", onBind);
    session.on("bind_transmitter", onBind);
    session.on("bind_receiver", onBind);
    session.on("enquire_link", (pdu: SmppPdu) => session.send(pdu.response()));
    session.on("unbind", (pdu: SmppPdu) => {
      session.send(pdu.response());
      session.close();
    });
    session.on("submit_sm", (pdu: SmppPdu) => {
      if (account === null) {
        session.send(pdu.response({ command_status: smpp.errors["ESME_RINVBNDSTS"] }));
        return;
      }
      const id = randomUUID();
      let message: RawMessage;
      try {
        const fields = fieldsFromSmppPdu(pdu);
        const { text } = decodePdu(fields);
        message = {
          v: 1,
          id,
          receivedAt: Date.now(),
          gatewayId: this.options.gatewayId,
          account,
          source: fields.source,
          destination: fields.destination,
          text,
          dataCoding: fields.dataCoding,
          parts: 1,
          partial: false,
        };
      } catch (err) {
        log.warn({ err }, "submit_sm could not be decoded");
        session.send(pdu.response({ command_status: smpp.errors["ESME_RINVPARLEN"] }));
        return;
      }
      this.options.publish(message).then(
        () => session.send(pdu.response({ message_id: id })),
        (err: unknown) => {
          log.error({ err, messageId: id }, "Kafka did not accept the message: answering with a temporary error");
          session.send(pdu.response({ command_status: smpp.errors["ESME_RSYSERR"] }));
        },
      );
    });
  }
}
