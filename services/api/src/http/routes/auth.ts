import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { audit } from "../../audit.js";
import { AccountLockedError, Password, SessionInfo, User, type UserStore } from "../../auth/users.js";
import { ApiError } from "../../errors.js";
import { requireUser, sessionCookieName } from "../auth.js";
import { SessionId, SIGNED_IN, WITH_BODY, errorResponses } from "../schemas.js";

export interface AuthRoutesOptions {
  readonly users: UserStore;
  readonly cookieSecure: boolean;
  readonly loginPerMinute: number;
}

const Ok = z.object({ ok: z.literal(true) });

export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, opts) => {
  const cookieName = sessionCookieName(opts.cookieSecure);

  app.post(
    "/api/auth/login",
    {
      // Per client address (request.ip honours TRUST_PROXY); the per-account lockout is in UserStore.
      config: { public: true, rateLimit: { max: opts.loginPerMinute, timeWindow: "1 minute" } },
      schema: {
        tags: ["auth"],
        summary: "Sign in; sets the session cookie and returns a bearer token",
        description: "Repeated failures lock the account name for a growing time (429 with Retry-After), whichever address they come from.",
        // Anonymous: no security requirement; 401 is a wrong name or password.
        security: [],
        body: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(200) }).strict(),
        response: {
          200: z.object({ user: User, token: z.string(), expiresAt: z.string().datetime() }),
          ...errorResponses(...WITH_BODY, 401, 429),
        },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      let session;
      try {
        session = await opts.users.login(username, password, { ip: request.ip, userAgent: request.headers["user-agent"] ?? "" });
      } catch (e) {
        if (!(e instanceof AccountLockedError)) throw e;
        await audit(app.pg, { id: null, username }, "login_locked", username, "", { ip: request.ip });
        void reply.header("retry-after", String(e.retryAfterSeconds));
        throw new ApiError("rate_limited", e.message);
      }
      if (!session) {
        await audit(app.pg, { id: null, username }, "login_failed", username, "", { ip: request.ip });
        throw new ApiError("unauthenticated", "wrong username or password");
      }
      await audit(app.pg, session.user, "login", session.user.username, "", { ip: request.ip });
      void reply.setCookie(cookieName, session.token, {
        path: "/",
        httpOnly: true,
        sameSite: "strict",
        secure: opts.cookieSecure,
        expires: session.expiresAt,
      });
      return { user: session.user, token: session.token, expiresAt: session.expiresAt.toISOString() };
    },
  );

  app.post(
    "/api/auth/logout",
    { schema: { tags: ["auth"], summary: "End the session", response: { 200: Ok, ...errorResponses(...SIGNED_IN, ...WITH_BODY) } } },
    async (request, reply) => {
      if (request.sessionToken) await opts.users.logout(request.sessionToken);
      await audit(app.pg, requireUser(request), "logout", requireUser(request).username);
      void reply.clearCookie(cookieName, { path: "/", secure: opts.cookieSecure, httpOnly: true, sameSite: "strict" });
      return { ok: true as const };
    },
  );

  app.get(
    "/api/auth/me",
    { schema: { tags: ["auth"], summary: "The signed-in user", response: { 200: User, ...errorResponses(...SIGNED_IN) } } },
    async (request) => requireUser(request),
  );

  app.post(
    "/api/auth/password",
    {
      config: { rateLimit: { max: opts.loginPerMinute, timeWindow: "1 minute" } },
      schema: {
        tags: ["auth"],
        summary: "Change my password; my other sessions end",
        description: "403 when the current password is wrong; repeated failures lock the account (429 with Retry-After).",
        body: z.object({ currentPassword: z.string().min(1).max(200), newPassword: Password }).strict(),
        response: { 200: Ok, ...errorResponses(...SIGNED_IN, ...WITH_BODY, 403, 429) },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      try {
        await opts.users.changeOwnPassword(user, request.sessionToken ?? "", request.body.currentPassword, request.body.newPassword);
      } catch (e) {
        if (!(e instanceof AccountLockedError)) throw e;
        void reply.header("retry-after", String(e.retryAfterSeconds));
        throw new ApiError("rate_limited", e.message);
      }
      await audit(app.pg, user, "set_password", user.username);
      return { ok: true as const };
    },
  );

  app.get(
    "/api/sessions",
    {
      schema: {
        tags: ["auth"],
        summary: "My live sessions (where and when opened, last used); `current` is this one",
        response: { 200: z.object({ items: z.array(SessionInfo) }), ...errorResponses(...SIGNED_IN) },
      },
    },
    async (request) => ({ items: await opts.users.sessionsOf(requireUser(request).id, request.sessionToken) }),
  );

  app.delete(
    "/api/sessions/:id",
    {
      schema: {
        tags: ["auth"],
        summary: "End one of my sessions",
        params: z.object({ id: SessionId }),
        response: { 200: Ok, ...errorResponses(...SIGNED_IN, ...WITH_BODY, 404) },
      },
    },
    async (request) => {
      const user = requireUser(request);
      if (!(await opts.users.revoke(user.id, request.params.id))) throw new ApiError("not_found", "no such session");
      await audit(app.pg, user, "revoke_session", user.username, "", { session: request.params.id });
      return { ok: true as const };
    },
  );
};
