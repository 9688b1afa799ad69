import { createHash } from "node:crypto";
import { resolve } from "node:path";
import type { AppSpec } from "../../definition/index.js";
import type {
  AppGroup,
  GroupDeployment,
  GroupObservation,
  GroupReplica,
  GroupRollout,
  GroupSecretFile,
  Handle,
  LogLine,
  LogOptions,
  ReplicaDescription,
  ReplicaRef,
  ReplicaSpec,
  ReplicaStats,
  SchedulerDriver,
} from "../driver.js";
import { ownState } from "../driver.js";
import {
  buildServiceSpec,
  dockerSecretName,
  STATE_LABEL,
  type SwarmSecretFile,
  serviceName,
  specDrift,
} from "./service-spec.js";
import { type Service, SwarmClient, type Task } from "./swarm-client.js";

const LOOPBACK = "127.0.0.1";
/** A broken event stream (the engine restarted) is opened again after this long. */
const REWATCH_MS = 1_000;

export interface SwarmDriverOptions {
  /** The state directory: the `baton.state` label of every service of ours. */
  readonly stateDir: string;
  readonly client?: SwarmClient;
}

/** What the driver keeps in the handle of a task, to describe it without asking the engine. */
interface TaskState {
  readonly service: string;
  readonly container?: string;
  readonly image?: string;
  readonly node?: string;
  readonly pid?: number;
}

/**
 * Apps with `runtime: swarm` as Swarm services (Engine API): an app's group is one service
 * labelled with the state directory, its replicas the service's tasks. Swarm places tasks,
 * replaces those that end, runs the readiness check inside each and rolls revisions out
 * (rolling back on its own); Baton deploys the spec and reads back what Swarm did.
 * Exec and stats are not offered: a task's container may be on any node of the swarm.
 */
export class SwarmDriver implements SchedulerDriver {
  readonly name = "swarm";
  readonly capabilities = {
    localProcesses: false,
    exec: false,
    logs: true,
    stats: false,
    schedulerOwnsPlacement: true,
    schedulerOwnsRollout: true,
    // Each node's engine pulls a task's image by its digest from the registry.
    localImages: false,
  } as const;
  private readonly client: SwarmClient;
  private readonly stateDir: string;
  /** Node id → the address its host-mode ports are reached at. */
  private nodes = new Map<string, string>();
  /** Container id → image id, for tasks on this engine (an id does not change). */
  private readonly images = new Map<string, string>();
  /** Service name and id → app, for the services this instance has seen: `changes` wakes those. */
  private readonly known = new Map<string, string>();
  private readonly closing = new AbortController();

  constructor(options: SwarmDriverOptions) {
    this.client = options.client ?? new SwarmClient();
    this.stateDir = resolve(options.stateDir);
  }

  specFor(app: AppSpec): Promise<ReplicaSpec> {
    return Promise.reject(refused(`a replica spec of ${app.name}`));
  }

  start(spec: ReplicaSpec): Promise<Handle> {
    return Promise.reject(refused(`a start of replica ${spec.id}`));
  }

  stop(handle: Handle): Promise<void> {
    return Promise.reject(refused(`a stop of task ${handle.id}`));
  }

  /** None: Baton started no task itself; the scheduler's are found by `observe`. */
  async recover(): Promise<Handle[]> {
    return [];
  }

  /** No replica Baton started exits here: a task's end is a `changes` of its app. */
  async *events(): AsyncIterable<never> {}

  logs(replica: ReplicaRef, options: LogOptions): AsyncIterable<LogLine> {
    return this.client.taskLogs(replica.id, options);
  }

  /** The app's tasks meant to run, and with `exited` every task the engine still keeps. */
  async logged(app: string, options: { readonly exited: boolean }): Promise<string[]> {
    const ids: string[] = [];
    for (const service of await this.servicesOf(app)) {
      for (const task of await this.client.tasks(service.ID)) {
        if (options.exited || task.DesiredState === "running") ids.push(task.ID);
      }
    }
    return ids;
  }

  stats(handle: Handle): Promise<ReplicaStats> {
    return Promise.reject(new Error(`bug: stats of task ${handle.id}: the swarm driver has none`));
  }

