import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyCookie from "@fastify/cookie";
import fastifyHelmet from "@fastify/helmet";
import fastifyRateLimit from "@fastify/rate-limit";
import fastifyStatic from "@fastify/static";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from "fastify-type-provider-zod";
import type pg from "pg";
import type { ServiceMetrics } from "@spam/observability";
import type { Logger } from "pino";
import { z } from "zod";
import type { SenderHistorySource } from "../analytics/sender.js";
import type { ReviewAnalytics, TrafficAnalytics } from "../analytics/types.js";
import type { UserStore } from "../auth/users.js";
import type { CaseStore } from "../review/cases.js";
import { installAuth, sessionCookieName } from "./auth.js";
import { MAX_PARAM_LENGTH, frameworkErrors, installErrorHandling } from "./errors.js";
import { registerOpenApi } from "./openapi.js";
import { adminRoutes } from "./routes/admin.js";
import { analyticsRoutes } from "./routes/analytics.js";
import { authRoutes } from "./routes/auth.js";
import { modelsRoutes, type ModelsRoutesOptions } from "./routes/models.js";
import { deliveryRoutes, emptyDeliveryCounts, type DeliveryCounts } from "./routes/delivery.js";
import { reviewRoutes } from "./routes/review.js";

declare module "fastify" {
  interface FastifyInstance {
    pg: pg.Pool;
  }
}

export interface AppDeps {
  readonly logger: Logger;
  readonly pool: pg.Pool;
  readonly users: UserStore;
  readonly cases: CaseStore;
  readonly traffic: TrafficAnalytics;
  readonly review: ReviewAnalytics;
  readonly senders?: SenderHistorySource;
  /** Relay mode's delivered/stopped counts (routes/delivery.ts); none when absent. */
  readonly delivery?: DeliveryCounts;
  readonly config: {
    readonly slaHours: number;
    readonly cookieSecure: boolean;
    readonly loginPerMinute: number;
    /** Proxies whose X-Forwarded-For names the client (fastify's trustProxy); default: none. */
    readonly trustProxy?: boolean | string[];
  };
  /** Readiness of the parts besides PostgreSQL (Kafka producer connected, …). */
  readonly ready?: () => Promise<Record<string, boolean>>;
  readonly onDecided?: () => void;
  /** Served at /metrics (Prometheus) when given; 5xx answers count as errors `http_5xx`. */
  readonly metrics?: ServiceMetrics;
  /** Model registry and shadow figures (routes/models.ts); absent: those routes answer 503. */
  readonly models?: ModelsRoutesOptions;
}

/** The console's static files ship beside src/ and dist/. */
export const PUBLIC_DIR = fileURLToPath(new URL("../../public/", import.meta.url));
const require = createRequire(import.meta.url);
/** ECharts served from node_modules: the review floor has no internet, so no CDN. */
const ECHARTS_DIR = join(dirname(require.resolve("echarts/package.json")), "dist");

/**
 * The console renders every server value as text, and the policy enforces what that promises: scripts
 * and styles only from this origin, no inline script or handler, no plugins, no <base>, no framing.
 * HSTS and upgrade-insecure-requests only when served over HTTPS (COOKIE_SECURE).
 */
