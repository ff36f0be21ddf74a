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
import { randomBytes } from "node:crypto";
import { authorizeSubmit, type Account, type SubmitRefusal } from "./accounts.js";
import { BindGuard, type BindGuardOptions } from "./bind-guard.js";
import type { Answer, MessageIntake } from "./intake.js";
import { verifyPassword, type PasswordHash } from "./passwords.js";
import { responseTo } from "./pdu.js";
import { TokenBucket } from "./throttle.js";
import { receiptFor, wireFromPdu } from "./relay/wire.js";

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
const RINVSRCADR = status("ESME_RINVSRCADR");
const RINVDSTADR = status("ESME_RINVDSTADR");

/** Answers to refused submits (gateway README): the destination is not one this account may use, or the source is not. */
const SUBMIT_REFUSAL_STATUS: Record<SubmitRefusal, number> = {
  no_report_capability: RINVDSTADR,
  no_traffic_capability: RINVDSTADR,
  source_out_of_range: RINVSRCADR,
};

/** What the gateway refuses, as counted (`spam_smpp_refused_total{reason}`). */
export type RefusalReason =
  | SubmitRefusal
  | "bind_failed"
  | "bind_backoff"
  | "bind_busy"
  | "account_session_cap"
  | "session_cap"
  | "unbound_cap"
  | "bind_timeout"
  | "pdu_before_bind";

/** PDUs other than a bind an unbound socket may send before it is closed. */
const MAX_PDUS_BEFORE_BIND = 8;
/**
 * Password checks (scrypt, on the libuv pool) running at once from one address and in all. A
 * socket that binds and hangs up at once must not queue unbounded work ahead of everyone's binds.
 */
const MAX_BINDS_IN_FLIGHT_PER_ADDRESS = 4;

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
  /** Report short codes: submits to them need the `report` capability. */
  readonly isReportDestination: (destination: string) => boolean;
  /** An unbound socket is closed this long after it connected. */
  readonly bindTimeoutMs?: number;
  /** Sockets (bound or not) across the gateway; more are closed at once. */
  readonly maxSessions?: number;
  /** Sockets not (yet) bound; more are closed at once. */
  readonly maxUnbound?: number;
  readonly bindBackoff?: Omit<BindGuardOptions, "now">;
  /** Password checks at once across the gateway; more binds are refused (ESME_RBINDFAIL) until one ends. */
  readonly maxBindsInFlight?: number;
  /** Relay mode: keep each submit's wire fields for forwarding (relay/wire.ts). */
  readonly relay?: boolean;
  /** Counts every refusal (account "-" when no configured account is known). */
  readonly onRefused?: (reason: RefusalReason, account: string) => void;
}

interface SessionState {
  readonly id: number;
  readonly session: SmppSession;
  readonly log: Logger;
  readonly remote: string;
  readonly connectedAt: number;
  account: Account | null;
  bindType: BindType | null;
  /** A bind is being verified (scrypt runs off the event loop). */
  binding: boolean;
  pdusBeforeBind: number;
  /** submit_sm received and not yet answered. */
  outstanding: number;
  /** performance.now() of the last PDU after bind; a server-wide sweep closes idle sessions (no timer per PDU). */
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
  private readonly guard: BindGuard;
  /** Unknown system_ids are checked against this, at the same cost as a real account, so timing does not tell them apart. */
  private readonly decoy: PasswordHash;
  private readonly refusalLog = new Map<string, { last: number; suppressed: number }>();
  private bindsInFlight = 0;
  private readonly bindsInFlightByAddress = new Map<string, number>();
  /** Called when a receiver binds (the reply dispatcher flushes what waited for one). */
  onReceiverBound: (() => void) | null = null;