  describe(handle: Handle): ReplicaDescription {
    const state = ownState(handle, this.name);
    const text = (key: string) => (typeof state[key] === "string" ? state[key] : undefined);
    const pid = typeof state.pid === "number" ? state.pid : undefined;
    const container = text("container");
    const image = text("image");
    const node = text("node");
    return {
      ...(pid === undefined ? {} : { pid }),
      ...(container === undefined ? {} : { container }),
      ...(image === undefined ? {} : { image }),
      ...(node === undefined ? {} : { node }),
    };
  }

  async close(): Promise<void> {
    this.closing.abort();
  }

  async deploy(group: AppGroup): Promise<GroupDeployment> {
    const secretFiles = await this.ensureSecrets(group, group.secretFiles ?? []);
    const desired = buildServiceSpec(group.spec, {
      project: group.project,
      stateDir: this.stateDir,
      revision: group.revision,
      replicas: group.replicas,
      budget: group.budget,
      ...(group.secretEnv === undefined ? {} : { secretEnv: group.secretEnv }),
      ...(secretFiles.length === 0 ? {} : { secretFiles }),
    });
    this.known.set(desired.Name, group.app);
    const [service, ...extra] = await this.servicesOf(group.app);
    for (const duplicate of extra) await this.client.remove(duplicate.ID);
    const duplicates = extra.map((s) => s.Spec.Name);
    if (service === undefined) {
      this.known.set(await this.client.create(desired), group.app);
      return { action: "created", name: desired.Name, duplicates };
    }
    // Swarm is putting the previous spec back: what it writes is not drift.
    if (service.UpdateStatus?.State === "rollback_started") {
      return { action: "unchanged", duplicates };
    }
    const fields = specDrift(desired, service.Spec);
    if (fields.length === 0) return { action: "unchanged", duplicates };
    await this.client.update(service.ID, service.Version.Index, desired);
    const order = desired.UpdateConfig?.Order ?? "stop-first";
    const parallelism = desired.UpdateConfig?.Parallelism ?? 1;
    return {
      action: "updated",
      name: desired.Name,
      fields,
      how: `Swarm rolls ${desired.Name} (${order}, ${parallelism} at a time, rollback on failure)`,
      duplicates,
    };
  }

  async remove(app: string): Promise<readonly string[]> {
    const services = await this.servicesOf(app);
    for (const service of services) await this.client.remove(service.ID);
    await this.pruneSecrets(app, new Set());
    return services.map((s) => s.Spec.Name);
  }

  /**
   * The Docker secret of each secret file of the group, created when its value is new: one
   * per (app, secret, value digest), labelled so that it is found again and removed once no
   * service of the app uses it.
   */
  private async ensureSecrets(
    group: AppGroup,
    files: readonly GroupSecretFile[],
  ): Promise<SwarmSecretFile[]> {
    if (files.length === 0) return [];
    const existing = new Map(
      (await this.client.secrets(this.secretLabels(group.app))).map((s) => [s.Spec.Name, s.ID]),
    );
    const out: SwarmSecretFile[] = [];
    for (const file of files) {
      // The revision's keyed digest; a plain hash of a short value could be guessed back.
      const digest =
        group.spec.secretDigests?.[file.secret] ??
        createHash("sha256").update(`${this.stateDir}\0${file.content}`).digest("hex");
      const name = dockerSecretName(group.project, group.app, file.secret, digest);
      let id = existing.get(name);
      if (id === undefined) {
        id = await this.client.createSecret(
          name,
          {
            [STATE_LABEL]: this.stateDir,
            "baton.project": group.project,
            "baton.app": group.app,
            "baton.secret": file.secret,
          },
          file.content,
        );
        existing.set(name, id);
      }
      out.push({ path: file.path, mode: file.mode, secretId: id, secretName: name });
    }
    return out;
  }

  /** Removes the app's Docker secrets not in `used`; one still referenced is kept for later. */
  private async pruneSecrets(app: string, used: ReadonlySet<string>): Promise<void> {
    for (const secret of await this.client.secrets(this.secretLabels(app))) {
      if (!used.has(secret.Spec.Name)) await this.client.removeSecret(secret.ID);
    }
  }

