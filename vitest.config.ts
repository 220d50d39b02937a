import { defineConfig } from "vitest/config";

/**
 * unit: pure code, no network. integration: store and worker against emulators started once
 * per run. e2e: HTTP against the local stack. infra: the synthesized CloudFormation template.
 */
export default defineConfig({
  test: {
    // Two files at once even on two cores: the infra synth (CPU) runs beside the end-to-end files
    // (which mostly wait on their stacks), instead of after them.
    maxWorkers: 2,
    reporters: ["default", ["json", { outputFile: "reports/vitest.json" }]],
    projects: [
      { test: { name: "unit", include: ["tests/unit/**/*.test.ts"], env: { POWERTOOLS_LOG_LEVEL: "SILENT" } } },
      {
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          globalSetup: ["tests/setup/emulators.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["tests/e2e/**/*.test.ts"],
          globalSetup: ["tests/setup/local-stack.ts"],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "infra",
          include: ["tests/infra/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
