/**
 * The canonical form of a sender address, used as the Kafka key of traffic so
 * one subscriber's messages (typed +86138…, 0086138… or 138…) land on one
 * partition, where its per-sender state lives. Alphanumeric senders are
 * lower-cased; mobile numbers lose their country prefix.
 */
export function canonicalSender(sender: string): string {
  let s = sender.trim().toLowerCase();
  if (s.startsWith("+")) s = s.slice(1);
  if (/^\d+$/.test(s)) {
    if (s.length === 15 && s.startsWith("0086")) s = s.slice(4);
    else if (s.length === 13 && s.startsWith("86") && /^1[3-9]/.test(s.slice(2))) s = s.slice(2);
  }
  return s;
}