  private secretLabels(app: string): string[] {
    return [`${STATE_LABEL}=${this.stateDir}`, `baton.app=${app}`];
  }

  async observe(app: string): Promise<GroupObservation> {
    const [service] = await this.servicesOf(app);
    if (service === undefined) return { app, size: 0, replicas: [], rollout: { state: "idle" } };
    // Once a rollout is over (either way) a value no longer in the spec has no use; until
    // then a rollback may need the previous spec's (an update clears the status at first).
    const over = ["completed", "rollback_completed"].includes(service.UpdateStatus?.State ?? "");
    const used = [service.Spec, ...(over ? [] : [service.PreviousSpec])].flatMap(
      (spec) => spec?.TaskTemplate.ContainerSpec.Secrets ?? [],
    );
    await this.pruneSecrets(app, new Set(used.map((s) => s.SecretName)));
    const tasks = await this.client.tasks(service.ID);
    await this.refreshNodes(tasks);
    await this.refreshImages(tasks);
    const shown = tasks
      .filter(
        (t) => t.DesiredState === "running" || ["running", "starting"].includes(t.Status.State),
      )
      .sort((a, b) => (a.Slot ?? 0) - (b.Slot ?? 0) || a.CreatedAt.localeCompare(b.CreatedAt));
    return {
      app,
      revision: revisionOf(service),
      size: service.Spec.Mode.Replicated?.Replicas ?? 0,
      replicas: shown.map((task) => this.replicaOf(app, service, task)),
      rollout: rolloutOf(service),
    };
  }

  async groups(): Promise<string[]> {
    const services = await this.client.services([`${STATE_LABEL}=${this.stateDir}`]);
    const apps = new Set<string>();
    for (const service of services) {
      const app = service.Spec.Labels["baton.app"];
      if (app === undefined) continue;
      this.remember(app, service);
      apps.add(app);
    }
    return [...apps];
  }

  /**
   * Engine events, by the app of the service they concern: a service changed or removed
   * (by Baton or by hand), a task's container started, died or became healthy.
   */
  async *changes(signal: AbortSignal): AsyncIterable<{ readonly app: string }> {
    const both = AbortSignal.any([signal, this.closing.signal]);
    const woken: string[] = [];
    let wake: (() => void) | undefined;
    const follow = async (filter: Record<string, readonly string[]>): Promise<void> => {
      while (!both.aborted) {
        try {
          for await (const event of this.client.events(filter, both)) {
            // Each health check is an exec in the container: it changes nothing by itself
            // (its outcome is a health_status event), and would wake the app every interval.
            if (event.Action.startsWith("exec_")) continue;
            // A container names its service in a label, a service event by its name.
            const attributes = event.Actor.Attributes ?? {};
            const app =
              this.known.get(attributes["baton.service"] ?? "") ??
              this.known.get(attributes.name ?? "") ??
              this.known.get(event.Actor.ID);
            if (app === undefined) continue;
            woken.push(app);
            wake?.();
          }
        } catch {
          // The engine restarted or is not there: try again shortly.
        }
        if (!both.aborted) await new Promise((r) => setTimeout(r, REWATCH_MS).unref());
      }
    };
    const following = Promise.all([
      follow({ type: ["service"] }),
      follow({ type: ["container"], label: ["baton.service"] }),
    ]);
    const ended = new Promise<void>((r) => both.addEventListener("abort", () => r()));
    try {
      while (!both.aborted) {
        const app = woken.shift();
        if (app !== undefined) {
          yield { app };
          continue;
        }
        await Promise.race([new Promise<void>((r) => (wake = r)), ended]);
        wake = undefined;
      }
    } finally {
      await following;
    }
  }

