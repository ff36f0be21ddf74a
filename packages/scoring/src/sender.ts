/**
 * Kinds of SMS senders in mainland traffic, from the number alone. Operators and banks send from short
 * service numbers (100xx, 95xxx); brands send through A2P access codes (106…); people send from 11-digit
 * mobile numbers. A brand signature (【招商银行】) sent from a mobile or international number is a spoofing
 * signal, never an allow signal: anyone can type a signature.
 */
export type SenderKind = "operator" | "bank-service" | "a2p" | "mobile" | "international" | "other" | "unknown";

/** Sender with +86 / 0086 stripped (other country codes are kept). */
function local(sender: string): string {
  const s = sender.replace(/[\s-]/g, "");
  if (s.startsWith("+86")) return s.slice(3);
  if (s.startsWith("0086")) return s.slice(4);
  return s;
}

export function senderKind(sender: string): SenderKind {
  const s = local(sender);
  if (s === "") return "unknown";
  if (s.startsWith("+") || s.startsWith("00")) return "international";
  if (!/^\d{1,20}$/.test(s)) return "other";
  if (/^100\d{2,4}$/.test(s)) return "operator";
  if (/^9\d{4}$/.test(s)) return "bank-service";
  if (/^106\d{5,17}$/.test(s)) return "a2p";
  if (/^1[3-9]\d{9}$/.test(s)) return "mobile";
  return "other";
}

/**
 * Known senders and their signatures: the service numbers and A2P prefixes (106…) a signature may come
 * from, and the registrable domains its messages link to (subdomains included). A registered signature
 * from another service number, or from an A2P code outside the brand's listed prefixes, is spoofed.
 * Signatures not listed here are only checked against the sender kind.
 */
interface Brand {
  readonly numbers: readonly string[];
  readonly domains: readonly string[];
  /** The fraud category of a message impersonating it. */
  readonly phishing: "FR_Phishing(Bank)" | "FR_Phishing(Other)";
}
const bank = (numbers: readonly string[], domains: readonly string[]): Brand => ({ numbers, domains, phishing: "FR_Phishing(Bank)" });
const service = (numbers: readonly string[], domains: readonly string[]): Brand => ({ numbers, domains, phishing: "FR_Phishing(Other)" });

const REGISTRY: Readonly<Record<string, Brand>> = {
  工商银行: bank(["95588"], ["icbc.com.cn"]),
  建设银行: bank(["95533"], ["ccb.com"]),
  农业银行: bank(["95599"], ["abchina.com"]),
  中国银行: bank(["95566"], ["boc.cn", "bankofchina.com"]),
  交通银行: bank(["95559"], ["bankcomm.com"]),
  招商银行: bank(["95555"], ["cmbchina.com"]),
  邮储银行: bank(["95580"], ["psbc.com"]),
  中信银行: bank(["95558"], ["citicbank.com"]),
  民生银行: bank(["95568"], ["cmbc.com.cn"]),
  光大银行: bank(["95595"], ["cebbank.com"]),
  浦发银行: bank(["95528"], ["spdb.com.cn"]),
  兴业银行: bank(["95561"], ["cib.com.cn"]),
  平安银行: bank(["95511"], ["pingan.com"]),
  华夏银行: bank(["95577"], ["hxb.com.cn"]),
  广发银行: bank(["95508"], ["cgbchina.com.cn"]),
  中国移动: service(["10086", "10085", "10658"], ["10086.cn"]),
  中国联通: service(["10010", "10011", "10655"], ["10010.com"]),
  中国电信: service(["10000", "10001", "10659"], ["189.cn"]),
  顺丰速运: service(["95338"], ["sf-express.com"]),
  支付宝: service(["95188"], ["alipay.com"]),
  12306: service(["12306"], ["12306.cn"]),
};

function brandOf(signature: string): Brand | undefined {
  return Object.hasOwn(REGISTRY, signature) ? REGISTRY[signature] : undefined;
}

const SIGNATURE_RE = /^【([^】]{2,24})】|【([^】]{2,24})】$/u;

/** The brand a message's 【signature】 claims, at its start or end, or null. */
export function claimedSignature(text: string): string | null {
  const m = SIGNATURE_RE.exec(text.trim());
  return m ? (m[1] ?? m[2] ?? null) : null;
}

export interface SpoofCheck {
  readonly kind: SenderKind;
  readonly signature: string | null;
  /** Why the signature cannot come from this sender, or null when nothing is wrong (or nothing is known). */
  readonly spoof: string | null;
  /**
   * The sender is a number the registry lists for the signed brand (its service number, an A2P code of its
   * listed prefixes or one ending in its service number): the network, not the text, vouches for the brand.
   */
  readonly registered: boolean;
}

/** Whether a message's signature fits its sender; unknown senders (eval, tests without numbers) are never spoofs. */
export function checkSender(sender: string, text: string): SpoofCheck {
  const kind = senderKind(sender);
  const signature = claimedSignature(text);
  if (signature === null || kind === "unknown") return { kind, signature, spoof: null, registered: false };
  if (kind === "mobile" || kind === "international") return { kind, signature, spoof: `signature 【${signature}】 from a ${kind} number`, registered: false };
  const numbers = brandOf(signature)?.numbers;
  if (numbers) {
    const s = local(sender);
    const a2p = numbers.filter((n) => n.startsWith("106"));
    const listed = kind === "a2p" ? a2p.some((n) => s.startsWith(n)) || numbers.some((n) => s.endsWith(n)) : numbers.includes(s);
    // Brands send from their service numbers and through many A2P codes; an A2P code is checked only
    // when the registry lists the brand's A2P prefixes (a code ending in the service number is its own).
    const ok = listed || (kind === "a2p" && a2p.length === 0);
    if (!ok) return { kind, signature, spoof: `signature 【${signature}】 is registered to ${numbers.join("/")}, not to this sender`, registered: false };
    return { kind, signature, spoof: null, registered: listed };
  }
  return { kind, signature, spoof: null, registered: false };
}

export interface OffBrandLink {
  /** The first linked host that is not one of the brand's domains. */
  readonly host: string;
  readonly category: Brand["phishing"];
}

/**
 * A link in a message signed by a registered brand that leads off the brand's domains ("cmb-safe.top" under
 * 【招商银行】), or null. The scorer asks only when the sender spoofs the signature: a spoofed brand that links
 * elsewhere is impersonation, whereas a forwarded genuine notice links to the brand's own domain.
 */
export function offBrandLink(signature: string | null, hosts: readonly string[]): OffBrandLink | null {
  const brand = signature === null ? undefined : brandOf(signature);
  if (!brand) return null;
  const host = hosts.find((h) => !brand.domains.some((d) => h === d || h.endsWith(`.${d}`)));
  return host === undefined ? null : { host, category: brand.phishing };
}
