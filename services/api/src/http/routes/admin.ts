import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { audit, AuditEntry, listAudit } from "../../audit.js";
import { Password, ROLES, User, Username, type UserStore } from "../../auth/users.js";
import { requireUser } from "../auth.js";
import { ErrorResponse } from "../schemas.js";

const Errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 409: ErrorResponse };

export const adminRoutes: FastifyPluginAsyncZod<{ users: UserStore }> = async (app, opts) => {
  app.get(
    "/api/admin/audit",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["admin"],
        summary: "Audit log: reveals, decisions, logins, exports (newest first)",
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(100),
          before: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
          action: z.string().max(32).optional(),
          username: z.string().max(64).optional(),
        }),
        response: { 200: z.object({ items: z.array(AuditEntry) }), ...Errors },
      },
    },
    async (request) => ({ items: await listAudit(app.pg, request.query) }),
  );

  app.get(
    "/api/admin/users",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["admin"],
        summary: "Users",
        response: { 200: z.object({ items: z.array(User.extend({ disabled: z.boolean(), createdAt: z.string() })) }), ...Errors },
      },
    },
    async () => ({ items: await opts.users.list() }),
  );

  app.post(
    "/api/admin/users",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["admin"],
        summary: "Create a user",
        body: z.object({ username: Username, displayName: z.string().min(1).max(64).optional(), role: z.enum(ROLES), password: Password }),
        response: { 200: User, ...Errors },
      },
    },
    async (request) => {
      const created = await opts.users.createUser(request.body);
      await audit(app.pg, requireUser(request), "create_user", created.username, "", { role: created.role });
      return created;
    },
  );
};
