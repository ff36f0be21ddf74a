import type { Logger } from "pino";

/** `Started` is what start() resolves with, for callers that need it (the API's URL); runService ignores it. */
export interface ServiceHandle<Started = void> {
  start(): Promise<Started>;
  /** Drains in-flight work and closes connections; must be safe to call once. */
  stop(): Promise<void>;
}

/**
 * Runs a service until SIGTERM/SIGINT, then stops it (draining) and exits 0.
 * A second signal, or a stop that takes longer than `stopTimeoutMs`, exits 1.
 */
export function runService(name: string, logger: Logger, build: () => Promise<ServiceHandle<unknown>> | ServiceHandle<unknown>, stopTimeoutMs = 30_000): void {
  let handle: ServiceHandle<unknown> | null = null;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, "second signal: exiting without waiting");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, "stopping: draining in-flight work");
    const timer = setTimeout(() => {
      logger.error({ stopTimeoutMs }, "stop timed out");
      process.exit(1);
    }, stopTimeoutMs);
    timer.unref();
    Promise.resolve(handle?.stop())
      .then(() => {
        logger.info("stopped cleanly");
        logger.flush();
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, "error while stopping");
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled rejection"));

  Promise.resolve()
    .then(build)
    .then(async (h) => {
      handle = h;
      await h.start();
      logger.info({ service: name }, "started");
    })
    .catch((err: unknown) => {
      logger.fatal({ err }, "failed to start");
      logger.flush();
      process.exit(1);
    });
}
