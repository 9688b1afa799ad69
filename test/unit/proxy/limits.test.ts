import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, limitsFrom } from "../../../src/apps/proxy/limits.js";
import { newClock, sweepIntervalMs } from "../../../src/apps/proxy/listener.js";

const none = {
  headTimeoutMs: undefined,
  maxConnections: undefined,
  maxConnectionsPerClient: undefined,
};

describe("the proxy's limits", () => {
  it("take each flag, else its environment variable, else the default", () => {
    expect(limitsFrom(none, {})).toEqual(DEFAULT_LIMITS);
    expect(
      limitsFrom(
        { ...none, headTimeoutMs: "2000" },
        { BATON_PROXY_HEAD_TIMEOUT_MS: "5000", BATON_PROXY_MAX_CONNECTIONS_PER_CLIENT: "8" },
      ),
    ).toEqual({ headTimeoutMs: 2000, maxConnections: 10_000, maxConnectionsPerClient: 8 });
  });

  it("refuse what is not a whole number ≥ 1, naming the flag and the variable", () => {
    expect(() => limitsFrom({ ...none, maxConnections: "0" }, {})).toThrow(
      '--max-connections / BATON_PROXY_MAX_CONNECTIONS must be a whole number ≥ 1, found "0"',
    );
    expect(() => limitsFrom(none, { BATON_PROXY_HEAD_TIMEOUT_MS: "10s" })).toThrow(
      '--head-timeout-ms / BATON_PROXY_HEAD_TIMEOUT_MS must be a whole number ≥ 1, found "10s"',
    );
  });

  it("sweep four times a head deadline, never cutting a head before it", () => {
    expect(sweepIntervalMs(DEFAULT_LIMITS)).toBe(2_500);
    const clock = newClock(DEFAULT_LIMITS);
    // Begun just before a tick: cut at the 5th tick after, 10 s or more later.
    expect(clock.headTicks).toBe(5);
    expect(clock.idleTicks * sweepIntervalMs(DEFAULT_LIMITS)).toBe(60_000);
    expect(sweepIntervalMs({ ...DEFAULT_LIMITS, headTimeoutMs: 60_000 })).toBe(5_000);
  });
});
