import { existsSync } from "node:fs";
import { join } from "node:path";
import { type EventRecord, SqliteStore } from "../../../store/index.js";
import { delay } from "../../../util/wait.js";
import type { LogRecord } from "../index.js";
import type { LogSource, LogWindow } from "./log-source.js";

const POLL_MS = 500;

/**
 * What Baton did on a host and when: the host events of the event store (passes applied or
 * failed, drift found or healed, unreachable) and each resource's last application. Events
 * hold no secrets by contract; a `secret` file's content never reaches them.
 */
export class HostLogs implements LogSource {
  private lastEventId = 0;

  constructor(
    private readonly stateDir: string,
    readonly host: string,
  ) {}

  exists(): boolean {
    if (!existsSync(join(this.stateDir, "state.db"))) return false;
    return this.withStore(
      (store) =>
        store.hosts.applied(this.host).length > 0 ||
        store.hosts.facts(this.host) !== undefined ||
        this.events(store, 0).length > 0,
    );
  }

  /** Events and applied resources are few (a row per pass or resource): read at once. */
  async *history(window: LogWindow): AsyncGenerator<LogRecord> {
    yield* this.withStore((store) => {
      const events = this.events(store, 0);
      this.lastEventId = store.events({ limit: 1 }).at(-1)?.id ?? 0;
      const applied = store.hosts.applied(this.host).map(
        (r): LogRecord => ({
          at: r.appliedAt,
          source: this.host,
          host: this.host,
          line: `applied ${r.module} ${r.identity}`,
          fields: { type: "host.resource", module: r.module, identity: r.identity },
        }),
      );
      let records = [...events.map((e) => this.record(e)), ...applied].sort((a, b) => a.at - b.at);
      if (window.since !== undefined) {
        const since = window.since;
        records = records.filter((r) => r.at >= since);
      }
      return window.tail === undefined ? records : records.slice(-window.tail);
    });
  }

  async follow(signal: AbortSignal, emit: (record: LogRecord) => void): Promise<void> {
    while (!signal.aborted) {
      await delay(POLL_MS, signal).catch(() => undefined);
      if (signal.aborted) return;
      const events = this.withStore((store) => this.events(store, this.lastEventId));
      for (const event of events) {
        this.lastEventId = event.id;
        emit(this.record(event));
      }
    }
  }

  /** Host events after an id: `host.*` events whose data names the host. */
  private events(store: SqliteStore, afterId: number): EventRecord[] {
    return store
      .events({ afterId })
      .filter((e) => e.type.startsWith("host.") && e.data.host === this.host);
  }

  private record(event: EventRecord): LogRecord {
    return {
      at: event.at,
      source: this.host,
      host: this.host,
      line: `${event.type} ${event.message}`,
      fields: { type: event.type, ...event.data },
    };
  }

  private withStore<T>(read: (store: SqliteStore) => T): T {
    const store = SqliteStore.open(this.stateDir, { create: false });
    try {
      return read(store);
    } finally {
      store.close();
    }
  }
}
