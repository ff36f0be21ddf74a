import { defineConfig } from "vitest/config";

// One run for unit tests (beside the code), integration tests (real Kafka and
// ClickHouse, started by the global setup when not already running) and the
// end-to-end tests under test/.
export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "services/*/src/**/*.test.ts", "infra/local/src/**/*.test.ts", "benchmarks/src/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    globalSetup: ["./infra/local/dist/vitest-global-setup.js", "./infra/postgres/vitest-global-setup.mjs"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Workspace packages are built by tsc first; load their dist with Node itself.
    server: { deps: { external: [/\/dist\//, /node_modules/] } },
    reporters: process.env.CI ? ["verbose"] : ["default"],
  },
});
