import { z } from "zod";
import { SPAM_CATEGORIES, VERDICT_ACTIONS } from "@spam/contracts";

/** The longest window a velocity rule may count over (one day). */
export const VELOCITY_WINDOW_MAX_SECONDS = 86_400;

/** Fine categories: the shared 14 labels plus `service` for notification senders. */
const RULE_CATEGORIES = [...SPAM_CATEGORIES, "service"] as const;

export const RULE_KINDS = ["keyword", "regex", "domain", "sender", "velocity", "allowlist"] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

const nonEmpty = z.string().trim().min(1);
const numberRange = z
  .object({ from: z.string().regex(/^\d{3,20}$/), to: z.string().regex(/^\d{3,20}$/) })
  .strict()
  .refine((r) => r.from.length === r.to.length && r.from <= r.to, {
    message: "from and to must have the same number of digits and from <= to",
  });

const common = {
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, "lower-case letters, digits, '.', '_' or '-'"),
  description: nonEmpty.max(500),
  /** Contribution towards spam: positive raises the score, negative (allow lists) lowers it. */
  score: z.number().min(-1).max(1),
  category: z.enum(RULE_CATEGORIES),
  action: z.enum(VERDICT_ACTIONS),
  enabled: z.boolean().default(true),
  owner: nonEmpty.max(128),
  version: z.number().int().min(1),
};

const KeywordRule = z
  .object({
    ...common,
    kind: z.literal("keyword"),
    keywords: z.array(nonEmpty.max(100)).min(1).max(50_000),
    /** Distinct keywords of this rule that must occur (default 1). */
    minMatches: z.number().int().min(1).max(20).default(1),
  })
  .strict();

const RegexRule = z
  .object({
    ...common,
    kind: z.literal("regex"),
    patterns: z.array(nonEmpty.max(300)).min(1).max(200),
    /** Which normalised form the patterns run on. */
    field: z.enum(["text", "compact"]).default("text"),
  })
  .strict();

const DomainRule = z
  .object({
    ...common,
    kind: z.literal("domain"),
    /** Matches the domain itself and every sub-domain of it. */
    domains: z.array(nonEmpty.max(253)).min(1).max(1_000_000),
  })
  .strict();

const senderMatch = {
  /** Exact sender ids (digits or alphanumeric). */
  senders: z.array(nonEmpty.max(64)).default([]),
  /** Sender number prefixes, e.g. "170", "106". */
  prefixes: z.array(z.string().regex(/^\+?\d{1,20}$/)).default([]),
  ranges: z.array(numberRange).default([]),
};

const SenderRule = z
  .object({ ...common, kind: z.literal("sender"), ...senderMatch })
  .strict()
  .refine((r) => r.senders.length + r.prefixes.length + r.ranges.length > 0, {
    message: "needs at least one of senders, prefixes, ranges",
  });

const VelocityRule = z
  .object({
    ...common,
    kind: z.literal("velocity"),
    metric: z.enum(["distinct_recipients", "messages"]),
    /** Fires when the count in the window exceeds this. */
    threshold: z.number().int().min(1).max(100_000),
    windowSeconds: z.number().int().min(1).max(VELOCITY_WINDOW_MAX_SECONDS),
  })
  .strict();

const AllowListRule = z
  .object({
    ...common,
    kind: z.literal("allowlist"),
    ...senderMatch,
    /** Signatures such as 【招商银行】, matched at the start or end of the text. Spoofable: keep their score mild. */
    signatures: z.array(nonEmpty.max(40)).default([]),
  })
  .strict()
  .refine((r) => r.senders.length + r.prefixes.length + r.ranges.length + r.signatures.length > 0, {
    message: "needs at least one of senders, prefixes, ranges, signatures",
  });

export const RuleDef = z.discriminatedUnion("kind", [
  KeywordRule,
  RegexRule,
  DomainRule,
  // zod's discriminatedUnion needs plain objects: refinements are checked again after parsing.
  SenderRule.innerType(),
  VelocityRule,
  AllowListRule.innerType(),
]);
export type RuleDef = z.infer<typeof RuleDef>;

export const REFINED: Partial<Record<RuleKind, z.ZodTypeAny>> = { sender: SenderRule, allowlist: AllowListRule };

export const RuleFile = z
  .object({
    rules: z.array(z.unknown()).max(100_000),
  })
  .strict();
