import { createHash } from "node:crypto";
import { constants } from "node:os";
import { resolve } from "node:path";
import type { AppSpec, Command } from "../../definition/index.js";
import { AsyncQueue } from "../../util/async-queue.js";
import { readProcStat } from "../../util/proc.js";
import { delay } from "../../util/wait.js";
import { commandArgv } from "../command.js";
import {
  type Driver,
  type DriverCapabilities,
  type DriverEvent,
  type Handle,
  type LogLine,
  type LogOptions,
  ownState,
  type ReplicaDescription,
  type ReplicaIdentity,
  type ReplicaRef,
  type ReplicaSpec,
  type ReplicaStats,
} from "../driver.js";
import { DockerEngine, DockerError } from "./engine.js";
import { logLines } from "./log-frames.js";

/** Containers publish their port on this machine's loopback, where the proxy connects. */
const LOOPBACK = "127.0.0.1";

/**
 * The docker driver's part of a replica's spec (`ReplicaSpec.options`): the replica as a
 * container. Secure by default: the root filesystem is read-only, every capability is
 * dropped and privileges cannot be gained, unless loosened here explicitly.
 */
export interface ContainerSettings {
  readonly image: string;
  /** Replaces the image's ENTRYPOINT; `command` (else nothing) becomes its arguments. */
  readonly entrypoint?: Command;
  /** `host:container[:ro]` bind mounts, or `volume:container` named volumes. */
  readonly binds?: readonly string[];
  /** `uid[:gid]` or a user name of the image; the image's own user when absent. */
  readonly user?: string;
  /** Default true. */
  readonly readOnlyRootfs?: boolean;
  /** Capabilities added back after all are dropped (e.g. NET_BIND_SERVICE). */
  readonly capAdd?: readonly string[];
  readonly memoryBytes?: number;
  readonly cpus?: number;
  readonly pids?: number;
}

/** What the docker driver keeps in a handle: the container, its image, its main process. */
export interface DockerState {
  /** The container's id. */
  readonly container: string;
  /**
   * Pinned by digest (a built app's release): that reference, which names the manifest
   * pushed to the registry; else the local image id.
   */
  readonly image: string;
  /** The container's main process, as this machine's kernel numbers it. */
  readonly pid: number;
}

export interface DockerDriverOptions {
  /** The state directory: its containers carry its path as a label, and only those are ours. */
  readonly stateDir: string;
  readonly project?: string;
  readonly engine?: DockerEngine;
}

/** Exited containers kept per app, for `baton logs --all` and exit reasons. */
const KEEP_EXITED = 20;
/** The label carrying the app's `logs.maxAge` (ms): read back by readers and the sweep. */
const MAX_AGE_LABEL = "baton.logs.max-age";
/** The longest the sweep of exited containers sleeps; it wakes sooner when one expires sooner. */
const SWEEP_AT_LEAST_EVERY_MS = 3600_000;

interface ContainerSummary {
  Id: string;
  Labels: Record<string, string>;
  State: string;
  Created: number;
}

interface ContainerInspect {
  Id: string;
  Image: string;
  Config: { Labels: Record<string, string>; Image?: string };
  State: {
    Running: boolean;
    Pid: number;
    StartedAt: string;
    FinishedAt?: string;
    ExitCode: number;
  };
}

/**
 * Replicas as Docker containers, over the Engine API. Every container carries the labels
 * `baton.project`, `baton.app`, `baton.revision`, `baton.replica` and `baton.state`, and
 * Baton touches no other. Exits come from the engine's event stream; Docker's restart
 * policy stays `no`, so healing is Baton's alone (a `docker kill` counts as a manual stop
 * for that policy). The replica's PORT inside the container is published on 127.0.0.1 at
 * the port Baton chose, where its proxy connects.
 */