function securityHeaders(https: boolean) {
  return {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // Browsers report what the policy blocked: an attempted injection shows up in the API's log.
        reportUri: ["/api/csp-report"],
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    xFrameOptions: { action: "deny" as const },
    referrerPolicy: { policy: "no-referrer" as const },
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginOpenerPolicy: { policy: "same-origin" as const },
    crossOriginResourcePolicy: { policy: "same-origin" as const },
  };
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    trustProxy: deps.config.trustProxy ?? false,
    bodyLimit: 256 * 1024,
    // Long path parameters reach validation and get the closed 400 body, not fastify's own 414.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    // Request ids let a user quote an error to support without seeing internals.
    genReqId: () => crypto.randomUUID(),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate("pg", deps.pool);
  installErrorHandling(app);
  // First hook of all, so the headers are on every answer: pages, API, static files, errors, 404s.
  await app.register(fastifyHelmet, securityHeaders(deps.config.cookieSecure));

  // Static routes are registered by plugins: mark everything under them public. The API docs are not:
  // they map every route and parameter, which only staff need (any signed-in role).
  app.addHook("onRoute", (route) => {
    if (route.url.startsWith("/assets") || route.url.startsWith("/vendor")) {
      route.config = { ...(route.config ?? {}), public: true };
    }
  });
  await registerOpenApi(app, sessionCookieName(deps.config.cookieSecure));
  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, { global: false });
  installAuth(app, deps.users, sessionCookieName(deps.config.cookieSecure));
  // API answers hold case data: no browser or proxy cache keeps them (ASVS 8.2.1).
  app.addHook("onSend", async (request, reply) => {
    if (request.url.startsWith("/api/") && !reply.hasHeader("cache-control")) void reply.header("cache-control", "no-store");
  });

  // CSP violation reports: logged (bounded fields only) and counted; never an error to the browser.
  app.addContentTypeParser(["application/csp-report", "application/reports+json"], { parseAs: "string", bodyLimit: 16 * 1024 }, (_request, body, done) => {
    try {
      done(null, JSON.parse(String(body)));
    } catch {
      done(null, {});
    }
  });
  app.post(
    "/api/csp-report",
    { config: { public: true, rateLimit: { max: 60, timeWindow: "1 minute" } }, schema: { hide: true } },
    async (request, reply) => {
      const body = request.body as { "csp-report"?: Record<string, unknown> } | Record<string, unknown>[] | null;
      const reports = Array.isArray(body) ? body.map((r) => (r.body ?? {}) as Record<string, unknown>) : [((body as { "csp-report"?: Record<string, unknown> } | null)?.["csp-report"] ?? {})];
      const field = (r: Record<string, unknown>, ...keys: string[]) => {
        const v = keys.map((k) => r[k]).find((x) => typeof x === "string");
        return typeof v === "string" ? v.slice(0, 200) : "";
      };
      for (const r of reports.slice(0, 10)) {
        deps.metrics?.recordError("csp_violation");
        request.log.warn(
          {
            directive: field(r, "effective-directive", "effectiveDirective", "violated-directive"),
            blocked: field(r, "blocked-uri", "blockedURL"),
            page: field(r, "document-uri", "documentURL").replace(/\?.*$/, ""),
          },
          "content security policy violation",
        );
      }
      return reply.status(204).send();
    },
  );

  app.get(
    "/healthz",
    { config: { public: true }, schema: { tags: ["ops"], summary: "Liveness", security: [], response: { 200: z.object({ ok: z.literal(true) }) } } },
    async () => ({ ok: true as const }),
  );
  app.get(
    "/readyz",
    {
      config: { public: true },
      schema: { tags: ["ops"], summary: "Readiness: PostgreSQL and dependencies", security: [], response: { 200: z.object({ ok: z.boolean(), checks: z.record(z.boolean()) }), 503: z.object({ ok: z.boolean(), checks: z.record(z.boolean()) }) } },
    },
    async (_request, reply) => {
      const checks: Record<string, boolean> = {};
      checks.postgres = await deps.pool.query("SELECT 1").then(() => true, () => false);
      Object.assign(checks, (await deps.ready?.().catch(() => ({ dependencies: false }))) ?? {});
      const ok = Object.values(checks).every(Boolean);
      return reply.status(ok ? 200 : 503).send({ ok, checks });
    },
  );

  const { metrics } = deps;
  if (metrics) {
    app.addHook("onResponse", async (_request, reply) => {
      if (reply.statusCode >= 500) metrics.recordError("http_5xx");
    });
    app.get("/metrics", { config: { public: true }, schema: { hide: true } }, async (_request, reply) =>
      reply.type(metrics.contentType).send(await metrics.metricsText()),
    );
  }

  await app.register(authRoutes, { users: deps.users, cookieSecure: deps.config.cookieSecure, loginPerMinute: deps.config.loginPerMinute });
  await app.register(reviewRoutes, { cases: deps.cases, ...(deps.senders ? { senders: deps.senders } : {}), slaHours: deps.config.slaHours, onDecided: deps.onDecided ?? (() => undefined) });
  await app.register(adminRoutes, { users: deps.users });
  await app.register(analyticsRoutes, { traffic: deps.traffic, review: deps.review, slaHours: deps.config.slaHours });
  await app.register(modelsRoutes, deps.models ?? { registry: null, shadow: null });
  await app.register(deliveryRoutes, { counts: deps.delivery ?? emptyDeliveryCounts });

  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: "/assets/", index: false });
  await app.register(fastifyStatic, { root: ECHARTS_DIR, prefix: "/vendor/echarts/", decorateReply: false, index: false });
  // The console is a single page; its own script asks for a session and shows the login form.
  for (const path of ["/", "/login", "/queue", "/case/*", "/analytics", "/audit", "/sessions", "/models"]) {
    app.get(path, { config: { public: true }, schema: { hide: true } }, async (_request, reply) => reply.sendFile("index.html", PUBLIC_DIR));
  }
  return app;
}