  private replicaOf(app: string, service: Service, task: Task): GroupReplica {
    const container = task.Status.ContainerStatus?.ContainerID || undefined;
    const image = task.Spec.ContainerSpec?.Image ?? "";
    const digest = image.includes("@sha256:")
      ? image.slice(image.indexOf("@") + 1)
      : container === undefined
        ? undefined
        : this.images.get(container);
    const port = publishedPort(task);
    const host = this.nodes.get(task.NodeID ?? "");
    const ready = task.DesiredState === "running" && task.Status.State === "running";
    const pid = task.Status.ContainerStatus?.PID || undefined;
    const state: TaskState = {
      service: service.ID,
      ...(container === undefined ? {} : { container }),
      ...(digest === undefined ? {} : { image: digest }),
      ...(task.NodeID === undefined ? {} : { node: task.NodeID }),
      ...(pid === undefined ? {} : { pid }),
    };
    const startedAt = Date.parse(task.Status.Timestamp ?? task.CreatedAt);
    return {
      handle: {
        id: task.ID,
        app,
        revision: task.Spec.ContainerSpec?.Labels?.["baton.revision"] ?? "",
        driver: this.name,
        host: host ?? "",
        port: port ?? 0,
        startedAt: Number.isNaN(startedAt) ? 0 : startedAt,
        state,
      },
      ready,
      state: task.DesiredState !== "running" ? "stopping" : ready ? "ready" : "starting",
      reachable: port !== undefined && host !== undefined,
      ...(ready
        ? {}
        : {
            detail:
              `Swarm task ${task.Status.State}: ${task.Status.Err ?? task.Status.Message ?? ""}`.trim(),
          }),
    };
  }

  private async refreshNodes(tasks: readonly Task[]): Promise<void> {
    const unknown = tasks.some((t) => t.NodeID !== undefined && !this.nodes.has(t.NodeID));
    if (!unknown && this.nodes.size > 0) return;
    const nodes = await this.client.nodes();
    this.nodes = new Map(
      nodes.map((node) => {
        // A node may report 0.0.0.0 (advertised on all interfaces): its manager address then.
        const addr = node.Status.Addr;
        const manager = node.ManagerStatus?.Addr?.replace(/:\d+$/, "");
        return [node.ID, addr && addr !== "0.0.0.0" ? addr : (manager ?? LOOPBACK)];
      }),
    );
  }

  private async refreshImages(tasks: readonly Task[]): Promise<void> {
    for (const task of tasks) {
      const container = task.Status.ContainerStatus?.ContainerID;
      if (!container || this.images.has(container) || task.DesiredState !== "running") continue;
      const image = await this.client.containerImage(container);
      if (image !== undefined) this.images.set(container, image);
    }
  }

  /** The app's services of this state directory, the oldest first (kept if a crash left two). */
  private async servicesOf(app: string): Promise<Service[]> {
    const services = await this.client.services([
      `${STATE_LABEL}=${this.stateDir}`,
      `baton.app=${app}`,
    ]);
    for (const service of services) this.remember(app, service);
    return services.sort((a, b) => a.Version.Index - b.Version.Index);
  }

  private remember(app: string, service: Service): void {
    this.known.set(service.ID, app);
    this.known.set(service.Spec.Name, app);
    const project = service.Spec.Labels["baton.project"];
    if (project !== undefined) this.known.set(serviceName(project, app), app);
  }
}

function revisionOf(service: Service): string {
  return service.Spec.Labels["baton.revision"] ?? "";
}

/** Swarm's UpdateStatus in Baton's words. */
function rolloutOf(service: Service): GroupRollout {
  const status = service.UpdateStatus;
  if (status?.State === undefined) return { state: "idle" };
  const message = status.Message ?? status.State;
  const started = status.StartedAt ?? "";
  switch (status.State) {
    case "completed":
      return { state: "completed", revision: revisionOf(service), message, started };
    case "rollback_started":
      return { state: "rolling-back", message, started };
    case "rollback_completed":
      return { state: "rolled-back", message, started };
    case "paused":
      return { state: "paused", of: "update", message, started };
    case "rollback_paused":
      return { state: "paused", of: "rollback", message, started };
    default:
      return { state: "progressing", to: revisionOf(service), message, started };
  }
}

/**
 * The node port a task's containerPort is published at: a task of any revision publishes
 * exactly one (a rollout may change containerPort; old tasks still serve).
 */
function publishedPort(task: Task): number | undefined {
  return task.Status.PortStatus?.Ports?.find((p) => (p.PublishedPort ?? 0) > 0)?.PublishedPort;
}

function refused(what: string): Error {
  return new Error(`bug: ${what} reached the swarm driver: Swarm runs whole apps (deploy)`);
}
