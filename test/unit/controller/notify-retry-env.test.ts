import { describe, expect, it } from "vitest";
import { notifyRetryFromEnv } from "../../../src/controller/notify-retry-env.js";

describe("BATON_NOTIFY_ATTEMPTS / BATON_NOTIFY_BACKOFF", () => {
  it("leave the queue's defaults when unset, and give tries and the first wait when set", () => {
    expect(notifyRetryFromEnv({})).toBeUndefined();
    expect(notifyRetryFromEnv({ BATON_NOTIFY_ATTEMPTS: " ", BATON_NOTIFY_BACKOFF: "" })).toBe(
      undefined,
    );
    expect(
      notifyRetryFromEnv({ BATON_NOTIFY_ATTEMPTS: "2", BATON_NOTIFY_BACKOFF: "50ms" }),
    ).toEqual({ maxAttempts: 2, backoff: { baseMs: 50, maxMs: 300_000 } });
    expect(notifyRetryFromEnv({ BATON_NOTIFY_BACKOFF: "10m" })).toEqual({
      backoff: { baseMs: 600_000, maxMs: 600_000 },
    });
  });

  it("name the variable and the fix when a value is wrong", () => {
    expect(() => notifyRetryFromEnv({ BATON_NOTIFY_ATTEMPTS: "0" })).toThrow(
      /BATON_NOTIFY_ATTEMPTS="0" is not a number of tries/,
    );
    expect(() => notifyRetryFromEnv({ BATON_NOTIFY_ATTEMPTS: "2.5" })).toThrow(/number of tries/);
    expect(() => notifyRetryFromEnv({ BATON_NOTIFY_BACKOFF: "100" })).toThrow(
      /BATON_NOTIFY_BACKOFF="100" is not a duration/,
    );
  });
});
