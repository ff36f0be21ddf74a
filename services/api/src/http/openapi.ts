import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { jsonSchemaTransform } from "fastify-type-provider-zod";
import { ZodType } from "zod";

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];

/**
 * Route schemas are zod, except responses of another media type (the CSV export), which are written as
 * OpenAPI response objects (`{ description, content }`) and pass through unchanged.
 */
function transform(input: TransformInput): ReturnType<typeof jsonSchemaTransform> {
  const response = (input.schema as { response?: Record<string, unknown> } | undefined)?.response;
  if (!response) return jsonSchemaTransform(input);
  const zod: Record<string, unknown> = {};
  const raw: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(response)) (schema instanceof ZodType ? zod : raw)[status] = schema;
  const out = jsonSchemaTransform({ ...input, schema: { ...input.schema, response: zod } } as TransformInput);
  const schema = out.schema as { response?: Record<string, unknown> };
  schema.response = { ...raw, ...schema.response };
  return out;
}

/**
 * The OpenAPI document, generated from the route schemas, at /openapi.json, and Swagger UI at /docs:
 * both for signed-in staff only (they map every route and parameter). `sessionCookie` is the cookie's name
 * as configured (`__Host-` prefixed over HTTPS).
 */
export async function registerOpenApi(app: FastifyInstance, sessionCookie: string): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: "Spam SMS review and analytics API",
        version: "1.0.0",
        description:
          "Review console, analytics and exports. Sign in with POST /api/auth/login; send the token as `Authorization: Bearer …` or use the session cookie. " +
          "Every failure has the body `{ error: { code, message, fields?, requestId } }`; `code` is a closed set, each code has one HTTP status. " +
          "A method a path does not offer is answered 405 with `Allow`.",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" }, cookie: { type: "apiKey", in: "cookie", name: sessionCookie } } },
      security: [{ bearer: [] }, { cookie: [] }],
    },
    transform,
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: "/docs",
    uiConfig: { docExpansion: "list" },
    // Swagger UI sets inline styles; scripts stay 'self' only, and the page holds no case data.
    transformStaticCSP: (header) => header.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
