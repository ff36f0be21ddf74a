import { LatencyHistogram, type LatencySummary } from "./stats.js";
import { LoadSession, MessagePlanner, STATUS, type MessageKind, type Mix, type PlannedMessage } from "./smpp.js";
import { VerdictWatcher, type SeenVerdict } from "./verdicts.js";

export interface LoadOptions {
  readonly host: string;
  /** One or more gateways; sessions are spread over them round-robin. */
  readonly ports: readonly number[];
  readonly sessions: number;
  readonly window: number;
  /** Messages (not PDUs) per second. */
  readonly rate: number;
  readonly durationS: number;
  readonly mix: Mix;
  readonly systemId: string;
  readonly password: string;
  /** Verdict matching: brokers and the verdicts topic; omit for a gateway-only run. */
  readonly verdicts?: { readonly brokers: string[]; readonly topic: string };
  /** After the last send, how long to wait for outstanding verdicts and acknowledgements. */
  readonly drainS: number;
  /**
   * Latencies of messages sent in the first seconds are left out of the histograms (JIT
   * warm-up, first fetches, group joins); counts and the verdict check still include them.
   */
  readonly warmupS?: number;
  /**
   * Drop an accepted message from `accepted` once its verdict arrived (no ClickHouse check to
   * follow): the generator then keeps only the ids it still waits for, and its GC stays short
   * (a long pause makes it send a burst when it resumes).
   */
  readonly forgetMatched?: boolean;
  readonly seed?: number;
  /** Ends the sending phase early (e.g. when a fault schedule is done); `durationS` stays the upper bound. */
  readonly shouldStop?: () => boolean;
  /** Called once a second with the running counters (progress line, fault schedule). */
  readonly onSecond?: (second: number, snapshot: SecondSnapshot) => void | Promise<void>;
}

interface SecondSnapshot {
  readonly second: number;
  readonly sent: number;
  readonly accepted: number;
  readonly throttled: number;
  readonly failed: number;
  readonly verdicts: number;
  readonly inFlight: number;
}

interface AcceptedMessage {
  readonly kind: MessageKind;
  readonly sentAt: number;
  readonly source: string;
}

export interface LoadResult {
  readonly startedAt: string;
  readonly sendSeconds: number;
  readonly counts: {
    /** Messages generated and sent (all parts). */
    sent: number;
    sentPdus: number;
    accepted: number;
    throttled: number;
    /** Any other error status, by hex status. */
    rejected: Record<string, number>;
    /** No response: the session dropped (gateway killed) or the send failed. */
    noResponse: number;
    /** Generator could not keep up (all windows full): messages due but never sent. */
    behind: number;
    verdicts: number;
    verdictsForAccepted: number;
    duplicateVerdicts: number;
    reportsAccepted: number;
    reportAcks: number;
    binds: number;
  };
  readonly byKind: Record<MessageKind, { sent: number; accepted: number }>;
  readonly latencyMs: Record<string, LatencySummary>;
  readonly throughputPerS: Record<string, number>;
  readonly perSecond: SecondSnapshot[];
  /**
   * Per second of gateway receipt (from the start of sending): verdicts slower than 50 ms from
   * receipt and the slowest one. Shows whether the tail is spread out or comes in bursts.
   */
  readonly slowBySecond: Array<{ second: number; over50ms: number; maxMs: number }>;
  /** message id → accepted message, for ClickHouse checks. */
  readonly accepted: Map<string, AcceptedMessage>;
  readonly reportersWithoutAck: string[];
}

