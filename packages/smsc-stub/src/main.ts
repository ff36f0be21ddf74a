import { createServiceLogger, loadEnvOrExit, runService } from "@spam/service-runtime";
import { loadSmscStubEnv } from "./env.js";
import { SmscStub } from "./stub.js";

const env = loadEnvOrExit("smsc-stub", () => loadSmscStubEnv());
const logger = createServiceLogger("smsc-stub", env.LOG_LEVEL);
runService("smsc-stub", logger, () => {
  const stub = new SmscStub({
    host: env.SMSC_STUB_HOST,
    port: env.SMSC_STUB_PORT,
    systemId: env.SMSC_STUB_SYSTEM_ID,
    password: env.SMSC_STUB_PASSWORD,
    receiptDelayMs: env.SMSC_STUB_RECEIPT_DELAY_MS,
    maxRecorded: 1_000,
    logger,
  });
  let counter: NodeJS.Timeout | null = null;
  return {
    async start() {
      await stub.listen();
      logger.info({ port: stub.port }, "SMSC stub listening");
      let last = 0;
      counter = setInterval(() => {
        if (stub.accepted !== last) logger.info({ accepted: stub.accepted, refused: stub.refused }, "SMSC stub received");
        last = stub.accepted;
      }, 10_000);
      counter.unref();
    },
    async stop() {
      if (counter) clearInterval(counter);
      await stub.close();
    },
  };
});
