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
 * from. A registered signature from another service number, or from an A2P code outside the brand's listed
 * prefixes, is spoofed. Signatures not listed here are only checked against the sender kind.
 */
const REGISTRY: Readonly<Record<string, readonly string[]>> = {
  工商银行: ["95588"],
  建设银行: ["95533"],
  农业银行: ["95599"],
  中国银行: ["95566"],
  交通银行: ["95559"],
  招商银行: ["95555"],
  邮储银行: ["95580"],
  中信银行: ["95558"],
  民生银行: ["95568"],
  光大银行: ["95595"],
  浦发银行: ["95528"],
  兴业银行: ["95561"],
  平安银行: ["95511"],
  华夏银行: ["95577"],
  广发银行: ["95508"],
  中国移动: ["10086", "10085", "10658"],
  中国联通: ["10010", "10011", "10655"],
  中国电信: ["10000", "10001", "10659"],
  顺丰速运: ["95338"],
  支付宝: ["95188"],
  12306: ["12306"],
};

function registered(signature: string): readonly string[] | undefined {
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
  const numbers = registered(signature);
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
