import { describe, expect, it } from "vitest";
import { sampleIntervalFromEnv } from "../../../src/controller/metrics-sampler.js";

describe("BATON_METRICS_INTERVAL", () => {
  it("reads milliseconds, ms and s, and 0 for off", () => {
    expect(sampleIntervalFromEnv(undefined)).toBeUndefined();
    expect(sampleIntervalFromEnv("")).toBeUndefined();
    expect(sampleIntervalFromEnv("1000")).toBe(1000);
    expect(sampleIntervalFromEnv("500ms")).toBe(500);
    expect(sampleIntervalFromEnv("2s")).toBe(2000);
    expect(sampleIntervalFromEnv("0")).toBe(0);
  });

  it("refuses anything else, saying what to write", () => {
    expect(() => sampleIntervalFromEnv("fast")).toThrow(/BATON_METRICS_INTERVAL="fast"/);
    try {
      sampleIntervalFromEnv("-1");
    } catch (error) {
      expect((error as { hint?: string }).hint).toMatch(/0 to turn sampling off/);
      return;
    }
    throw new Error("expected -1 to be refused");
  });
});