export class DockerDriver implements Driver {
  readonly name = "docker";
  readonly capabilities: DriverCapabilities = {
    localProcesses: false,
    exec: true,
    logs: true,
    stats: true,
    schedulerOwnsPlacement: false,
    schedulerOwnsRollout: false,
    localImages: true,
  };
  private readonly engine: DockerEngine;
  private readonly stateDir: string;
  private readonly stateKey: string;
  private readonly project: string;
  private readonly queue = new AsyncQueue<DriverEvent>();
  private readonly watching = new AbortController();
  private watchingEvents = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepAt = Number.POSITIVE_INFINITY;
  /** Events are read from here on: a die between this and the stream's start is not lost. */
  private readonly since = Math.floor(Date.now() / 1000);

  constructor(options: DockerDriverOptions) {
    this.engine = options.engine ?? new DockerEngine();
    this.stateDir = resolve(options.stateDir);
    this.stateKey = createHash("sha256").update(this.stateDir).digest("hex").slice(0, 8);
    this.project = options.project ?? "baton";
  }

  /**
   * A container gets only its app's own environment, its PORT being the port inside the
   * container, published at the replica's port on 127.0.0.1; it runs in its image's folder.
   */
  async specFor(app: AppSpec, replica: ReplicaIdentity): Promise<ReplicaSpec> {
    const container = app.container;
    const base = {
      ...replica,
      ...(app.command === undefined ? {} : { command: app.command }),
      cwd: "",
      logs: app.logs,
    };
    if (container === undefined) return { ...base, env: { ...app.env } };
    const options: ContainerSettings = {
      image: container.image,
      ...(container.entrypoint === undefined ? {} : { entrypoint: container.entrypoint }),
      binds: container.binds,
      user: container.user,
      readOnlyRootfs: container.readOnlyRootfs,
      capAdd: container.capAdd,
      ...(container.memoryBytes === undefined ? {} : { memoryBytes: container.memoryBytes }),
      ...(container.cpus === undefined ? {} : { cpus: container.cpus }),
      ...(container.pids === undefined ? {} : { pids: container.pids }),
    };
    return { ...base, env: { ...app.env, PORT: String(container.containerPort) }, options };
  }

