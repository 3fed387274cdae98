import { defineConfig } from "vitest/config";

// Two projects: `unit` runs pure logic with plain objects; `integration` talks to the real
// control plane that test/harness/global-setup.ts starts once per run. A controller's tests that
// need the API server sit beside it as `*.cluster.test.ts` and run in the integration project.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["**/*.test.ts"],
          // charts/kaito-ts/crds is a symlink to crds/, whose tests run from there.
          exclude: [
            "node_modules/**",
            "charts/kaito-ts/crds/**",
            "test/integration/**",
            "test/e2e/**",
            "**/*.cluster.test.ts",
          ],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts", "**/*.cluster.test.ts"],
          exclude: ["node_modules/**", "charts/kaito-ts/crds/**"],
          globalSetup: ["test/harness/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
