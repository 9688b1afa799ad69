import { describe, expect, it } from "vitest";
import { SlotBackoff } from "../../../src/apps/backoff.js";

const policy = { backoffMs: 250, maxBackoffMs: 2_000, resetAfterMs: 30_000 };

describe("restart backoff", () => {
  it("replaces the first exit at once, then doubles from backoff up to maxBackoff", () => {
    const backoff = new SlotBackoff(policy);
    const delays = Array.from({ length: 7 }, () => backoff.onExit(100));
    expect(delays).toEqual([0, 250, 500, 1_000, 2_000, 2_000, 2_000]);
  });

  it("starts over after a replica ran for resetAfter", () => {
    const backoff = new SlotBackoff(policy);
    backoff.onExit(10);
    backoff.onExit(10);
    expect(backoff.onExit(10)).toBe(500);
    expect(backoff.onExit(30_000)).toBe(0);
    expect(backoff.onExit(10)).toBe(250);
  });

  it("starts over when told the replica is stable", () => {
    const backoff = new SlotBackoff(policy);
    backoff.onExit(10);
    backoff.onExit(10);
    backoff.onStable();
    expect(backoff.consecutiveFailures).toBe(0);
    expect(backoff.onExit(10)).toBe(0);
  });
});
