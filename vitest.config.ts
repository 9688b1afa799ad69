import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/helpers/config-home.ts"],
    // Integration suites start real processes and proxies; two cores are shared
    // between them, so files run two at a time and each test gets a generous deadline.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
