import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ModelControl } from "@spam/contracts";
import { CandidateRulesError, RegistryError, candidateRules, modelControlFor, type BacktestResult, type ModelRegistry, type RegistryState, type ShadowReport } from "@spam/learning";
import { maskNumber } from "@spam/privacy";
import { audit } from "../../audit.js";
import { ApiError, type ApiErrorCode } from "../../errors.js";
import { requireUser } from "../auth.js";
import { DateTimeParam, ROLE_LIMITED, WITH_BODY, WITH_INPUT, errorResponses } from "../schemas.js";
import { RangeQuery } from "./analytics.js";

/** What the model pages need; each part absent when the deployment has none (503 on its routes). */
export interface ModelsRoutesOptions {
  readonly registry: ModelRegistry | null;
  readonly shadow: { report(range: { from: Date; to: Date }, limit: number): Promise<ShadowReport> } | null;
  /** Tells the scorers (control topic); absent: they pick the change up at their next start. */
  readonly announce?: (command: ModelControl) => Promise<void>;
  /** Runs a candidate rule set over the stored traffic (@spam/learning runBacktest); absent: 503. */
  readonly backtest?: (rules: ReturnType<typeof candidateRules>, days: number, samples: number) => Promise<BacktestResult>;
}

/** A backtest reads up to a month of traffic: the console may ask for at most this many days (the CLI for more). */
const CONSOLE_BACKTEST_MAX_DAYS = 30;

const ModelId = z.string().regex(/^[a-f0-9]{8,64}$/, "a model id is 8–64 lowercase hex digits");
const Reason = z.string().trim().min(3).max(500);
/** The registry may be missing (503); a change names a version it does not hold (404) or cannot apply (409). */
const READ_ERRORS = errorResponses(...ROLE_LIMITED, 503);
const CHANGE_ERRORS = errorResponses(...ROLE_LIMITED, ...WITH_BODY, 404, 409, 503);
const BACKTEST_ERRORS = errorResponses(...ROLE_LIMITED, ...WITH_BODY, 409, 429, 503);
const REPORT_ERRORS = errorResponses(...ROLE_LIMITED, ...WITH_INPUT, 503);

const Metrics = z.record(z.string(), z.unknown());
const ModelEntry = z.object({
  id: z.string(),
  live: z.boolean(),
  shadow: z.boolean(),
  createdAt: z.string(),
  registeredAt: z.string(),
  parent: z.string().nullable(),
  /** Per evaluation file: the candidate's and the then-live model's figures (`spam eval`). */
  metrics: z.record(z.string(), z.object({ candidate: Metrics, live: Metrics.nullable() })),
  notes: z.string(),
});
const Change = z.object({ at: z.string(), by: z.string(), action: z.string(), from: z.string().nullable(), to: z.string().nullable() });
const State = z.object({ live: z.string().nullable(), shadow: z.string().nullable(), previous: z.string().nullable(), announced: z.boolean() });

const Figures = z.object({
  shadowModelVersion: z.string(),
  /** "" when the shadow used the live rules. */
  shadowRulesetVersion: z.string(),
  scored: z.number(),
  liveCalled: z.number(),
  shadowCalled: z.number(),
  shadowOnly: z.number(),
  liveOnly: z.number(),
  reviewed: z.object({ spam: z.number(), ham: z.number(), shadowCalledSpam: z.number(), shadowCalledHam: z.number(), liveCalledSpam: z.number(), liveCalledHam: z.number() }),
  shadowPrecision: z.number().nullable(),
  livePrecision: z.number().nullable(),
});
const Disagreement = z.object({
  messageId: z.string(),
  receivedAt: z.number(),
  source: z.string(),
  liveLabel: z.string(),
  liveScore: z.number(),
  shadowModelVersion: z.string(),
  shadowRulesetVersion: z.string(),
  shadowLabel: z.string(),
  shadowScore: z.number(),
  reviewed: z.enum(["spam", "ham"]).nullable(),
});

const REGISTRY_STATUS: Readonly<Record<RegistryError["code"], ApiErrorCode>> = {
  invalid_id: "bad_request",
  not_found: "not_found",
  nothing_to_roll_back: "conflict",
  bad_file: "internal",
};

function registryError(err: unknown): never {
  if (err instanceof RegistryError) throw new ApiError(REGISTRY_STATUS[err.code], err.code === "bad_file" ? "the registry holds a damaged file" : err.message.replace(/ in \/.*$/, ""));
  throw err;
}

