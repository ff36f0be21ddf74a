import { createRequire } from "node:module";
import type { SmppModule, SmppPdu, SmppSession } from "@spam/smpp-codec";

/**
 * An SMPP 3.4 client as an operator's standard ESME is, on the `smpp` npm package (not this project's own
 * client): it refuses what the specification does not allow before anything goes on the wire, and it
 * reassembles a long deliver_sm (UDH or SAR parts) the way a handset would.
 */
const require = createRequire(import.meta.url);
const smpp = require("smpp") as SmppModule;

/** SMPP 3.4 §5.2: C-Octet Strings, the sizes include the terminating NUL. */
const SMPP34_LIMITS = { system_id: 16, password: 9, system_type: 13 } as const;

export class SmppLimitError extends Error {
  override readonly name = "SmppLimitError";
}

export interface Delivered {
  readonly source: string;
  readonly destination: string;
  readonly text: string;
}

export interface BindOptions {
  readonly host: string;
  readonly port: number;
  readonly systemId: string;
  readonly password: string;
  readonly mode?: "transceiver" | "transmitter" | "receiver";
}

function checkCOctet(field: keyof typeof SMPP34_LIMITS, value: string): void {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new SmppLimitError(`${field} must be printable ASCII`);
  const max = SMPP34_LIMITS[field] - 1;
  if (value.length > max) throw new SmppLimitError(`${field} has ${value.length} characters; SMPP 3.4 allows at most ${max}`);
}

const ucs2 = (text: string): Buffer => Buffer.from(text, "utf16le").swap16();
const decodeText = (dataCoding: number, value: Buffer): string =>
  (dataCoding & 0x0f) === 8 ? Buffer.from(value).swap16().toString("utf16le") : value.toString("latin1");

/** Splits a short_message into its UDH information elements and text, whichever shape the package hands over. */
function unpack(pdu: SmppPdu, field: "short_message" | "message_payload"): { ies: Buffer[]; text: string } | null {
  const value = pdu[field] as { udh?: Buffer[]; message?: unknown } | Buffer | string | undefined;
  const dc = Number(pdu["data_coding"] ?? 0);
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return { ies: [], text: value };
  if (Buffer.isBuffer(value)) {
    if (value.length === 0) return null;
    // The `smpp` package's message filters are process-wide and may be switched off: read the octets as they are.
    if (Number(pdu["esm_class"] ?? 0) & 0x40) {
      const end = 1 + value[0]!;
      const ies: Buffer[] = [];
      for (let i = 1; i + 1 < end; i += 2 + value[i + 1]!) ies.push(value.subarray(i, i + 2 + value[i + 1]!));
      return { ies, text: decodeText(dc, value.subarray(end)) };
    }
    return { ies: [], text: decodeText(dc, value) };
  }
  const m = value.message;
  const text = typeof m === "string" ? m : Buffer.isBuffer(m) ? decodeText(dc, m) : "";
  return text || value.udh?.length ? { ies: value.udh ?? [], text } : null;
}

export class StandardEsme {
  readonly inbox: Delivered[] = [];
  private readonly parts = new Map<string, { total: number; got: Map<number, string> }>();

  private constructor(private readonly session: SmppSession) {
    session.on("pdu", (pdu: SmppPdu) => {
      if (pdu.command === "deliver_sm") {
        session.send(pdu.response());
        this.receive(pdu);
      } else if (pdu.command === "enquire_link") session.send(pdu.response());
    });
    session.on("error", () => undefined);
  }

  /** Binds after checking the credentials against SMPP 3.4's sizes: a longer one never reaches the server. */
  static async bind(o: BindOptions): Promise<StandardEsme> {
    checkCOctet("system_id", o.systemId);
    checkCOctet("password", o.password);
    const session = smpp.connect({ url: `smpp://${o.host}:${o.port}`, auto_enquire_link_period: 10_000 });
    await new Promise<void>((resolve, reject) => {
      session.once("connect", () => resolve());
      session.once("error", reject);
    });
    const command = `bind_${o.mode ?? "transceiver"}`;
    const resp = await new Promise<SmppPdu>((resolve) => (session[command] as (o: object, cb: (r: SmppPdu) => void) => void)({ system_id: o.systemId, password: o.password }, resolve));
    if (resp.command_status !== 0) {
      session.destroy();
      throw new Error(`${command} refused with status 0x${resp.command_status.toString(16)}`);
    }
    return new StandardEsme(session);
  }

  /** submit_sm; UCS-2 unless the text is ASCII; a text longer than one SMS goes in message_payload. */
  async submit(text: string, o: { source: string; destination: string }): Promise<string> {
    const wide = !/^[\x20-\x7e]*$/.test(text);
    const octets = wide ? ucs2(text) : Buffer.from(text, "latin1");
    const body = octets.length > 140 ? { message_payload: octets } : { short_message: octets };
    const resp = await new Promise<SmppPdu>((resolve) =>
      (this.session["submit_sm"] as (o: object, cb: (r: SmppPdu) => void) => void)(
        { source_addr: o.source, source_addr_ton: 1, source_addr_npi: 1, destination_addr: o.destination, data_coding: wide ? 8 : 1, ...body },
        resolve,
      ),
    );
    if (resp.command_status !== 0) throw new Error(`submit_sm refused with status 0x${resp.command_status.toString(16)}`);
    return String(resp["message_id"] ?? "");
  }

  /** Whole messages delivered to a number, in arrival order. */
  deliveredTo(msisdn: string): string[] {
    return this.inbox.filter((m) => m.destination === msisdn).map((m) => m.text);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.session.destroy();
        resolve();
      }, 2_000);
      (this.session["unbind"] as (o: object, cb: () => void) => void)({}, () => {
        clearTimeout(t);
        this.session.close();
        resolve();
      });
    });
  }

  private receive(pdu: SmppPdu): void {
    const source = String(pdu["source_addr"] ?? "");
    const destination = String(pdu["destination_addr"] ?? "");
    const part = unpack(pdu, "short_message") ?? unpack(pdu, "message_payload") ?? { ies: [], text: "" };
    const text = part.text;
    // Concatenation: UDH IE 0x00 (8-bit reference) or 0x08 (16-bit), or the SAR TLVs.
    let concat: { ref: number; total: number; seq: number } | null = null;
    for (const ie of part.ies) {
      if (ie[0] === 0x00 && ie.length >= 5) concat = { ref: ie[2]!, total: ie[3]!, seq: ie[4]! };
      if (ie[0] === 0x08 && ie.length >= 6) concat = { ref: (ie[2]! << 8) | ie[3]!, total: ie[4]!, seq: ie[5]! };
    }
    if (!concat && pdu["sar_total_segments"] !== undefined) {
      concat = { ref: Number(pdu["sar_msg_ref_num"]), total: Number(pdu["sar_total_segments"]), seq: Number(pdu["sar_segment_seqnum"]) };
    }
    if (!concat || concat.total <= 1) {
      this.inbox.push({ source, destination, text });
      return;
    }
    const key = `${source}|${destination}|${concat.ref}`;
    const entry = this.parts.get(key) ?? { total: concat.total, got: new Map<number, string>() };
    entry.got.set(concat.seq, text);
    this.parts.set(key, entry);
    if (entry.got.size === entry.total) {
      this.parts.delete(key);
      this.inbox.push({ source, destination, text: [...entry.got.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t).join("") });
    }
  }
}
