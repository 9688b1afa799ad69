import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { DockerEngine } from "../../../runtime/docker/index.js";
import type { LogLine } from "../../../runtime/driver.js";
import { SwarmClient } from "../../../runtime/swarm/index.js";
import { type LogRecord, lineFields } from "../index.js";
import type { LogSource, LogWindow } from "./log-source.js";

/** The engine's details prefix: `com.docker.swarm.node.id=…,…,com.docker.swarm.task.id=… `. */
const DETAILS = /^((?:[\w.-]+=[^,\s]*,?)+) /;

/**
 * A swarm app's logs: its service's, every task's, from the engine (which interleaves them),
 * each line prefixed by the task that wrote it. Followed, the engine's stream goes on from
 * where the history ended.
 */
export class ServiceLogs implements LogSource {
  /** The last history line's time and how many lines had it: the follow skips those. */
  private end = { at: 0, count: 0 };

  private constructor(
    private readonly client: SwarmClient,
    private readonly serviceId: string,
    readonly app: string,
  ) {}

  /** The app's service of this state directory; undefined when it has none (or no swarm). */
  static async find(stateDir: string, app: string): Promise<ServiceLogs | undefined> {
    return (await ServiceLogs.of(stateDir, app))[0];
  }

  /** Every swarm app's service of this state directory. */
  static async all(stateDir: string): Promise<ServiceLogs[]> {
    return ServiceLogs.of(stateDir, undefined);
  }

  private static async of(stateDir: string, app: string | undefined): Promise<ServiceLogs[]> {
    const engine = new DockerEngine();
    if (!existsSync(engine.socketPath)) return [];
    const client = new SwarmClient(engine);
    const labels = [`baton.state=${resolve(stateDir)}`];
    if (app !== undefined) labels.push(`baton.app=${app}`);
    try {
      return (await client.services(labels)).flatMap((service) => {
        const name = service.Spec.Labels["baton.app"];
        return name === undefined ? [] : [new ServiceLogs(client, service.ID, name)];
      });
    } catch {
      // No engine, or not a swarm manager: no service to read.
      return [];
    }
  }

  async *history(window: LogWindow): AsyncGenerator<LogRecord> {
    const lines = this.client.logs(this.serviceId, {
      follow: false,
      details: true,
      ...(window.since === undefined ? {} : { since: window.since }),
      ...(window.tail === undefined ? {} : { tail: window.tail }),
    });
    for await (const l of lines) {
      if (window.since !== undefined && l.at < window.since) continue;
      if (l.at > this.end.at) this.end = { at: l.at, count: 1 };
      else if (l.at === this.end.at) this.end.count++;
      yield this.record(l);
    }
  }

  async follow(signal: AbortSignal, emit: (record: LogRecord) => void): Promise<void> {
    const { at, count } = this.end;
    let skip = count;
    // The engine's `since` counts whole seconds: older lines are skipped by time, the last
    // history line's own time by count.
    const lines = this.client.logs(this.serviceId, {
      follow: true,
      details: true,
      signal,
      ...(at === 0 ? {} : { since: at }),
    });
    try {
      for await (const l of lines) {
        if (l.at < at) continue;
        if (l.at === at && skip > 0) {
          skip--;
          continue;
        }
        emit(this.record(l));
      }
    } catch {
      // The engine went away or the service was removed: its lines end here.
    }
  }

  private record(l: LogLine): LogRecord {
    const match = DETAILS.exec(l.line);
    const line = match === null ? l.line : l.line.slice(match[0].length);
    const task = /com\.docker\.swarm\.task\.id=([^,\s]+)/.exec(match?.[1] ?? "")?.[1];
    const fields = lineFields(line);
    const source = task === undefined ? this.app : `${this.app}.${task.slice(0, 12)}`;
    return {
      at: l.at,
      source,
      app: this.app,
      ...(task === undefined ? {} : { replica: task }),
      line,
      ...(fields === undefined ? {} : { fields }),
    };
  }
}
