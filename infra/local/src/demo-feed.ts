import type { Logger } from "pino";
import { EsmeClient, SmppClientError } from "@spam/smpp-client";
import type { DemoSmppAccount } from "./services.js";

/**
 * Sample traffic for `npm start`, written for this project (no text from the
 * public data sets): everyday chat, service notices, spam of several
 * categories, a campaign from rotating senders, and reports to 10086999.
 */
const DEMO_TRAFFIC: ReadonlyArray<{ source: string; destination: string; text: string }> = [
  { source: "13800138001", destination: "13900139001", text: "晚上七点老地方吃饭，别迟到哦" },
  { source: "13800138002", destination: "13900139002", text: "妈，我到学校了，一切都好，周末给你打电话" },
  { source: "95588", destination: "13900139003", text: "【工商银行】您尾号1234的账户11月23日18:20支出人民币58.00元，余额1,024.50元。" },
  { source: "10086", destination: "13900139004", text: "【中国移动】您本月话费账单已出，消费合计39.00元，详情可登录APP查询。" },
  { source: "1069012345", destination: "13900139005", text: "【顺丰速运】您的快递已到达小区驿站，取件码 6-2-3018，请及时领取。" },
  { source: "1069055555", destination: "13900139006", text: "【某某科技】验证码 482913，5分钟内有效，请勿泄露给他人。" },
  { source: "17000001111", destination: "13900139007", text: "代开各类发票，增值税专用发票，点数低，保真可验，联系V信 fp8888" },
  { source: "17000001112", destination: "13900139008", text: "无抵押无担保贷款，当天放款，额度5万-50万，详询 400-123-4567" },
  { source: "17000001113", destination: "13900139009", text: "澳门首家线上赌场，注册即送88元彩金，回T退订 www.bet-demo.cc" },
  { source: "17000001114", destination: "13900139010", text: "您的银行卡积分即将清零，请登录 bank-points-demo.cn 兑换现金，逾期作废" },
  { source: "17000001115", destination: "13900139011", text: "尊敬的客户，您的ETC已失效，请点击 etc-demo.top 重新认证，以免影响通行" },
  { source: "13811112222", destination: "13900139012", text: "明天的会议改到下午三点，记得带上项目资料" },
];

/** One template from rotating senders with varied digits: should cluster into one campaign. */
function demoCampaign(count: number): Array<{ source: string; destination: string; text: string }> {
  return Array.from({ length: count }, (_, i) => ({
    source: `1710000${String(2000 + i).padStart(4, "0")}`,
    destination: `1390014${String(1000 + i).padStart(4, "0")}`,
    text: `恭喜您获得${100 + i}元话费红包，点击 hb${i % 3}.demo-gift.cn 领取，${24 - (i % 5)}小时内有效`,
  }));
}

const DEMO_REPORTS: ReadonlyArray<{ reporter: string; text: string }> = [
  { reporter: "13900139007", text: "17000001111*代开各类发票，增值税专用发票，点数低" },
  { reporter: "13900139008", text: "举报 17000001112 * 无抵押无担保贷款，当天放款" },
  { reporter: "13900139010", text: "＋86 170-0000-1114＊您的银行卡积分即将清零" },
  { reporter: "13900139004", text: "10086*您本月话费账单已出" },
  { reporter: "13900139099", text: "随便说点什么" },
];

export interface DemoFeedResult {
  readonly sent: number;
  readonly accepted: number;
  /** Stopped by the relay (ESME_RX_R_APPN: a block verdict or a block-list entry). */
  readonly stopped: number;
  readonly failed: number;
  /** Replies the reply link received while the feed ran. */
  readonly replies: number;
}

/** The relay's (and the block list's) answer to a stopped message. */
const RX_R_APPN = 0x66;

/** A mainland mobile number comes in over the subscriber MO link; anything else (access codes, service numbers) is A2P. */
const isMobile = (source: string): boolean => /^1[3-9]\d{9}$/.test(source);

export async function runDemoFeed(options: {
  host: string;
  port: number;
  accounts: { readonly mo: DemoSmppAccount; readonly a2p: DemoSmppAccount; readonly replies: DemoSmppAccount };
  reportNumber: string;
  logger: Logger;
}): Promise<DemoFeedResult> {
  const at = { host: options.host, port: options.port };
  // The reply link binds first, as a receiver: only it gets the acknowledgements.
  const replies = await EsmeClient.connect({ ...at, ...options.accounts.replies, bindAs: "receiver" });
  const mo = await EsmeClient.connect({ ...at, ...options.accounts.mo, bindAs: "transmitter" });
  const a2p = await EsmeClient.connect({ ...at, ...options.accounts.a2p, bindAs: "transmitter" });
  let accepted = 0;
  let stopped = 0;
  let failed = 0;
  const messages = [
    ...DEMO_TRAFFIC,
    ...demoCampaign(30),
    ...DEMO_REPORTS.map((r) => ({ source: r.reporter, destination: options.reportNumber, text: r.text })),
  ];
  for (const m of messages) {
    try {
      await (isMobile(m.source) ? mo : a2p).submit(m.text, { source: m.source, destination: m.destination });
      accepted += 1;
    } catch (err) {
      if (err instanceof SmppClientError && err.commandStatus === RX_R_APPN) {
        stopped += 1;
        continue;
      }
      failed += 1;
      options.logger.warn({ err, source: m.source }, "demo message not accepted");
    }
  }
  // Give the gateway a moment to deliver acknowledgements to the reply link.
  await new Promise((r) => setTimeout(r, 1_000));
  if (replies.inbox.length > 0) options.logger.info({ replies: replies.inbox.map((m) => m.text) }, "replies delivered to the demo reply link");
  const delivered = replies.inbox.length;
  await Promise.all([mo.close(), a2p.close(), replies.close()]);
  return { sent: messages.length, accepted, stopped, failed, replies: delivered };
}
