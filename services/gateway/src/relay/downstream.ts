import type { Logger } from "pino";
import { loadSmpp, type SmppPdu, type SmppSession } from "@spam/smpp-codec";
import { EsmeLink } from "../esme-link.js";
import { responseTo } from "../pdu.js";
import { TokenBucket } from "../throttle.js";
import type { SmscSpec } from "./routes.js";

const smpp = loadSmpp({ rawMessages: true });
const E = smpp.errors;
const OK = 0;
/** Downstream answers that mean "later": passed upstream as ESME_RTHROTTLED. */
const THROTTLE_STATUSES = new Set([E["ESME_RTHROTTLED"], E["ESME_RMSGQFUL"]]);
/** A submit_sm the downstream never answers is given up after this long (the link is then suspect). */
const SUBMIT_TIMEOUT_MS = 10_000;

/** The parameters of one submit_sm as forwarded (the upstream PDU's message fields, UDH/SAR intact). */
export type WirePdu = Readonly<Record<string, unknown>>;

export type SubmitOutcome =
  | { readonly ok: true; readonly smsc: string; readonly ids: readonly string[] }
  /** throttled: window full, over throughput or the SMSC said so; unavailable: no bound link, link lost, SMSC error. */
  | { readonly ok: false; readonly reason: "throttled" | "unavailable"; readonly smsc: string | null }
  /** The SMSC refused the message itself (bad address…): its status goes back upstream. */
  | { readonly ok: false; readonly reason: "rejected"; readonly smsc: string; readonly status: number };

/** A delivery receipt the downstream sent: its id for our message, and the PDU to pass on. */
export interface DownstreamReceipt {
  readonly smsc: string;
  readonly downstreamId: string;
  readonly pdu: SmppPdu;
}

interface Outstanding {
  readonly timer: NodeJS.Timeout;
  readonly fail: () => void;
}

/**
 * One bind to one downstream SMSC as an ESME: its own window and throughput,
 * enquire_link, reconnect with exponential backoff. Whatever is outstanding when
 * the link drops is answered `unavailable` at once, so the upstream hears a
 * temporary error instead of waiting. A transmitter with `receiver` set keeps a
 * receiver bind beside it, for the receipts only.
 */
export class DownstreamLink {
  private readonly link: EsmeLink;
  private readonly bucket: TokenBucket;
  private readonly outstanding = new Set<Outstanding>();
  private readonly log: Logger;
  private drained: (() => void) | null = null;
  /** The receiver bind beside a transmitter (receipts only), when the spec asks for one. */
  private readonly rx: DownstreamLink | null;

  constructor(
    readonly spec: SmscSpec,
    logger: Logger,
    private readonly onReceipt: (r: DownstreamReceipt) => void,
    private readonly mode: "transmitter" | "transceiver" | "receiver" = spec.bindMode,
  ) {
    this.bucket = new TokenBucket(spec.throughputPerSec);
    this.log = logger.child({ component: "downstream", smsc: spec.name, ...(mode === "receiver" ? { bind: "receiver" } : {}) });
    this.link = new EsmeLink({
      host: spec.host,
      port: spec.port,
      systemId: spec.systemId,
      password: spec.password,
      bindMode: mode,
      peer: "downstream",
      enquireLinkMs: 30_000,
      reconnectInitialMs: 250,
      reconnectMaxMs: spec.reconnectMaxMs,
      logger: this.log,
      onDeliver: (s, pdu) => this.onDeliver(s, pdu),
      // Nothing answers these any more: the upstream gets a temporary error and resends.
      onClosed: () => {
        for (const o of [...this.outstanding]) o.fail();
      },
    });
    this.rx = spec.receiver && mode === "transmitter" ? new DownstreamLink(spec, logger, onReceipt, "receiver") : null;
  }

  get isBound(): boolean {
    return this.link.isBound;
  }

  get binds(): number {
    return this.link.binds;
  }

  /** The receiver bind beside this transmitter is up. */
  get receiverBound(): boolean {
    return this.rx?.isBound ?? false;
  }

  /** Room left in the window. */
  get free(): number {
    return this.link.isBound && this.mode !== "receiver" ? this.spec.window - this.outstanding.size : 0;
  }

  start(): void {
    this.link.start();
    this.rx?.start();
  }