  async start(spec: ReplicaSpec): Promise<Handle> {
    const container = containerOf(spec);
    const innerPort = spec.env.PORT ?? String(spec.port);
    const name = this.containerName(spec.id);
    await this.engine.call("POST", `/containers/create?name=${encodeURIComponent(name)}`, {
      Image: container.image,
      // Left out, they are the image's own; an Entrypoint given drops the image's CMD, as
      // `docker run --entrypoint` does.
      ...(spec.command === undefined ? {} : { Cmd: commandArgv(spec.command, spec.env) }),
      ...(container.entrypoint === undefined
        ? {}
        : { Entrypoint: commandArgv(container.entrypoint, spec.env) }),
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      // Empty: the image's own working directory.
      ...(spec.cwd === "" ? {} : { WorkingDir: spec.cwd }),
      ...(container.user === undefined ? {} : { User: container.user }),
      Labels: {
        "baton.project": this.project,
        "baton.app": spec.app,
        "baton.revision": spec.revision,
        "baton.replica": spec.id,
        "baton.state": this.stateDir,
        "baton.port": String(spec.port),
        ...(spec.logs?.maxAgeMs === undefined
          ? {}
          : { [MAX_AGE_LABEL]: String(spec.logs.maxAgeMs) }),
      },
      ExposedPorts: { [`${innerPort}/tcp`]: {} },
      HostConfig: {
        PortBindings: {
          [`${innerPort}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: String(spec.port) }],
        },
        Binds: [
          ...(container.binds ?? []),
          ...(spec.secretMounts ?? []).map((m) => `${m.source}:${m.target}:ro`),
        ],
        ReadonlyRootfs: container.readOnlyRootfs ?? true,
        CapDrop: ["ALL"],
        CapAdd: [...(container.capAdd ?? [])],
        SecurityOpt: ["no-new-privileges"],
        // A writable /tmp on a read-only root: most runtimes need one.
        Tmpfs: { "/tmp": "rw,nosuid,nodev,size=64m" },
        RestartPolicy: { Name: "no" },
        // The app's `logs:` size limits, kept by the engine (its json-file driver rotates).
        ...(spec.logs === undefined
          ? {}
          : {
              LogConfig: {
                Type: "json-file",
                Config: {
                  "max-size": String(spec.logs.maxBytes),
                  "max-file": String(Math.max(1, spec.logs.maxFiles)),
                },
              },
            }),
        // Swap equal to the limit: the limit is the memory a replica has, as in Kubernetes.
        ...(container.memoryBytes === undefined
          ? {}
          : { Memory: container.memoryBytes, MemorySwap: container.memoryBytes }),
        ...(container.cpus === undefined ? {} : { NanoCpus: Math.round(container.cpus * 1e9) }),
        ...(container.pids === undefined ? {} : { PidsLimit: container.pids }),
      },
    });
    try {
      await this.engine.call("POST", `/containers/${name}/start`);
    } catch (error) {
      await this.engine.call("DELETE", `/containers/${name}?force=1`).catch(() => undefined);
      throw error;
    }
    const handle = await this.handleOf(name);
    if (handle === undefined) {
      throw new DockerError(500, `container ${name} exited as soon as it started`);
    }
    return handle;
  }

  async stop(handle: Handle, graceMs: number): Promise<void> {
    const name = this.containerName(handle.id);
    // SIGTERM, then SIGKILL after graceMs, as for processes: the engine's own stop only
    // counts whole seconds.
    const exited = this.engine
      .call("POST", `/containers/${name}/wait?condition=not-running`, undefined, 0)
      .then(() => true)
      .catch((error: unknown) => error instanceof DockerError && error.status === 404);
    const killed = await this.signal(name, "SIGTERM");
    if (!killed) return;
    const done = await Promise.race([exited, delay(graceMs).then(() => false)]);
    if (!done) {
      await this.signal(name, "SIGKILL");
      await exited;
    }
    await this.pruneExited(handle.app);
  }

  async recover(app?: string): Promise<Handle[]> {
    const labels = [`baton.state=${this.stateDir}`, ...(app ? [`baton.app=${app}`] : [])];
    const filters = encodeURIComponent(JSON.stringify({ label: labels, status: ["running"] }));
    const found = await this.engine.call<ContainerSummary[]>(
      "GET",
      `/containers/json?filters=${filters}`,
    );
    const handles: Handle[] = [];
    for (const summary of found) {
      const handle = await this.handleOf(summary.Id);
      if (handle !== undefined) handles.push(handle);
    }
    return handles.sort((a, b) => a.startedAt - b.startedAt);
  }

  /**
   * With `exited`, replicas of `app` whose containers the engine still keeps, running or
   * exited (the last few exited ones are kept, with their output): what `baton logs --all`
   * can show.
   */
  async logged(app: string, options: { readonly exited: boolean }): Promise<string[]> {
    const labels = [`baton.state=${this.stateDir}`, `baton.app=${app}`];
    const filters = encodeURIComponent(
      JSON.stringify({ label: labels, ...(options.exited ? {} : { status: ["running"] }) }),
    );
    const found = await this.engine.call<ContainerSummary[]>(
      "GET",
      `/containers/json?all=true&filters=${filters}`,
    );
    return found.flatMap((c) => {
      const id = c.Labels["baton.replica"];
      return id === undefined ? [] : [id];
    });
  }

  /**
   * Opens the engine's event stream on first use, and starts the age sweep of exited
   * containers: the controller reads events, a CLI reading logs needs neither.
   */
  events(): AsyncIterable<DriverEvent> {
    if (!this.watchingEvents) {
      this.watchingEvents = true;
      void this.watchEvents();
      this.scheduleSweep(0);
    }
    return this.queue;
  }

  async *logs(replica: ReplicaRef, options: LogOptions): AsyncIterable<LogLine> {
    const name = this.containerName(replica.id);
    let maxAgeMs: number | undefined;
    try {
      const info = await this.engine.call<ContainerInspect>("GET", `/containers/${name}/json`);
      maxAgeMs = maxAgeOf(info.Config.Labels);
    } catch (error) {
      if (error instanceof DockerError && error.status === 404) return;
      throw error;
    }
    // The engine's json-file driver rotates by size only: output past the app's maxAge is
    // still in its files, and is hidden here from every reader until rotation drops it.
    const since = latest(options.since, maxAgeMs === undefined ? undefined : Date.now() - maxAgeMs);
    const query = new URLSearchParams({ stdout: "1", stderr: "1", timestamps: "1" });
    if (options.follow) query.set("follow", "1");
    if (options.tail !== undefined) query.set("tail", String(options.tail));
    if (since !== undefined) query.set("since", String(Math.floor(since / 1000)));
    let res: AsyncIterable<Buffer>;
    try {
      res = await this.engine.stream(`/containers/${name}/logs?${query}`, options.signal);
    } catch (error) {
      if (error instanceof DockerError && error.status === 404) return;
      throw error;
    }
    try {
      for await (const line of logLines(res)) {
        if (since === undefined || line.at >= since) yield line;
      }
    } catch (error) {
      if (options.signal?.aborted) return;
      throw error;
    }
  }

  async stats(handle: Handle): Promise<ReplicaStats> {
    const stats = await this.engine.call<{
      cpu_stats: { cpu_usage: { total_usage: number } };
      memory_stats: { usage?: number; stats?: { cache?: number; inactive_file?: number } };
    }>("GET", `/containers/${this.containerName(handle.id)}/stats?stream=false&one-shot=true`);
    const memory = stats.memory_stats;
    const cache = memory.stats?.inactive_file ?? memory.stats?.cache ?? 0;
    return {
      cpuSeconds: (stats.cpu_stats.cpu_usage.total_usage ?? 0) / 1e9,
      rssBytes: Math.max(0, (memory.usage ?? 0) - cache),
    };
  }

  /**
   * Runs `argv` inside the replica's container (as a health check would); resolves to its
   * exit code, or null when it did not end within `timeoutMs` (it is killed then).
   */
  async exec(handle: Handle, argv: readonly string[], timeoutMs: number): Promise<number | null> {
    const name = this.containerName(handle.id);
    const { Id } = await this.engine.call<{ Id: string }>("POST", `/containers/${name}/exec`, {
      Cmd: [...argv],
      AttachStdout: false,
      AttachStderr: false,
    });
    await this.engine.call("POST", `/exec/${Id}/start`, { Detach: true, Tty: false });
    const deadline = Date.now() + timeoutMs;
    let interval = 5;
    for (;;) {
      const state = await this.engine.call<{ Running: boolean; ExitCode: number; Pid: number }>(
        "GET",
        `/exec/${Id}/json`,
      );
      if (!state.Running) return state.ExitCode;
      if (Date.now() >= deadline) {
        // The engine cannot kill an exec: its process is killed by its host pid.
        try {
          if (state.Pid > 0) process.kill(state.Pid, "SIGKILL");
        } catch {
          // gone meanwhile
        }
        return null;
      }
      await delay(interval);
      interval = Math.min(interval * 2, 100);
    }
  }

  describe(handle: Handle): ReplicaDescription {
    const { container, image, pid } = stateOf(handle);
    return { pid, container, image };
  }

  async close(): Promise<void> {
    clearTimeout(this.sweepTimer);
    this.watching.abort();
    this.queue.close();
  }

  /** Container names are the replica id scoped by the state directory: unique per host. */
  private containerName(id: string): string {
    return `baton-${this.stateKey}-${id}`;
  }

  /** A live container of ours as a handle; undefined when it is not running. */
  private async handleOf(nameOrId: string): Promise<Handle | undefined> {
    let info: ContainerInspect;
    try {
      info = await this.engine.call<ContainerInspect>("GET", `/containers/${nameOrId}/json`);
    } catch (error) {
      if (error instanceof DockerError && error.status === 404) return undefined;
      throw error;
    }
    const labels = info.Config.Labels;
    if (!info.State.Running || labels["baton.state"] !== this.stateDir) return undefined;
    const pid = info.State.Pid;
    // The engine learns of a death a moment after the kernel: a gone pid is not running.
    const stat = readProcStat(pid);
    if (stat === undefined || stat.state === "Z") return undefined;
    const state: DockerState = {
      container: info.Id,
      image: info.Config.Image?.includes("@sha256:") ? info.Config.Image : info.Image,
      pid,
    };
    return {
      id: labels["baton.replica"] ?? "",
      app: labels["baton.app"] ?? "",
      revision: labels["baton.revision"] ?? "",
      driver: "docker",
      host: LOOPBACK,
      port: Number(labels["baton.port"]),
      startedAt: Date.parse(info.State.StartedAt),
      state,
    };
  }

  private async signal(name: string, signal: string): Promise<boolean> {
    try {
      await this.engine.call("POST", `/containers/${name}/kill?signal=${signal}`);
      return true;
    } catch (error) {
      // 404: gone; 409: not running. Either way there is nothing left to signal.
      if (error instanceof DockerError && (error.status === 404 || error.status === 409)) {
        return false;
      }
      throw error;
    }
  }

  /** The engine's `die` events of our containers, as exit events, for as long as we run. */
  private async watchEvents(): Promise<void> {
    const filters = encodeURIComponent(
      JSON.stringify({
        type: ["container"],
        event: ["die"],
        label: [`baton.state=${this.stateDir}`],
      }),
    );
    let since = this.since;
    while (!this.watching.signal.aborted) {
      try {
        const res = await this.engine.stream(
          `/events?since=${since}&filters=${filters}`,
          this.watching.signal,
        );
        since = Math.floor(Date.now() / 1000);
        let rest = "";
        for await (const chunk of res as AsyncIterable<Buffer>) {
          const lines = (rest + chunk.toString("utf8")).split("\n");
          rest = lines.pop() ?? "";
          for (const line of lines) if (line.trim() !== "") await this.onDie(JSON.parse(line));
        }
      } catch {
        // The engine restarted or the stream broke: reconnect, unless we are closing.
      }
      if (!this.watching.signal.aborted) await delay(200, this.watching.signal).catch(() => {});
    }
  }

  private async onDie(event: {
    Actor?: { ID?: string; Attributes?: Record<string, string> };
    time?: number;
    timeNano?: number;
  }): Promise<void> {
    const attributes = event.Actor?.Attributes ?? {};
    const id = attributes["baton.replica"];
    const app = attributes["baton.app"];
    if (id === undefined || app === undefined) return;
    // The `oom` event may come before or after `die`; the container's state says for sure.
    const inspected = await this.engine
      .call<{ State?: { OOMKilled?: boolean }; HostConfig?: { Memory?: number } }>(
        "GET",
        `/containers/${event.Actor?.ID ?? ""}/json`,
      )
      .catch(() => undefined);
    const oom = inspected?.State?.OOMKilled === true;
    const limit = inspected?.HostConfig?.Memory ?? 0;
    const exitCode = Number(attributes.exitCode ?? "0");
    const signal = signalOf(exitCode);
    this.queue.push({
      type: "exited",
      id,
      app,
      code: signal === null ? exitCode : null,
      signal,
      at: event.timeNano !== undefined ? Math.floor(event.timeNano / 1e6) : Date.now(),
      ...(oom ? { oom } : {}),
      ...(oom && limit > 0 ? { memoryLimitBytes: limit } : {}),
    });
    void this.pruneExited(app).catch(() => undefined);
    // A container that just ended expires maxAge from now: the sweep must wake by then.
    const maxAgeMs = maxAgeOf(attributes);
    const inMs =
      maxAgeMs === undefined ? undefined : Math.min(maxAgeMs + 50, SWEEP_AT_LEAST_EVERY_MS);
    if (inMs !== undefined && Date.now() + inMs < this.sweepAt) this.scheduleSweep(inMs);
  }

  /** Exited containers beyond the last KEEP_EXITED of an app are removed with their logs. */
  private async pruneExited(app: string): Promise<void> {
    const exited = await this.exitedContainers(app);
    const old = exited.sort((a, b) => b.Created - a.Created).slice(KEEP_EXITED);
    for (const container of old) await this.remove(container.Id);
  }

  /**
   * Removes every exited container of ours, of any app, that ended longer ago than its app's
   * `logs.maxAge`, with its logs. Resolves to the removed replicas' ids and the time the next
   * kept one expires (undefined: none will).
   */
  async pruneByAge(now: number): Promise<{ removed: string[]; nextAt: number | undefined }> {
    const removed: string[] = [];
    let nextAt: number | undefined;
    for (const container of await this.exitedContainers()) {
      const maxAgeMs = maxAgeOf(container.Labels);
      if (maxAgeMs === undefined) continue;
      // Created is in seconds; a container cannot have ended before it was created.
      if (container.Created * 1000 + maxAgeMs > now) {
        nextAt = earliest(nextAt, container.Created * 1000 + maxAgeMs);
        continue;
      }
      const info = await this.engine
        .call<ContainerInspect>("GET", `/containers/${container.Id}/json`)
        .catch(() => undefined);
      if (info === undefined) continue;
      const finished = Date.parse(info.State.FinishedAt ?? "");
      // A never-started container reports year 1: its age counts from its creation.
      const endedAt =
        Number.isFinite(finished) && finished > 0 ? finished : container.Created * 1000;
      if (endedAt + maxAgeMs > now) {
        nextAt = earliest(nextAt, endedAt + maxAgeMs);
        continue;
      }
      await this.remove(container.Id);
      removed.push(container.Labels["baton.replica"] ?? container.Id);
    }
    return { removed, nextAt };
  }

  /** The age sweep sleeps until the next kept container expires, an hour at most. */
  private scheduleSweep(inMs: number): void {
    clearTimeout(this.sweepTimer);
    this.sweepAt = Date.now() + inMs;
    this.sweepTimer = setTimeout(() => {
      this.sweepAt = Number.POSITIVE_INFINITY;
      if (this.watching.signal.aborted) return;
      const now = Date.now();
      void this.pruneByAge(now)
        .then(
          ({ nextAt }) => nextAt,
          () => undefined,
        )
        .then((nextAt) => {
          if (this.watching.signal.aborted) return;
          const wait = nextAt === undefined ? SWEEP_AT_LEAST_EVERY_MS : nextAt - Date.now() + 50;
          const inMs = Math.max(50, Math.min(wait, SWEEP_AT_LEAST_EVERY_MS));
          // A container that ended during this sweep may already have asked for a sooner one.
          if (Date.now() + inMs < this.sweepAt) this.scheduleSweep(inMs);
        });
    }, inMs);
    this.sweepTimer.unref();
  }

  private async exitedContainers(app?: string): Promise<ContainerSummary[]> {
    const labels = [
      `baton.state=${this.stateDir}`,
      ...(app === undefined ? [] : [`baton.app=${app}`]),
    ];
    const filters = encodeURIComponent(
      JSON.stringify({ label: labels, status: ["exited", "dead", "created"] }),
    );
    return this.engine.call<ContainerSummary[]>("GET", `/containers/json?all=1&filters=${filters}`);
  }

  private async remove(id: string): Promise<void> {
    await this.engine.call("DELETE", `/containers/${id}?force=1`).catch(() => {});
  }
}

/** The container a spec asks for; only `specFor` and typed callers make these options. */
function containerOf(spec: ReplicaSpec): ContainerSettings {
  const options = spec.options;
  if (typeof options !== "object" || options === null || !("image" in options)) {
    throw new DockerError(400, `replica ${spec.id} has no container image to run`);
  }
  if (typeof options.image !== "string") {
    throw new DockerError(400, `replica ${spec.id}: its container image is not a name`);
  }
  return options as ContainerSettings;
}

function stateOf(handle: Handle): DockerState {
  const { container, image, pid } = ownState(handle, "docker");
  if (typeof container !== "string" || typeof image !== "string" || typeof pid !== "number") {
    throw new Error(`bug: ${handle.id} has no container state: ${JSON.stringify(handle.state)}`);
  }
  return { container, image, pid };
}

function maxAgeOf(labels: Record<string, string>): number | undefined {
  const value = Number(labels[MAX_AGE_LABEL]);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

function latest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.max(a, b);
}

function earliest(a: number | undefined, b: number): number {
  return a === undefined ? b : Math.min(a, b);
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name]));

/** Docker reports a container killed by signal N as exit code 128 + N. */
function signalOf(exitCode: number): string | null {
  if (exitCode <= 128 || exitCode > 128 + 64) return null;
  return SIGNAL_NAMES.get(exitCode - 128) ?? null;
}