/**
 * Open-loop SMPP load: messages are due at a fixed rate and sent on whichever
 * session has window room; latencies are measured from the moment each PDU
 * is written. Sessions that drop are rebound in the background, so the same
 * engine drives the fault tests.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const planner = new MessagePlanner(o.mix, "10086999", o.seed ?? 1);
  const h = {
    submit_to_resp: new LatencyHistogram(),
    /** Gateway receive → verdict published on Kafka (the 50 ms goal). */
    receive_to_verdict: new LatencyHistogram(),
    receive_to_scored: new LatencyHistogram(),
    scored_to_published: new LatencyHistogram(),
    published_to_seen: new LatencyHistogram(),
    submit_to_verdict: new LatencyHistogram(),
    report_submit_to_ack: new LatencyHistogram(),
  };
  const counts: LoadResult["counts"] = {
    sent: 0, sentPdus: 0, accepted: 0, throttled: 0, rejected: {}, noResponse: 0, behind: 0,
    verdicts: 0, verdictsForAccepted: 0, duplicateVerdicts: 0, reportsAccepted: 0, reportAcks: 0, binds: 0,
  };
  const byKind = { traffic: { sent: 0, accepted: 0 }, report: { sent: 0, accepted: 0 }, spam: { sent: 0, accepted: 0 }, multipart: { sent: 0, accepted: 0 } };
  const accepted = new Map<string, AcceptedMessage>();
  const verdictCount = new Map<string, number>();
  const early = new Map<string, SeenVerdict>();
  const reporters = new Map<string, number>(); // reporter → sentAt of its accepted report
  // Set when sending starts (below): latencies of messages sent before it are not recorded.
  let measureFrom = Number.POSITIVE_INFINITY;
  let sendStartMs = 0;
  const slowBySecond: Array<{ second: number; over50ms: number; maxMs: number }> = [];
  const acked = new Set<string>();
  let firstVerdictAt = 0;
  let lastVerdictAt = 0;

  /** Counts a verdict of a message; true for its first. */
  const firstVerdict = (messageId: string): boolean => {
    const n = (verdictCount.get(messageId) ?? 0) + 1;
    verdictCount.set(messageId, n);
    if (n > 1) counts.duplicateVerdicts++;
    return n === 1;
  };
  const onVerdict = (vd: SeenVerdict, acceptedMsg: AcceptedMessage) => {
    if (!firstVerdict(vd.messageId)) return;
    counts.verdictsForAccepted++;
    if (acceptedMsg.sentAt < measureFrom) return;
    const receiveToVerdict = vd.publishedAt - vd.receivedAt;
    h.receive_to_verdict.recordMs(receiveToVerdict);
    const second = Math.floor((vd.receivedAt - sendStartMs) / 1_000);
    const slow = (slowBySecond[second] ??= { second, over50ms: 0, maxMs: 0 });
    if (receiveToVerdict > 50) slow.over50ms++;
    slow.maxMs = Math.max(slow.maxMs, receiveToVerdict);
    h.receive_to_scored.recordMs(vd.scoredAt - vd.receivedAt);
    h.scored_to_published.recordMs(vd.publishedAt - vd.scoredAt);
    h.published_to_seen.recordMs(vd.seenAt - vd.publishedAt);
    h.submit_to_verdict.recordMs(vd.seenAt - acceptedMsg.sentAt);
  };

  let watcher: VerdictWatcher | null = null;
  if (o.verdicts) {
    watcher = new VerdictWatcher(o.verdicts.brokers, o.verdicts.topic, (vd) => {
      counts.verdicts++;
      lastVerdictAt = vd.seenAt;
      firstVerdictAt ||= vd.seenAt;
      const m = accepted.get(vd.messageId);
      if (m) {
        onVerdict(vd, m);
        if (o.forgetMatched) accepted.delete(vd.messageId);
      } else if (verdictCount.has(vd.messageId)) firstVerdict(vd.messageId); // a duplicate of a forgotten one
      else early.set(vd.messageId, vd); // verdict read before the resp was processed
    });
    await watcher.start();
  }

  // Sessions, rebound in the background when they drop.
  const sessions: (LoadSession | null)[] = new Array<LoadSession | null>(o.sessions).fill(null);
  let stopping = false;
  // An acknowledgement can overtake its submit_sm_resp (the reply is on Kafka as soon as the
  // report is): keep it until the report's answer arrives.
  const earlyAcks = new Map<string, number>();
  const ackReporter = (reporter: string, sentAt: number, at: number) => {
    if (acked.has(reporter)) return;
    acked.add(reporter);
    counts.reportAcks++;
    if (sentAt >= measureFrom) h.report_submit_to_ack.recordMs(at - sentAt);
  };
  const onDeliver = (d: { destination: string }) => {
    const sentAt = reporters.get(d.destination);
    if (sentAt === undefined) {
      if (!earlyAcks.has(d.destination)) earlyAcks.set(d.destination, Date.now());
      return;
    }
    ackReporter(d.destination, sentAt, Date.now());
  };
  const bindSlot = async (i: number): Promise<void> => {
    let delay = 200;
    while (!stopping) {
      try {
        const s = await LoadSession.bind({ host: o.host, port: o.ports[i % o.ports.length]!, systemId: o.systemId, password: o.password, timeoutMs: 5_000 }, o.window, onDeliver);
        counts.binds++;
        s.onClose = () => {
          sessions[i] = null;
          if (!stopping) setTimeout(() => void bindSlot(i), 100);
        };
        sessions[i] = s;
        return;
      } catch {
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2_000);
      }
    }
  };
  await Promise.all(sessions.map((_, i) => bindSlot(i)));

  let rr = 0;
  const pickSession = (parts: number): LoadSession | null => {
    for (let k = 0; k < sessions.length; k++) {
      const s = sessions[(rr + k) % sessions.length];
      if (s && s.free >= parts) {
        rr = (rr + k + 1) % sessions.length;
        return s;
      }
    }
    return null;
  };

  const send = (msg: PlannedMessage, session: LoadSession) => {
    counts.sent++;
    byKind[msg.kind].sent++;
    const sentAt = Date.now();
    let remaining = msg.parts.length;
    let worst: number | null = 0;
    let messageId = "";
    for (const part of msg.parts) {
      counts.sentPdus++;
      const t0 = performance.now();
      session.submit({ source_addr: msg.source, destination_addr: msg.destination, source_addr_ton: 1, dest_addr_ton: 1, ...part }, (status, id) => {
        if (status !== null && sentAt >= measureFrom) h.submit_to_resp.recordMs(performance.now() - t0);
        // The message's id is the one in the LAST success answer: the gateway answers a
        // part that does not complete a multipart message at once, with an id of its own that
        // names no published message, and the completing part only after Kafka acked the whole.
        if (status === STATUS.OK) messageId = id;
        else if (worst === 0 || status === null) worst = status;
        if (--remaining > 0) return;
        if (worst === STATUS.OK && messageId) {
          counts.accepted++;
          byKind[msg.kind].accepted++;
          const a = { kind: msg.kind, sentAt, source: msg.source };
          accepted.set(messageId, a);
          if (msg.kind === "report") {
            counts.reportsAccepted++;
            reporters.set(msg.source, sentAt);
            const ackedAt = earlyAcks.get(msg.source);
            if (ackedAt !== undefined) {
              earlyAcks.delete(msg.source);
              ackReporter(msg.source, sentAt, ackedAt);
            }
          }
          const vd = early.get(messageId);
          if (vd) {
            early.delete(messageId);
            onVerdict(vd, a);
            if (o.forgetMatched) accepted.delete(messageId);
          }
        } else if (worst === STATUS.THROTTLED) counts.throttled++;
        else if (worst === null) counts.noResponse++;
        else {
          const key = `0x${worst.toString(16)}`;
          counts.rejected[key] = (counts.rejected[key] ?? 0) + 1;
        }
      });
    }
  };

  const perSecond: SecondSnapshot[] = [];
  const startedAt = new Date();
  sendStartMs = startedAt.getTime();
  measureFrom = startedAt.getTime() + (o.warmupS ?? 0) * 1_000;
  const t0 = performance.now();
  let due = 0;
  let carried: PlannedMessage | null = null;
  let lastSecond = 0;
  const snapshot = (second: number): SecondSnapshot => ({
    second,
    sent: counts.sent,
    accepted: counts.accepted,
    throttled: counts.throttled,
    failed: counts.noResponse,
    verdicts: counts.verdictsForAccepted,
    inFlight: sessions.reduce((n, s) => n + (s?.inFlight ?? 0), 0),
  });
  await new Promise<void>((resolveLoop) => {
    const tick = async () => {
      const elapsed = (performance.now() - t0) / 1_000;
      if (elapsed >= o.durationS || o.shouldStop?.()) return resolveLoop();
      const target = Math.floor(o.rate * elapsed);
      // Never build up more than one second of backlog: beyond that it counts as "behind".
      if (target - due > o.rate) {
        counts.behind += target - due - o.rate;
        due = target - o.rate;
      }
      while (due < target) {
        const msg: PlannedMessage = carried ?? planner.next();
        const s = pickSession(msg.parts.length);
        if (!s) {
          carried = msg;
          break;
        }
        carried = null;
        send(msg, s);
        due++;
      }
      const second = Math.floor(elapsed);
      if (second > lastSecond) {
        lastSecond = second;
        const snap = snapshot(second);
        perSecond.push(snap);
        await o.onSecond?.(second, snap);
      }
      setTimeout(() => void tick(), 2);
    };
    void tick();
  });
  const sendSeconds = (performance.now() - t0) / 1_000;
  counts.behind += Math.max(0, Math.floor(o.rate * Math.min(o.durationS, sendSeconds)) - due);

  // Drain: wait for responses, verdicts and acks (or the drain time).
  const drainUntil = Date.now() + o.drainS * 1_000;
  while (Date.now() < drainUntil) {
    const inFlight = sessions.reduce((n, s) => n + (s?.inFlight ?? 0), 0);
    const verdictsDone = !watcher || counts.verdictsForAccepted >= counts.accepted;
    const acksDone = counts.reportAcks >= counts.reportsAccepted;
    if (inFlight === 0 && verdictsDone && acksDone) break;
    await new Promise((r) => setTimeout(r, 100));
    const second = Math.floor((performance.now() - t0) / 1_000);
    if (second > lastSecond) {
      lastSecond = second;
      perSecond.push(snapshot(second));
    }
  }
  stopping = true;
  await Promise.all(sessions.map((s) => s?.close()));
  await watcher?.stop();

  const verdictSpan = Math.max(0.001, (lastVerdictAt - firstVerdictAt) / 1_000);
  return {
    startedAt: startedAt.toISOString(),
    sendSeconds,
    counts,
    byKind,
    latencyMs: Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v.summaryMs()])),
    throughputPerS: {
      offered: o.rate,
      sent: counts.sent / sendSeconds,
      accepted: counts.accepted / sendSeconds,
      submit_sm_pdus: counts.sentPdus / sendSeconds,
      verdicts: counts.verdictsForAccepted / (counts.verdictsForAccepted > 1 ? verdictSpan : sendSeconds),
    },
    perSecond,
    slowBySecond: slowBySecond.filter(Boolean),
    accepted,
    reportersWithoutAck: [...reporters.keys()].filter((r) => !acked.has(r)).slice(0, 10),
  };
}