  constructor(private readonly o: SmppServerOptions) {
    this.guard = new BindGuard(o.bindBackoff ?? { failuresBeforeBackoff: 3, baseMs: 1_000, maxMs: 300_000, maxAddresses: 10_000 });
    const costliest = [...o.accounts.values()].map((a) => a.passwordHash).sort((a, b) => b.logN - a.logN)[0];
    this.decoy = { logN: costliest?.logN ?? 15, r: costliest?.r ?? 8, p: costliest?.p ?? 1, salt: randomBytes(16), key: randomBytes(32) };
  }

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
    const period = Math.min(1_000, this.o.idleTimeoutMs / 4, this.bindTimeoutMs / 4);
    this.idleSweep = setInterval(() => this.sweepIdle(), Math.max(10, period));
    this.idleSweep.unref();
    return new Promise((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(this.o.port, this.o.host, () => resolve());
    });
  }

  /**
   * Bound receiver/transceiver sessions of reply links (accounts with `reply`) that
   * serve the recipient (their ranges), rotated so replies spread over them. No
   * other account ever receives a reply: replies carry reporters' numbers.
   */
  receivers(recipient?: string): ReceiverSession[] {
    const list: ReceiverSession[] = [];
    for (const s of this.states) {
      if (
        !s.closed &&
        s.account?.capabilities.has("reply") &&
        (s.bindType === "receiver" || s.bindType === "transceiver") &&
        (recipient === undefined || s.account.sourceRanges.matches(recipient))
      ) {
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

  private get bindTimeoutMs(): number {
    return this.o.bindTimeoutMs ?? 10_000;
  }

  private onSession(session: SmppSession): void {
    const remote = session.socket.remoteAddress ?? "unknown";
    // Caps first: a flood of sockets must cost nothing but the accept.
    let unbound = 0;
    for (const s of this.states) if (!s.closed && !s.account) unbound++;
    const over: RefusalReason | null =
      this.states.size >= (this.o.maxSessions ?? 1_000) ? "session_cap" : unbound >= (this.o.maxUnbound ?? 64) ? "unbound_cap" : null;
    if (over) {
      this.refused(over, "-", this.o.logger, { remote });
      session.destroy();
      return;
    }
    const id = this.nextSessionId++;
    const now = performance.now();
    const state: SessionState = {
      id,
      session,
      log: this.o.logger.child({ session: id, remote }),
      remote,
      connectedAt: now,
      account: null,
      bindType: null,
      binding: false,
      pdusBeforeBind: 0,
      outstanding: 0,
      lastActivity: now,
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
        this.dispatch(state, pdu);
      } catch (err) {
        state.log.error({ err, command: pdu.command }, "PDU handling failed");
        this.reply(state, pdu, RSYSERR);
      }
    });
  }

  private dispatch(state: SessionState, pdu: SmppPdu): void {
    if (!state.account) return this.dispatchUnbound(state, pdu);
    state.lastActivity = performance.now();
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

  /**
   * Before bind only a bind is served. Everything else is answered
   * ESME_RINVBNDSTS and refreshes no timer, so an unauthenticated socket lives
   * at most the bind timeout and a few PDUs.
   */
  private dispatchUnbound(state: SessionState, pdu: SmppPdu): void {
    if (pdu.command === "bind_transmitter" || pdu.command === "bind_receiver" || pdu.command === "bind_transceiver") {
      return this.onBind(state, pdu, pdu.command.slice("bind_".length) as BindType);
    }
    if (pdu.isResponse()) return;
    this.refused("pdu_before_bind", "-", state.log, { command: pdu.command });
    this.reply(state, pdu, RINVBNDSTS);
    if (++state.pdusBeforeBind >= MAX_PDUS_BEFORE_BIND) this.closeSession(state, false);
  }

  private onBind(state: SessionState, pdu: SmppPdu, bindType: BindType): void {
    if (state.account) return this.reply(state, pdu, RALYBND);
    if (state.binding) return this.reply(state, pdu, RINVBNDSTS);
    // Bounded before use: the smpp package does not enforce SMPP's field lengths.
    const systemId = String(pdu["system_id"] ?? "").slice(0, 64);
    const password = String(pdu["password"] ?? "").slice(0, 64);
    const account = this.o.accounts.get(systemId);
    const label = account ? systemId : "-";
    const waitMs = this.guard.refusedFor(state.remote, systemId, account !== undefined);
    if (waitMs > 0) {
      // Refused without looking at the password, so guessing during the backoff learns nothing.
      this.refused("bind_backoff", label, state.log, { systemId: label, waitMs });
      this.reply(state, pdu, RBINDFAIL);
      return this.closeSession(state, false);
    }
    const fromAddress = this.bindsInFlightByAddress.get(state.remote) ?? 0;
    if (this.bindsInFlight >= (this.o.maxBindsInFlight ?? 16) || fromAddress >= MAX_BINDS_IN_FLIGHT_PER_ADDRESS) {
      this.refused("bind_busy", label, state.log, { systemId: label });
      this.reply(state, pdu, RBINDFAIL);
      return this.closeSession(state, false);
    }
    state.binding = true;
    this.bindsInFlight++;
    this.bindsInFlightByAddress.set(state.remote, fromAddress + 1);
    void verifyPassword(password, account?.passwordHash ?? this.decoy).then((ok) => {
      state.binding = false;
      this.bindsInFlight--;
      const left = (this.bindsInFlightByAddress.get(state.remote) ?? 1) - 1;
      if (left > 0) this.bindsInFlightByAddress.set(state.remote, left);
      else this.bindsInFlightByAddress.delete(state.remote);
      if (!account || !ok) {
        this.guard.failed(state.remote, systemId, account !== undefined);
        // Logged with the system_id of a configured account only: never the password or a guessed id.
        this.refused("bind_failed", label, state.log, { systemId: label, bindType });
        this.reply(state, pdu, RBINDFAIL);
        return this.closeSession(state, false);
      }
      this.guard.succeeded(state.remote, systemId);
      if (state.closed) return;
      let sessions = 0;
      for (const s of this.states) if (!s.closed && s.account === account) sessions++;
      if (sessions >= account.maxSessions) {
        this.refused("account_session_cap", systemId, state.log, { maxSessions: account.maxSessions });
        this.reply(state, pdu, RBINDFAIL);
        return this.closeSession(state, false);
      }
      state.account = account;
      state.bindType = bindType;
      state.lastActivity = performance.now();
      state.log.info({ systemId, bindType, capabilities: [...account.capabilities] }, "bound");
      this.reply(state, pdu, OK, { system_id: this.o.gatewayId });
      if (bindType !== "transmitter" && account.capabilities.has("reply")) this.onReceiverBound?.();
    });
  }

  private onSubmit(state: SessionState, pdu: SmppPdu): void {
    const account = state.account;
    if (!account || state.bindType === "receiver") return this.reply(state, pdu, RINVBNDSTS);
    const source = typeof pdu["source_addr"] === "string" ? pdu["source_addr"] : "";
    const destination = typeof pdu["destination_addr"] === "string" ? pdu["destination_addr"] : "";
    const refusal = authorizeSubmit(account, source, destination, this.o.isReportDestination);
    if (refusal) {
      // Never the text, nor the numbers: the account and the rule it broke.
      this.refused(refusal, account.systemId, state.log, { systemId: account.systemId, command: pdu.command });
      return this.reply(state, pdu, SUBMIT_REFUSAL_STATUS[refusal]);
    }
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
    this.o.intake.accept(
      part,
      account.systemId,
      (answer: Answer) => {
        if (answered) return;
        answered = true;
        state.outstanding--;
        if (answer.kind === "accepted") this.reply(state, pdu, OK, { message_id: answer.messageId });
        else if (answer.kind === "rejected") this.reply(state, pdu, answer.status ?? RX_R_APPN);
        else this.reply(state, pdu, answer.throttled ? RTHROTTLED : RSYSERR);
      },
      this.o.relay ? { wire: wireFromPdu(pdu), receipts: { account: account.systemId, sessionId: state.id } } : null,
    );
  }

  /**
   * Relay mode: a downstream delivery receipt goes back to the account that sent the message,
   * with the id that account was given: the sending session when it can receive, else another
   * receiver/transceiver session of that account. No other account ever gets it.
   */
  sendReceipt(target: { account: string; sessionId: number }, upstreamId: string, receipt: SmppPdu, downstreamId: string): boolean {
    let chosen: SessionState | null = null;
    for (const s of this.states) {
      if (s.closed || s.account?.systemId !== target.account || (s.bindType !== "receiver" && s.bindType !== "transceiver")) continue;
      if (s.id === target.sessionId) {
        chosen = s;
        break;
      }
      chosen ??= s;
    }
    if (!chosen) return false;
    try {
      corkUntilNextTick(chosen.session);
      chosen.session.send(new smpp.PDU("deliver_sm", receiptFor(receipt, upstreamId, downstreamId)));
      return true;
    } catch (err) {
      chosen.log.warn({ err: (err as Error).message }, "could not pass a delivery receipt on");
      return false;
    }
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

  /** Counts every refusal; logs at most one line a second per (reason, account) so a flood cannot flood the log. */
  private refused(reason: RefusalReason, account: string, log: Logger, fields: Record<string, unknown>): void {
    this.o.onRefused?.(reason, account);
    const key = `${reason}\u0000${account}`;
    const now = performance.now();
    const entry = this.refusalLog.get(key);
    if (entry && now - entry.last < 1_000) {
      entry.suppressed++;
      return;
    }
    log.warn({ ...fields, reason, suppressed: entry?.suppressed ?? 0 }, "SMPP refused");
    this.refusalLog.set(key, { last: now, suppressed: 0 });
  }

  private sweepIdle(): void {
    const now = performance.now();
    for (const state of this.states) {
      if (state.closed) continue;
      if (!state.account) {
        if (now - state.connectedAt >= this.bindTimeoutMs) {
          this.refused("bind_timeout", "-", state.log, { bindTimeoutMs: this.bindTimeoutMs });
          this.closeSession(state, false);
        }
        continue;
      }
      if (now - state.lastActivity >= this.o.idleTimeoutMs) {
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
