import type { NormalizedText } from "@spam/normalize";

/**
 * Signals text models cannot learn from the shared data (its "ham" is web text, so
 * every real notice looks unusual to them): service notices have a signature and a
 * transactional marker and carry no lure; spam needs a way to be answered.
 */

const SIGNATURE_RE = /^【[^】]{2,24}】|【[^】]{2,24}】$|^[\p{Script=Han}]{2,12}(?:银行|公司|中心)[:：]|\[[\p{Script=Han}]{2,12}\]$/u;
const MARKER_RE =
  /验证码|校验码|动态码|动态密码|尾号\s?\d{3,4}|账户\s?\d{4}|余额|账单|还款日|取件码|快件|包裹|运单|派送|签收|航班|车次|检票|登机|值机|开奖|缴费|扣款|到账|入账|缴存|订单|话费|流量|套餐|电费|水费|燃气|就诊|门诊|预约|行程/u;
const LURE_RE =
  /加微|加v|加q|微信|qq|点击|链接|网址|冻结|异常|解除|认证|中奖|领取|彩金|兼职|贷款|发票|代开|回t|回td|回n|退订|赔偿|理赔|积分.{0,6}(?:兑换|清零)|升级|激活|转账至|汇款|安全账户/u;
/** An unsubscribe instruction: what marks a marketing message (退订, 回T/TD/N, 拒收). */
const UNSUBSCRIBE_RE = /退订|取消订阅|拒收|回复?\s?(?:td|t|n|0000)(?![a-z0-9])/u;
const OTP_RE = /(?:验证码|校验码|动态码|动态密码)\D{0,8}\d{4,8}|\d{4,8}\D{0,6}(?:是你的|为您的|是您的)?验证码/u;

export interface NotificationSignals {
  readonly signature: boolean;
  readonly marker: boolean;
  readonly otp: boolean;
  readonly lure: boolean;
  /** An unsubscribe instruction (退订, 回T/TD, 拒收). */
  readonly unsubscribe: boolean;
  /** No URL, phone, QQ or WeChat id: nothing a spammer could be answered through. */
  readonly noContact: boolean;
}

export function notificationSignals(n: NormalizedText): NotificationSignals {
  const t = n.text;
  const lure = LURE_RE.test(t) || n.urls.length > 0 || n.qqIds.length > 0 || n.wechatIds.length > 0;
  return {
    signature: SIGNATURE_RE.test(t),
    marker: MARKER_RE.test(t),
    otp: OTP_RE.test(t),
    lure,
    unsubscribe: UNSUBSCRIBE_RE.test(t),
    noContact: n.urls.length === 0 && n.phones.length === 0 && n.qqIds.length === 0 && n.wechatIds.length === 0 && !lure,
  };
}

/**
 * Rough kind of a message, from its text alone (no hand labels): the one heuristic both `spam eval`'s
 * per-class figures and the scorer's commercial class use.
 * - commercial: a brand signature and an unsubscribe instruction (a registered brand's promotion);
 * - transactional: a brand signature without an unsubscribe instruction (bank, carrier, delivery, codes);
 * - other: everything else (personal messages, unsigned spam, …).
 */
export type MessageKind = "transactional" | "commercial" | "other";

export const MESSAGE_KINDS: readonly MessageKind[] = ["transactional", "commercial", "other"];

export function messageKind(s: Pick<NotificationSignals, "signature" | "unsubscribe">): MessageKind {
  if (!s.signature) return "other";
  return s.unsubscribe ? "commercial" : "transactional";
}
