import type { EventRecord } from "../api/index.js";
import type { BatonClient } from "../client/client.js";

/**
 * Ends a follower's wait at the controller's next matching event instead of an interval
 * later; the interval is what is left should the event stream break. An event between two
 * waits is kept, so the next wait returns at once.
 */
export interface EventWake {
  next(ms: number): Promise<void>;
  close(): void;
}

/** Events from now on (of `app` when given), read from the client's event stream. */
export function eventWake(
  client: BatonClient,
  app: string | undefined,
  matches: (event: EventRecord) => boolean = () => true,
): EventWake {
  let wake: (() => void) | undefined;
  let missed = false;
  const stop = new AbortController();
  // Best effort: a stream that fails just ends, and whoever waits has its own deadline.
  void (async () => {
    try {
      for await (const event of client.events({
        after: "latest",
        ...(app === undefined ? {} : { app }),
        signal: stop.signal,
      })) {
        if (!matches(event)) continue;
        if (wake === undefined) missed = true;
        else wake();
      }
    } catch {
      // the stream broke: the waits fall back to their intervals
    }
  })();
  return {
    next(ms) {
      if (missed) {
        missed = false;
        return Promise.resolve();
      }
      return new Promise<void>((done) => {
        const timer = setTimeout(finish, ms);
        function finish(): void {
          clearTimeout(timer);
          wake = undefined;
          done();
        }
        wake = finish;
      });
    },
    close: () => stop.abort(),
  };
}