/** Model registry (admins change it, analysts read it) and the shadow model's figures for every console role. */
export const modelsRoutes: FastifyPluginAsyncZod<ModelsRoutesOptions> = async (app, opts) => {
  const tags = ["models"];
  const registry = (): ModelRegistry => {
    if (!opts.registry) throw new ApiError("unavailable", "no model registry is configured (MODEL_REGISTRY_DIR)");
    return opts.registry;
  };
  const tell = async (state: RegistryState, by: string): Promise<boolean> => {
    const command = modelControlFor(state, by);
    if (!command || !opts.announce) return false;
    try {
      await opts.announce(command);
      return true;
    } catch (err) {
      app.log.warn({ err }, "model change not announced: scorers pick it up at their next start");
      return false;
    }
  };
  const stateOut = (s: RegistryState, announced: boolean) => ({ live: s.live, shadow: s.shadow, previous: s.liveHistory.at(-2) ?? null, announced });

  app.get(
    "/api/models",
    {
      config: { roles: ["admin", "analyst"] },
      schema: { tags, summary: "Registered model versions with their cards, which is live and in shadow, and the change history", response: { 200: z.object({ state: State, models: z.array(ModelEntry), changes: z.array(Change) }), ...READ_ERRORS } },
    },
    async () => {
      const reg = registry();
      const [state, models] = await Promise.all([reg.state(), reg.list()]).catch(registryError);
      return {
        state: stateOut(state, false),
        models: models.map((m) => ({ id: m.id, live: m.live, shadow: m.shadow, createdAt: m.card.createdAt, registeredAt: m.card.registeredAt, parent: m.card.parent, metrics: m.card.metrics, notes: m.card.notes })),
        changes: state.changes.slice(-50).reverse(),
      };
    },
  );

  const change = (path: string, summary: string, body: z.ZodTypeAny, run: (reg: ModelRegistry, body: { id?: string | null; reason: string }, by: string) => Promise<RegistryState>, action: "model_promote" | "model_rollback" | "model_shadow") =>
    app.post(
      path,
      { config: { roles: ["admin"] }, schema: { tags, summary, body, response: { 200: State, ...CHANGE_ERRORS } } },
      async (request) => {
        const user = requireUser(request);
        const input = request.body as { id?: string | null; reason: string };
        const by = `admin:${user.username}`;
        const state = await run(registry(), input, by).catch(registryError);
        await audit(request.server.pg, user, action, input.id ?? state.live ?? "", input.reason, { live: state.live, shadow: state.shadow });
        return stateOut(state, await tell(state, by));
      },
    );

  change("/api/models/promote", "Make a registered version live on every scorer", z.object({ id: ModelId, reason: Reason }).strict(), (reg, b, by) => reg.promote(b.id!, by), "model_promote");
  change("/api/models/rollback", "Put back the version that was live before the current one", z.object({ reason: Reason }).strict(), (reg, _b, by) => reg.rollback(by), "model_rollback");
  change("/api/models/shadow", "Run a registered version in shadow beside the live one (null: stop)", z.object({ id: ModelId.nullable(), reason: Reason }).strict(), (reg, b, by) => reg.setShadow(b.id ?? null, by), "model_shadow");

  // One backtest at a time per API process: each streams up to a month of stored traffic.
  let backtesting = false;
  app.post(
    "/api/rules/backtest",
    {
      config: { roles: ["admin", "analyst"], rateLimit: { max: 10, timeWindow: "1 hour" } },
      schema: {
        tags: ["rules"],
        summary: "Run a candidate rule file over the stored traffic of the last N days: hits, senders, campaigns, precision on reviewed messages, masked samples",
        body: z.object({ rules: z.string().min(1).max(64 * 1024), days: z.number().int().min(1).max(CONSOLE_BACKTEST_MAX_DAYS), samples: z.number().int().min(0).max(50).default(10) }).strict(),
        response: {
          200: z.object({
            rulesetVersion: z.string(), from: z.number(), to: z.number(), scanned: z.number(), hits: z.number(), distinctSenders: z.number(), campaigns: z.number(),
            reviewedSpam: z.number(), reviewedHam: z.number(), precisionEstimate: z.number().nullable(), hitsLiveAllowed: z.number(),
            byRule: z.array(z.object({ ruleId: z.string(), hits: z.number(), reviewedSpam: z.number(), reviewedHam: z.number() })),
            samples: z.array(z.object({ messageId: z.string(), receivedAt: z.number(), sender: z.string(), text: z.string().nullable(), rules: z.array(z.string()), liveLabel: z.string(), reviewed: z.enum(["spam", "ham"]).nullable() })),
            seconds: z.number(),
          }),
          ...BACKTEST_ERRORS,
        },
      },
    },
    async (request) => {
      if (!opts.backtest) throw new ApiError("unavailable", "no verdict store is configured (CLICKHOUSE_URL)");
      let rules;
      try {
        rules = candidateRules(request.body.rules);
      } catch (err) {
        if (err instanceof CandidateRulesError) throw new ApiError("bad_request", err.message, [{ path: "body.rules", message: err.message }]);
        throw err;
      }
      if (backtesting) throw new ApiError("conflict", "a backtest is already running; try again when it is done");
      backtesting = true;
      try {
        // Samples come masked, legitimate texts withheld (runBacktest); senders once more through the policy module.
        const result = await opts.backtest(rules, request.body.days, request.body.samples);
        return { ...result, byRule: [...result.byRule], samples: result.samples.map((x) => ({ ...x, rules: [...x.rules], sender: maskNumber(x.sender) })) };
      } finally {
        backtesting = false;
      }
    },
  );

  app.get(
    "/api/models/shadow-report",
    {
      config: { roles: ["admin", "analyst", "reviewer"] },
      schema: {
        tags,
        summary: "The shadow model beside the live one: volume, would-be precision on reviewed messages, latest disagreements",
        querystring: z.object({ from: DateTimeParam.optional(), to: DateTimeParam.optional(), limit: z.coerce.number().int().min(1).max(500).default(50) }),
        response: { 200: z.object({ models: z.array(Figures), disagreements: z.array(Disagreement) }), ...REPORT_ERRORS },
      },
    },
    async (request) => {
      if (!opts.shadow) throw new ApiError("unavailable", "no verdict store is configured (CLICKHOUSE_URL)");
      const report = await opts.shadow.report(RangeQuery.parse(request.query), request.query.limit);
      // Senders leave through the one privacy module; texts are not part of this answer.
      return { models: [...report.models], disagreements: report.disagreements.map((d) => ({ ...d, source: maskNumber(d.source) })) };
    },
  );
};
