import type { EventRecord, NewEvent } from "../store/index.js";

/**
 * Every event is first written to the store (append-only, never lost with the controller),
 * then handed to live listeners (the API's event stream, `apply --wait`, the alerts) in the
 * order it was written. An event a listener emits while one is being handed out (an alert
 * firing on a `host.drift`) waits until every listener has that one: a listener never sees
 * an event before the one that caused it, and the stream, which skips ids it has passed,
 * loses neither.
 */
export class EventBus {
  private readonly listeners = new Set<(event: EventRecord) => void>();
  private readonly pending: EventRecord[] = [];
  private dispatching = false;

  constructor(private readonly append: (event: NewEvent) => EventRecord) {}

  emit(event: NewEvent): EventRecord {
    const record = this.append(event);
    this.pending.push(record);
    if (this.dispatching) return record;
    this.dispatching = true;
    try {
      for (let next = this.pending.shift(); next !== undefined; next = this.pending.shift()) {
        for (const listener of this.listeners) listener(next);
      }
    } finally {
      this.dispatching = false;
    }
    return record;
  }

  subscribe(listener: (event: EventRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
