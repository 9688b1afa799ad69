import type { EventRecord } from "../api/events.js";
import type { StreamRoute } from "../api/routes.js";
import type { ApiClient } from "./api-client.js";

/**
 * Ends a follower's wait at the controller's next matching event instead of an interval
 * later; the interval is what is left should the event stream break. An event between two
 * waits is kept, so the next wait returns at once.
 */
export interface EventWake {
  next(ms: number): Promise<void>;
  close(): void;
}

export function eventWake(
  client: ApiClient,
  stream: StreamRoute<EventRecord>,
  matches: (type: string) => boolean = () => true,
): EventWake {
  let wake: (() => void) | undefined;
  let missed = false;
  const stop = client.listen(stream, (type) => {
    if (!matches(type)) return;
    if (wake === undefined) missed = true;
    else wake();
  });
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
    close: stop,
  };
}