  /** Waits for outstanding submits (bounded), then unbinds; the receiver last, so receipts keep coming meanwhile. */
  async stop(): Promise<void> {
    await this.link.stop(async () => {
      if (this.outstanding.size > 0) {
        await Promise.race([new Promise<void>((r) => (this.drained = r)), new Promise((r) => setTimeout(r, SUBMIT_TIMEOUT_MS))]);
      }
    });
    await this.rx?.stop();
  }

  /**
   * Sends every part of one message, in order, on this bind. The caller checked `free` for all
   * of them, so a message is not cut in two by its own window; tokens are taken up front.
   */
  submit(pdus: readonly WirePdu[]): Promise<SubmitOutcome> {
    const s = this.link.boundSession;
    if (!s) return Promise.resolve({ ok: false, reason: "unavailable", smsc: this.spec.name });
    if (this.free < pdus.length) return Promise.resolve({ ok: false, reason: "throttled", smsc: this.spec.name });
    for (let i = 0; i < pdus.length; i++) {
      if (!this.bucket.tryTake()) return Promise.resolve({ ok: false, reason: "throttled", smsc: this.spec.name });
    }
    return Promise.all(pdus.map((p) => this.submitOne(s, p))).then((answers): SubmitOutcome => {
      const bad = answers.find((a) => a.status !== OK);
      if (!bad) return { ok: true, smsc: this.spec.name, ids: answers.map((a) => a.id) };
      if (bad.status === null || bad.status === E["ESME_RSYSERR"]) return { ok: false, reason: "unavailable", smsc: this.spec.name };
      if (THROTTLE_STATUSES.has(bad.status)) return { ok: false, reason: "throttled", smsc: this.spec.name };
      return { ok: false, reason: "rejected", smsc: this.spec.name, status: bad.status };
    });
  }

  private submitOne(s: SmppSession, fields: WirePdu): Promise<{ status: number | null; id: string }> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (status: number | null, id: string) => {
        if (done) return;
        done = true;
        clearTimeout(entry.timer);
        this.outstanding.delete(entry);
        if (this.outstanding.size === 0) this.drained?.();
        resolve({ status, id });
      };
      const entry: Outstanding = {
        timer: setTimeout(() => finish(null, ""), SUBMIT_TIMEOUT_MS),
        fail: () => finish(null, ""),
      };
      this.outstanding.add(entry);
      try {
        (s["submit_sm"] as (o: object, cb: (pdu: SmppPdu) => void) => void).call(s, { ...fields }, (resp) =>
          finish(resp.command_status, String(resp["message_id"] ?? "")),
        );
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, "submit_sm could not be sent");
        finish(null, "");
      }
    });
  }

  private onDeliver(s: SmppSession, pdu: SmppPdu): void {
    s.send(responseTo(pdu));
    const esm = typeof pdu["esm_class"] === "number" ? pdu["esm_class"] : 0;
    if ((esm & 0x3c) === 0) return; // MO traffic from downstream is not ours to relay
    const id = receiptedId(pdu);
    if (id) this.onReceipt({ smsc: this.spec.name, downstreamId: id, pdu });
  }
}

/** The downstream id a receipt is about: the receipted_message_id TLV, else `id:` in its text. */
function receiptedId(pdu: SmppPdu): string | null {
  const tlv = pdu["receipted_message_id"];
  if (typeof tlv === "string" && tlv.length > 0) return tlv.slice(0, 65);
  const sm = pdu["short_message"];
  const text = Buffer.isBuffer(sm) ? sm.subarray(0, 200).toString("latin1") : typeof sm === "string" ? sm.slice(0, 200) : "";
  const at = text.indexOf("id:");
  if (at < 0) return null;
  let end = at + 3;
  while (end < text.length && end < at + 3 + 65 && text[end] !== " ") end++;
  return end > at + 3 ? text.slice(at + 3, end) : null;
}

/** The links of one route: a message goes to the bound link with the most room that can take all its parts. */
export class RouteLinks {
  constructor(
    readonly route: string,
    readonly links: readonly DownstreamLink[],
  ) {}

  submit(pdus: readonly WirePdu[]): Promise<SubmitOutcome> {
    let best: DownstreamLink | null = null;
    let anyBound = false;
    for (const l of this.links) {
      if (!l.isBound) continue;
      anyBound = true;
      if (l.free >= pdus.length && (!best || l.free > best.free)) best = l;
    }
    if (!best) return Promise.resolve({ ok: false, reason: anyBound ? "throttled" : "unavailable", smsc: null });
    return best.submit(pdus);
  }
}
