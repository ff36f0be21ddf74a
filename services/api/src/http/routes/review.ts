import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { CATEGORY_GROUPS, SPAM_CATEGORIES } from "@spam/contracts";
import { CASE_SOURCES, REVEAL_FIELDS, type CaseStore } from "../../review/cases.js";
import { CaseDetail, CaseSummary, detail, summarize } from "../../review/view.js";
import { SenderTraffic, type SenderHistorySource } from "../../analytics/sender.js";
import { requireUser } from "../auth.js";
import { CaseIdParam, ROLE_LIMITED, SIGNED_IN, WITH_BODY, WITH_INPUT, errorResponses } from "../schemas.js";

export interface ReviewRoutesOptions {
  readonly cases: CaseStore;
  /** Sender traffic from ClickHouse; absent when no ClickHouse is configured. */
  readonly senders?: SenderHistorySource;
  readonly slaHours: number;
  /** Called after a decision commits, so its Kafka messages leave at once. */
  readonly onDecided: () => void;
}

const CaseId = CaseIdParam;
/** Ages in hours: up to ten years, beyond any case's life. */
const AgeHours = z.coerce.number().min(0).max(24 * 366 * 10);
const Filters = z.object({
  status: z.enum(["open", "escalated"]).optional(),
  // The flagged category of a case: a taxonomy group from the scorer, its commercial class (the cases the
  // operator's policy flags), or a fine label from a decision.
  category: z.enum([...CATEGORY_GROUPS, "commercial", ...SPAM_CATEGORIES]).optional(),
  source: z.enum(CASE_SOURCES).optional(),
  campaignId: z.string().max(64).optional(),
  minAgeHours: AgeHours.optional(),
  maxAgeHours: AgeHours.optional(),
});
const DECIDERS = ["reviewer", "admin"] as const;
// Closed taxonomy: a category is a label, never free text that ends up in someone's console.
const DecisionCategory = z.enum(SPAM_CATEGORIES);
const Comment = z.string().max(2000).default("");
const WholeCampaign = z.boolean().default(false);

