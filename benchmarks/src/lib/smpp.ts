import { corkUntilNextTick, encodeText, loadSmpp, splitMessage, type SmppPdu, type SmppSession } from "@spam/smpp-codec";

export const smpp = loadSmpp({ rawMessages: true });
export const STATUS = {
  OK: 0,
  THROTTLED: smpp.errors["ESME_RTHROTTLED"] ?? 0x58,
} as const;

export interface BindOptions {
  readonly host: string;
  readonly port: number;
  readonly systemId: string;
  readonly password: string;
  readonly timeoutMs?: number;
}

export interface DeliveredPdu {
  readonly source: string;
  readonly destination: string;
  readonly shortMessage: Buffer;
  readonly dataCoding: number;
}

/**
 * A transceiver session for load: many submit_sm in flight (the window), each
 * answered through a callback; deliver_sm (the acknowledgements to reporters)
 * are answered and handed to `onDeliver`.
 */
export class LoadSession {
  inFlight = 0;
  closed = false;
  onClose: (() => void) | null = null;
  private readonly pending = new Set<(status: number | null, id: string) => void>();

  private constructor(
    readonly session: SmppSession,
    readonly window: number,
    public onDeliver: ((d: DeliveredPdu) => void) | null,
  ) {
    session.on("deliver_sm", (pdu: SmppPdu) => {
      session.send(pdu.response());
      const sm = pdu["short_message"];
      this.onDeliver?.({
        source: String(pdu["source_addr"] ?? ""),
        destination: String(pdu["destination_addr"] ?? ""),
        shortMessage: Buffer.isBuffer(sm) ? sm : Buffer.alloc(0),
        dataCoding: Number(pdu["data_coding"] ?? 0),
      });
    });
    session.on("enquire_link", (pdu: SmppPdu) => session.send(pdu.response()));
    session.on("unbind", (pdu: SmppPdu) => {
      session.send(pdu.response());
      session.close();
    });
    session.on("close", () => {
      this.closed = true;
      // A response that never comes (session dropped) must not hold the window forever.
      for (const settle of [...this.pending]) settle(null, "");
      this.onClose?.();
    });
    session.on("error", () => {
      this.closed = true;
    });
  }

  /**
   * `onDeliver` is in place before the bind answer is handled: a gateway with replies waiting sends
   * deliver_sm right after bind_transceiver_resp, often in the same TCP segment, and the smpp package
   * emits both in one synchronous loop, before an awaiting caller could set a handler.
   */
  static bind(o: BindOptions, window: number, onDeliver: ((d: DeliveredPdu) => void) | null = null): Promise<LoadSession> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bind to ${o.host}:${o.port} timed out`)), o.timeoutMs ?? 10_000);
      const session = smpp.connect({ url: `smpp://${o.host}:${o.port}`, auto_enquire_link_period: 10_000 }, () => {
        (session["bind_transceiver"] as (p: Record<string, unknown>, cb: (pdu: SmppPdu) => void) => void)(
          { system_id: o.systemId, password: o.password },
          (pdu) => {
            clearTimeout(timer);
            if (pdu.command_status === 0) resolve(new LoadSession(session, window, onDeliver));
            else {
              session.destroy();
              reject(new Error(`bind failed: status 0x${pdu.command_status.toString(16)}`));
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

  get free(): number {
    return this.closed ? 0 : this.window - this.inFlight;
  }

  /** Sends one submit_sm; `done` gets the response status and message_id (or null status on close). */
  submit(fields: Record<string, unknown>, done: (status: number | null, messageId: string) => void): void {
    this.inFlight++;
    let settled = false;
    const settle = (status: number | null, id: string) => {
      if (settled) return;
      settled = true;
      this.pending.delete(settle);
      this.inFlight--;
      done(status, id);
    };
    this.pending.add(settle);
    if (this.closed) return settle(null, "");
    const pdu = new smpp.PDU("submit_sm", fields);
    corkUntilNextTick(this.session);
    const ok = this.session.send(pdu, (resp: SmppPdu) => settle(resp.command_status, String(resp["message_id"] ?? "")));
    if (!ok) settle(null, "");
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.session.destroy();
        resolve();
      }, 2_000);
      (this.session["unbind"] as (p: Record<string, unknown>, cb: () => void) => void)({}, () => {
        clearTimeout(timer);
        this.session.close();
        resolve();
      });
    });
  }
}

export type MessageKind = "traffic" | "report" | "spam" | "multipart";

export interface PlannedMessage {
  readonly kind: MessageKind;
  readonly source: string;
  readonly destination: string;
  /** One entry per submit_sm (several for a multipart message). */
  readonly parts: readonly Record<string, unknown>[];
}

