import { loadSmpp, type SmppPdu, type SmppSession } from "@spam/smpp-codec";

const smpp = loadSmpp({ rawMessages: true });
const RINVCMDID = (smpp.errors as Record<string, number>)["ESME_RINVCMDID"] ?? 0x03;

/**
 * The answer to a request PDU. Commands without a `_resp` of their own
 * (alert_notification, outbind, unknown ids) and any response the smpp
 * package cannot build get a generic_nack with the request's sequence number:
 * a hostile PDU must never make the answer itself throw.
 */
export function responseTo(pdu: SmppPdu, commandStatus = 0, fields: Record<string, unknown> = {}): SmppPdu {
  const hasResp = pdu.command !== "unknown" && smpp.commands[`${pdu.command}_resp`] !== undefined;
  if (hasResp) {
    try {
      return pdu.response(commandStatus === 0 ? { ...fields } : { command_status: commandStatus });
    } catch {
      // fall through to generic_nack
    }
  }
  return new smpp.PDU("generic_nack", {
    command_status: commandStatus === 0 ? RINVCMDID : commandStatus,
    sequence_number: typeof pdu.sequence_number === "number" ? pdu.sequence_number : 0,
  });
}

/** Ends an ESME session politely (unbind when bound, then close); a peer that does not answer is cut off after `graceMs`. */
export function closeSession(s: SmppSession, bound: boolean, graceMs = 2_000): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      s.destroy();
      resolve();
    }, graceMs);
    s.once("close", () => {
      clearTimeout(t);
      resolve();
    });
    if (bound) (s["unbind"] as (o: object, cb: () => void) => void).call(s, {}, () => s.close());
    else s.close();
  });
}
