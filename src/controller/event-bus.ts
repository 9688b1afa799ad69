import type { EventRecord, NewEvent } from "../store/index.js";

/**
 * Every event is first written to the store (append-only, never lost with the controller),
 * then handed to live listeners (the API's event stream, `apply --wait`).
 */
export class EventBus {
  private readonly listeners = new Set<(event: EventRecord) => void>();

  constructor(private readonly append: (event: NewEvent) => EventRecord) {}

  emit(event: NewEvent): EventRecord {
    const record = this.append(event);
    for (const listener of this.listeners) listener(record);
    return record;
  }

  subscribe(listener: (event: EventRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
