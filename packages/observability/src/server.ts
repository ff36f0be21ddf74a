import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { ServiceMetrics } from "./metrics.js";

/** A readiness check resolves true (ready) or false / throws (not ready). */
export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface ObservabilityServerOptions {
  readonly metrics: ServiceMetrics;
  readonly logger: Logger;
  /** 0 picks a free port (tests); services pass METRICS_PORT. */
  readonly port: number;
  readonly host?: string;
  /** A check slower than this counts as not ready. Default 1 s. */
  readonly checkTimeoutMs?: number;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Record<string, { ok: boolean; error?: string }>;
}

/**
 * `/healthz` (the process answers: liveness), `/readyz` (every registered check
 * passes: readiness) and `/metrics` (Prometheus text) on plain node:http, so a
 * service needs no web framework for them.
 */
export class ObservabilityServer {
  private readonly server: Server;
  private readonly checks = new Map<string, ReadinessCheck>();
  private readonly logger: Logger;
  private readonly checkTimeoutMs: number;

  constructor(private readonly options: ObservabilityServerOptions) {
    this.logger = options.logger.child({ component: "observability-http" });
    this.checkTimeoutMs = options.checkTimeoutMs ?? 1_000;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.logger.error({ err }, "observability request failed");
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end("internal error\n");
      });
    });
    // Scrapers keep connections alive; do not let them hold up shutdown.
    this.server.keepAliveTimeout = 5_000;
  }

  /** Registers (or replaces) a named readiness check. */
  addReadinessCheck(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, this.options.host ?? "127.0.0.1", () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    const address = this.address;
    this.logger.info({ port: address.port }, "observability endpoints listening (/healthz, /readyz, /metrics)");
    return address;
  }

  get address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async readiness(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => [name, await this.runCheck(check)] as const),
    );
    const checks = Object.fromEntries(entries);
    return { ready: entries.every(([, r]) => r.ok), checks };
  }

  private async runCheck(check: ReadinessCheck): Promise<{ ok: boolean; error?: string }> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`check timed out after ${this.checkTimeoutMs} ms`)), this.checkTimeoutMs);
      });
      const ok = await Promise.race([Promise.resolve().then(check), timeout]);
      return ok ? { ok: true } : { ok: false };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
      res.end("method not allowed\n");
      return;
    }
    switch (path) {
      case "/healthz":
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ status: "ok", uptimeSeconds: Math.round(process.uptime()) }));
        return;
      case "/readyz": {
        const report = await this.readiness();
        res.writeHead(report.ready ? 200 : 503, { "content-type": "application/json" });
        res.end(JSON.stringify(report));
        return;
      }
      case "/metrics": {
        const body = await this.options.metrics.metricsText();
        res.writeHead(200, { "content-type": this.options.metrics.contentType });
        res.end(body);
        return;
      }
      default:
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not found\n");
    }
  }
}
