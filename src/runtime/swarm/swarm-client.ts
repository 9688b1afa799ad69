import type { IncomingMessage } from "node:http";
import { DockerEngine, DockerError } from "../docker/engine.js";
import { logLines } from "../docker/log-frames.js";
import type { LogLine, LogOptions } from "../driver.js";
import type { ServiceSpec } from "./service-spec.js";

/** A service as the engine shows it (the parts Baton reads). */
export interface Service {
  ID: string;
  Version: { Index: number };
  Spec: ServiceSpec;
  PreviousSpec?: ServiceSpec;
  UpdateStatus?: {
    /** updating | paused | completed | rollback_started | rollback_paused | rollback_completed */
    State?: string;
    Message?: string;
    StartedAt?: string;
    CompletedAt?: string;
  };
}

export interface Task {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  CreatedAt: string;
  DesiredState: string;
  Spec: { ContainerSpec?: { Image?: string; Labels?: Record<string, string> } };
  Status: {
    Timestamp?: string;
    /** new | pending | assigned | accepted | preparing | starting | running | complete | failed | shutdown | rejected | orphaned | remove */
    State: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; PID?: number; ExitCode?: number };
    PortStatus?: {
      Ports?: { Protocol?: string; TargetPort?: number; PublishedPort?: number }[];
    };
  };
}

/** A Docker secret as the engine lists it (never with its data). */
export interface DockerSecret {
  ID: string;
  Spec: { Name: string; Labels?: Record<string, string> };
}

export interface SwarmNode {
  ID: string;
  Status: { State?: string; Addr?: string };
  ManagerStatus?: { Addr?: string };
}

export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
}

/**
 * The Swarm half of the Engine API: services, tasks, nodes, service logs and events. A
 * thin layer over DockerEngine; a call that needs a manager on an engine that is not one
 * says how to make it one.
 */
export class SwarmClient {
  readonly engine: DockerEngine;

  constructor(engine = new DockerEngine()) {
    this.engine = engine;
  }

  /** `active` when this engine is a swarm node; `inactive`, `pending`, ... otherwise. */
  async localNodeState(): Promise<string> {
    const info = await this.engine.call<{ Swarm?: { LocalNodeState?: string } }>("GET", "/info");
    return info.Swarm?.LocalNodeState ?? "inactive";
  }

  services(labels: readonly string[]): Promise<Service[]> {
    return this.call("GET", `/services?filters=${filters({ label: labels })}`);
  }

  async service(id: string): Promise<Service | undefined> {
    try {
      return await this.call<Service>("GET", `/services/${encodeURIComponent(id)}`);
    } catch (error) {
      if (error instanceof DockerError && error.status === 404) return undefined;
      throw error;
    }
  }

  async create(spec: ServiceSpec): Promise<string> {
    const created = await this.call<{ ID: string }>("POST", "/services/create", spec);
    return created.ID;
  }

  /** Replaces the spec of the service at `version` (a concurrent change fails, not lost). */
  async update(id: string, version: number, spec: ServiceSpec): Promise<void> {
    await this.call("POST", `/services/${encodeURIComponent(id)}/update?version=${version}`, spec);
  }

  async remove(id: string): Promise<void> {
    try {
      await this.call("DELETE", `/services/${encodeURIComponent(id)}`);
    } catch (error) {
      if (!(error instanceof DockerError && error.status === 404)) throw error;
    }
  }

  secrets(labels: readonly string[]): Promise<DockerSecret[]> {
    return this.call("GET", `/secrets?filters=${filters({ label: labels })}`);
  }

  /** Creates a Docker secret holding `data`; its id. */
  async createSecret(name: string, labels: Record<string, string>, data: string): Promise<string> {
    const created = await this.call<{ ID: string }>("POST", "/secrets/create", {
      Name: name,
      Labels: labels,
      Data: Buffer.from(data, "utf8").toString("base64"),
    });
    return created.ID;
  }

  /** Removes a secret; false when a service still uses it (the engine refuses, 409). */
  async removeSecret(id: string): Promise<boolean> {
    try {
      await this.call("DELETE", `/secrets/${encodeURIComponent(id)}`);
      return true;
    } catch (error) {
      if (error instanceof DockerError && error.status === 404) return true;
      if (error instanceof DockerError && error.status === 409) return false;
      throw error;
    }
  }

  tasks(serviceId: string): Promise<Task[]> {
    return this.call("GET", `/tasks?filters=${filters({ service: [serviceId] })}`);
  }

  nodes(): Promise<SwarmNode[]> {
    return this.call("GET", "/nodes");
  }

  /** The image id a task's container runs, when that container is on this engine. */
  async containerImage(containerId: string): Promise<string | undefined> {
    try {
      const info = await this.engine.call<{ Image: string }>(
        "GET",
        `/containers/${encodeURIComponent(containerId)}/json`,
      );
      return info.Image;
    } catch (error) {
      if (error instanceof DockerError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * The service's logs, every task's interleaved by the engine. With `details`, each line
   * begins with the engine's `com.docker.swarm.…=…` attributes (which task wrote it) and a space.
   */
  logs(
    serviceId: string,
    options: LogOptions & { readonly details?: boolean },
  ): AsyncGenerator<LogLine> {
    return this.logsAt(`/services/${encodeURIComponent(serviceId)}/logs`, options);
  }

  /** One task's logs, from whichever node ran it (also after it ended, while the engine keeps them). */
  taskLogs(taskId: string, options: LogOptions): AsyncGenerator<LogLine> {
    return this.logsAt(`/tasks/${encodeURIComponent(taskId)}/logs`, options);
  }

  private async *logsAt(
    path: string,
    options: LogOptions & { readonly details?: boolean },
  ): AsyncGenerator<LogLine> {
    const query = new URLSearchParams({
      stdout: "1",
      stderr: "1",
      timestamps: "1",
      details: options.details === true ? "1" : "0",
      follow: options.follow === true ? "1" : "0",
      tail: options.tail === undefined ? "all" : String(options.tail),
      ...(options.since === undefined ? {} : { since: String(Math.floor(options.since / 1000)) }),
    });
    let res: IncomingMessage;
    try {
      res = await this.engine.stream(`${path}?${query}`, options.signal);
    } catch (error) {
      if (options.signal?.aborted) return;
      throw error;
    }
    try {
      yield* logLines(res);
    } catch (error) {
      if (!options.signal?.aborted) throw error;
    }
  }

  /** The engine's event stream for the given filters, until `signal` aborts. */
  async *events(
    filter: Record<string, readonly string[]>,
    signal: AbortSignal,
  ): AsyncGenerator<EngineEvent> {
    const res = await this.engine.stream(`/events?filters=${filters(filter)}`, signal);
    let rest = "";
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        rest += chunk.toString("utf8");
        const lines = rest.split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) if (line.trim() !== "") yield JSON.parse(line) as EngineEvent;
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await this.engine.call<T>(method, path, body);
    } catch (error) {
      if (error instanceof DockerError && error.status === 503 && /swarm/i.test(error.message)) {
        throw new DockerError(
          503,
          `${error.message}; runtime: swarm needs this engine to be a swarm manager: run \`docker swarm init\` (or join it to a swarm as a manager)`,
        );
      }
      throw error;
    }
  }
}

function filters(value: Record<string, readonly string[]>): string {
  return encodeURIComponent(JSON.stringify(value));
}
