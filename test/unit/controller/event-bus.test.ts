import { describe, expect, it } from "vitest";
import { EventBus } from "../../../src/controller/event-bus.js";
import type { EventRecord, NewEvent } from "../../../src/store/index.js";

function bus(): EventBus {
  let id = 0;
  return new EventBus(
    (event: NewEvent): EventRecord => ({
      id: ++id,
      at: id,
      type: event.type,
      app: event.app ?? null,
      replica: null,
      message: event.message,
      data: event.data ?? {},
    }),
  );
}

describe("the event bus", () => {
  it("hands every listener the events in the order they were recorded, those a listener emits too", () => {
    const events = bus();
    // As the alerts do: a host.drift makes an alert fire, emitted from inside the listener.
    events.subscribe((event) => {
      if (event.type === "host.drift") events.emit({ type: "alert.firing", message: "drift" });
    });
    const seen: string[] = [];
    events.subscribe((event) => seen.push(`${event.id} ${event.type}`));

    events.emit({ type: "host.drift", message: "web1: file differs" });
    events.emit({ type: "host.applied", message: "web1: 1 changed" });

    expect(seen).toEqual(["1 host.drift", "2 alert.firing", "3 host.applied"]);
  });
});