export const reviewRoutes: FastifyPluginAsyncZod<ReviewRoutesOptions> = async (app, opts) => {
  const { cases, slaHours } = opts;

  const loadDetail = async (id: string, user: { id: number; role: "reviewer" | "analyst" | "admin" }) => {
    const c = await cases.get(id);
    const [reports, messages, history, campaign] = await Promise.all([
      cases.reports(c.id),
      cases.messages(c.id),
      cases.senderHistory(c.sender, c.id),
      c.campaign_id ? cases.campaignMembers(c.campaign_id) : Promise.resolve(null),
    ]);
    return detail(c, { role: user.role, userId: user.id, slaHours, reports, messages, history, campaign });
  };

  app.get(
    "/api/categories",
    {
      schema: {
        tags: ["review"],
        summary: "The category taxonomy: fine labels a spam decision takes, and the groups cases are flagged with",
        response: { 200: z.object({ spam: z.array(z.enum(SPAM_CATEGORIES)), groups: z.array(z.enum(CATEGORY_GROUPS)) }), ...errorResponses(...SIGNED_IN) },
      },
    },
    async () => ({ spam: [...SPAM_CATEGORIES], groups: [...CATEGORY_GROUPS] }),
  );

  app.get(
    "/api/queue",
    {
      schema: {
        tags: ["review"],
        summary: "Cases ranked by model uncertainty × reach × age against the SLA",
        querystring: Filters.extend({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          // Bounded: 1e21 coerces to an "integer" PostgreSQL cannot parse (found by fuzz-http).
          offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
        }),
        response: { 200: z.object({ items: z.array(CaseSummary), total: z.number().int() }), ...errorResponses(...SIGNED_IN, ...WITH_INPUT) },
      },
    },
    async (request) => {
      const { items, total } = await cases.queue(request.query);
      return { items: items.map((c) => summarize(c, slaHours)), total };
    },
  );

  app.post(
    "/api/queue/claim-next",
    {
      config: { roles: DECIDERS },
      schema: {
        tags: ["review"],
        summary: "Claim the highest-ranked free case",
        body: Filters.pick({ status: true, category: true, source: true }).strict().default({}),
        response: { 200: z.object({ case: CaseDetail.nullable() }), ...errorResponses(...ROLE_LIMITED, ...WITH_BODY) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      const c = await cases.claimNext(user, request.body);
      return { case: c ? await loadDetail(c.id, user) : null };
    },
  );

  app.get(
    "/api/cases/:id",
    { schema: { tags: ["review"], summary: "A case with why it was flagged, reports, campaign and sender history", params: CaseId, response: { 200: CaseDetail, ...errorResponses(...SIGNED_IN, ...WITH_INPUT, 404) } } },
    async (request) => loadDetail(request.params.id, requireUser(request)),
  );

  app.get(
    "/api/cases/:id/sender-traffic",
    {
      schema: {
        tags: ["review"],
        summary: "What the case's sender sent in the last 30 days (by label) and its block-list state",
        params: CaseId,
        response: { 200: SenderTraffic.nullable(), ...errorResponses(...SIGNED_IN, ...WITH_INPUT, 404) },
      },
    },
    async (request) => {
      const c = await cases.get(request.params.id);
      if (!opts.senders || c.kind === "campaign") return null;
      return opts.senders.senderTraffic(c.sender);
    },
  );

  app.post(
    "/api/cases/:id/claim",
    { config: { roles: DECIDERS }, schema: { tags: ["review"], summary: "Claim a case (exclusive, expires)", params: CaseId, response: { 200: CaseDetail, ...errorResponses(...ROLE_LIMITED, ...WITH_BODY, 404, 409) } } },
    async (request) => {
      const user = requireUser(request);
      await cases.claim(request.params.id, user);
      return loadDetail(request.params.id, user);
    },
  );

  app.post(
    "/api/cases/:id/release",
    { config: { roles: DECIDERS }, schema: { tags: ["review"], summary: "Give a claimed case back to the queue", params: CaseId, response: { 200: z.object({ ok: z.literal(true) }), ...errorResponses(...ROLE_LIMITED, ...WITH_BODY, 404, 409) } } },
    async (request) => {
      await cases.release(request.params.id, requireUser(request));
      return { ok: true as const };
    },
  );

  app.post(
    "/api/cases/:id/decide",
    {
      config: { roles: DECIDERS },
      schema: {
        tags: ["review"],
        summary: "Decide a claimed case: spam (with category), not spam, or escalate",
        params: CaseId,
        // One shape per label, so the document says what each needs: a category for spam, a reason to escalate.
        body: z.discriminatedUnion("label", [
          z.object({ label: z.literal("spam"), category: z.enum(SPAM_CATEGORIES, { required_error: "a spam decision needs a category" }), comment: Comment, wholeCampaign: WholeCampaign }).strict(),
          z.object({ label: z.literal("ham"), category: DecisionCategory.nullable().optional(), comment: Comment, wholeCampaign: WholeCampaign }).strict(),
          z
            .object({
              label: z.literal("escalate"),
              category: DecisionCategory.nullable().optional(),
              comment: z.string().max(2000).regex(/\S/, "say why the case is escalated"),
              wholeCampaign: WholeCampaign,
            })
            .strict(),
        ]),
        response: {
          200: z.object({ decisionId: z.string(), decidedCases: z.array(z.string()), skippedCases: z.array(z.string()), messages: z.number().int() }),
          ...errorResponses(...ROLE_LIMITED, ...WITH_BODY, 404, 409),
        },
      },
    },
    async (request) => {
      const b = request.body;
      const result = await cases.decide(request.params.id, requireUser(request), {
        label: b.label,
        category: b.label === "spam" ? b.category : null,
        comment: b.comment,
        wholeCampaign: b.wholeCampaign,
      });
      opts.onDecided();
      return result;
    },
  );

  app.post(
    "/api/cases/:id/reveal",
    {
      schema: {
        tags: ["privacy"],
        summary: "Show a full number or a withheld text of a case you have claimed; needs a reason, is rate-limited per user and audited; never for analysts",
        params: CaseId,
        body: z.object({
          field: z.enum(REVEAL_FIELDS),
          // At least 5 characters between the first and last non-space one (the document's pattern says the same).
          reason: z
            .string()
            .max(500)
            .regex(/\S[\s\S]{3,}\S/, "give a reason of at least 5 characters")
            .transform((r) => r.trim()),
        }).strict(),
        response: {
          200: z.object({ sender: z.string().optional(), text: z.string().optional() }),
          ...errorResponses(...ROLE_LIMITED, ...WITH_BODY, 404, 409, 429),
        },
      },
    },
    async (request) => cases.reveal(request.params.id, requireUser(request), request.body.field, request.body.reason),
  );
};