const HAM = [
  "今晚七点在老地方吃饭，记得带伞",
  "妈，我到公司了，晚上给你打电话",
  "会议改到下午三点，302会议室",
  "Your parcel will arrive tomorrow between 9 and 12",
  "周末一起去爬山吗？天气预报说是晴天",
  "明天早上八点机场见，航班号CA1234",
];
const CAMPAIGNS = [
  "【中国建设银行】您的账户积分即将清零，请点击 http://ccb-jf{n}.cn 兑换，退订回T",
  "代开各类发票，增值税专用发票保真，联系V信 fp{n}",
  "恭喜您获得本期幸运大奖88000元，请登录 www.zj{n}.top 领取",
  "澳门首家线上赌场上线啦，注册即送888元，加QQ {n}",
  "您的ETC已失效，请尽快登录 etc-{n}.xyz 重新认证，以免影响通行",
];
const LONG_ZH =
  "尊敬的用户：感谢您长期以来对我们的支持与信任。为了进一步提升服务质量，我们将于本周六凌晨零点至六点进行系统升级维护，" +
  "期间网上营业厅、掌上营业厅及自助服务终端的话费查询、充值缴费和业务办理功能将暂停使用，给您带来的不便敬请谅解。如有疑问请拨打客服热线。";

export interface Mix {
  readonly traffic: number;
  readonly report: number;
  readonly spam: number;
  readonly multipart: number;
}

export function parseMix(text: string): Mix {
  const mix: Record<string, number> = { traffic: 0, report: 0, spam: 0, multipart: 0 };
  for (const pair of text.split(",")) {
    const [k, v] = pair.split("=");
    if (!k || v === undefined || !(k in mix) || !Number.isFinite(Number(v))) throw new Error(`bad --mix entry "${pair}" (want traffic=…,report=…,spam=…,multipart=…)`);
    mix[k] = Number(v);
  }
  const sum = Object.values(mix).reduce((a, b) => a + b, 0);
  if (sum <= 0) throw new Error("--mix weights sum to 0");
  return { traffic: mix.traffic! / sum, report: mix.report! / sum, spam: mix.spam! / sum, multipart: mix.multipart! / sum };
}

/** Deterministic message plan: the same seed gives the same traffic. */
export class MessagePlanner {
  private n = 0;
  private ref = 0;
  private state: number;

  constructor(private readonly mix: Mix, readonly reportShortCode = "10086999", seed = 1) {
    this.state = seed >>> 0 || 1;
  }

  private rand(): number {
    // xorshift32: cheap and reproducible.
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 0x1_0000_0000;
  }

  private msisdn(prefix: string, span: number): string {
    return prefix + String(Math.floor(this.rand() * span)).padStart(11 - prefix.length, "0");
  }

  next(): PlannedMessage {
    const i = this.n++;
    const r = this.rand();
    const { traffic, report, spam } = this.mix;
    const kind: MessageKind = r < traffic ? "traffic" : r < traffic + report ? "report" : r < traffic + report + spam ? "spam" : "multipart";
    const destination = this.msisdn("139", 1e8);
    switch (kind) {
      case "traffic": {
        const text = HAM[i % HAM.length]!;
        return { kind, source: this.msisdn("138", 1e8), destination, parts: [single(text)] };
      }
      case "spam": {
        // Campaigns rotate senders: a new 170/171 number every few messages.
        const c = i % CAMPAIGNS.length;
        const text = CAMPAIGNS[c]!.replace("{n}", String(1000 + (i % 97)));
        return { kind, source: `17${c}${String(Math.floor(i / 5) % 1e8).padStart(8, "0")}`, destination, parts: [single(text)] };
      }
      case "report": {
        // Each report from its own reporter number, so its acknowledgement can be matched.
        const reporter = `147${String(i % 1e8).padStart(8, "0")}`;
        const reported = `170${String(i % 997).padStart(8, "0")}`;
        const text = `${reported}*${CAMPAIGNS[i % CAMPAIGNS.length]!.replace("{n}", "9")}`;
        return { kind, source: reporter, destination: this.reportShortCode, parts: [single(text)] };
      }
      case "multipart": {
        this.ref = (this.ref + 1) % 256;
        const parts = splitMessage(LONG_ZH, { dataCoding: 8, concat: "udh8", reference: this.ref }).map((p) => ({ ...p }));
        return { kind, source: this.msisdn("136", 1e8), destination, parts };
      }
    }
  }
}

function single(text: string): Record<string, unknown> {
  return { short_message: Buffer.from(encodeText(text, 8)), data_coding: 8, esm_class: 0 };
}
