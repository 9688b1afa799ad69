import type { AppSpec, Command } from "../../definition/index.js";
import { expandVariables } from "../../definition/index.js";

/**
 * An app as a Swarm service spec (Engine API 1.41), and the comparison of a live spec with
 * the desired one. Pure: everything Baton writes into a service comes from here, so drift
 * is "a field Baton writes has another value", never a default the engine filled in.
 */

export interface ServiceSpec {
  Name: string;
  Labels: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      /** The image's ENTRYPOINT replaced; Args (else nothing) are its arguments. */
      Command?: string[];
      /** The image's CMD replaced. */
      Args?: string[];
      Env?: string[];
      Labels?: Record<string, string>;
      User?: string;
      ReadOnly?: boolean;
      Mounts?: Mount[];
      CapabilityDrop?: string[];
      CapabilityAdd?: string[];
      Healthcheck?: Healthcheck;
      StopGracePeriod?: number;
      Secrets?: SecretReference[];
    };
    Resources?: { Limits?: { MemoryBytes?: number; NanoCPUs?: number; Pids?: number } };
    LogDriver?: { Name: string; Options?: Record<string, string> };
    RestartPolicy?: { Condition?: string; Delay?: number; MaxAttempts?: number; Window?: number };
    ForceUpdate?: number;
  };
  Mode: { Replicated?: { Replicas?: number } };
  UpdateConfig?: UpdateConfig;
  RollbackConfig?: UpdateConfig;
  EndpointSpec?: { Mode?: string; Ports?: PortConfig[] };
}

export interface Mount {
  Type: "bind" | "volume" | "tmpfs";
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** A Docker secret mounted as a file of the task's containers (on tmpfs, by Swarm). */
export interface SecretReference {
  File: { Name: string; UID: string; GID: string; Mode: number };
  SecretID: string;
  SecretName: string;
}

export interface Healthcheck {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
}

export interface UpdateConfig {
  Parallelism?: number;
  Delay?: number;
  FailureAction?: string;
  Monitor?: number;
  MaxFailureRatio?: number;
  Order?: string;
}

export interface PortConfig {
  Protocol?: string;
  TargetPort?: number;
  PublishedPort?: number;
  PublishMode?: string;
}

/** What places a service in the world: whose it is and which revision it runs. */
export interface ServiceIdentity {
  readonly project: string;
  /** The state directory (absolute): services carry it, and Baton touches only its own. */
  readonly stateDir: string;
  readonly revision: string;
  readonly replicas: number;
  /** Variables from secrets: in the service's env (Swarm keeps it, Baton's state does not). */
  readonly secretEnv?: Readonly<Record<string, string>>;
  /** The app's `files:` as the Docker secrets (created beforehand) that hold them. */
  readonly secretFiles?: readonly SwarmSecretFile[];
  /**
   * The update budget resolved against `replicas` (apps/rollout-plan.ts resolveBudget): a
   * recreate is maxSurge 0 and maxUnavailable `replicas`.
   */
  readonly budget: { readonly maxSurge: number; readonly maxUnavailable: number };
}

export interface SwarmSecretFile {
  readonly path: string;
  readonly mode: number;
  readonly secretId: string;
  readonly secretName: string;
}

/** Label on the service and its tasks' containers naming the service's state directory. */
export const STATE_LABEL = "baton.state";
/** On task containers only: the service they belong to (their `baton.state` is not set). */
export const SERVICE_LABEL = "baton.service";

const NS_PER_MS = 1_000_000;
/** Without a readiness check: how long an updated task must keep running to count as good. */
const DEFAULT_MONITOR_MS = 5_000;
const TMP_BYTES = 64 * 1024 * 1024;
/** Consecutive failed health checks before Swarm restarts a task, at least. */
const MIN_RETRIES = 3;

/** `baton-<project>-<app>`, within Swarm's 63 characters of [a-zA-Z0-9_.-]. */
export function serviceName(project: string, app: string): string {
  const safe = (text: string) => text.replace(/[^a-zA-Z0-9_.-]+/g, "-").replace(/^-+|-+$/g, "");
  const project63 = safe(project).slice(0, Math.max(1, 63 - "baton--".length - app.length));
  return `baton-${project63}-${safe(app)}`.slice(0, 63);
}

/**
 * The Docker secret holding one value of an app's secret: `<service>-<secret>-<digest>`,
 * within the engine's 64 characters. The digest (the keyed one of the revision) makes a new
 * value a new name, so the service spec changes and Swarm rolls it like any revision.
 */
export function dockerSecretName(
  project: string,
  app: string,
  secret: string,
  digest: string,
): string {
  const tail = `-${secret.replace(/[^a-zA-Z0-9_.-]+/g, "-").slice(0, 24)}-${digest.slice(0, 12)}`;
  return `${serviceName(project, app).slice(0, 64 - tail.length)}${tail}`;
}

/**
 * Who owns a secret file in the task: the container's numeric `uid[:gid]`, else root (a user
 * name is resolved only inside the image, where Swarm does not look it up).
 */
function fileOwner(user: string | undefined): { UID: string; GID: string } {
  const match = user === undefined ? null : /^(\d+)(?::(\d+))?$/.exec(user);
  if (match === null) return { UID: "0", GID: "0" };
  const uid = match[1] ?? "0";
  return { UID: uid, GID: match[2] ?? uid };
}

export function buildServiceSpec(app: AppSpec, identity: ServiceIdentity): ServiceSpec {
  const container = app.container;
  if (container === undefined) {
    throw new Error(`bug: swarm app ${app.name} has no container settings`);
  }
  const name = serviceName(identity.project, app.name);
  const env: Record<string, string> = {
    ...app.env,
    ...identity.secretEnv,
    PORT: String(container.containerPort),
    BATON_APP: app.name,
    BATON_REVISION: identity.revision,
    // Swarm fills the template per task: a task's replica id is its task id.
    BATON_REPLICA: "{{.Task.ID}}",
  };
  const expand = (text: string) => expandVariables(text, (key) => env[key]);
  const argv = (command: Command): string[] =>
    "argv" in command ? command.argv.map(expand) : ["/bin/sh", "-c", command.shell];
  const labels = {
    "baton.project": identity.project,
    "baton.app": app.name,
    "baton.revision": identity.revision,
  };
  const readiness = app.health.readiness;
  const monitorMs =
    readiness === undefined
      ? DEFAULT_MONITOR_MS
      : Math.max(
          readiness.intervalMs * (readiness.failureThreshold + readiness.successThreshold),
          1_000,
        );
  const { maxSurge, maxUnavailable } = identity.budget;
  // `strategy: recreate` resolves to no surge and every replica unavailable: stop-first,
  // all tasks at once, as Compose does it (each old container stops before its successor).
  const startFirst = maxSurge > 0;
  const update: UpdateConfig = {
    Parallelism: Math.max(1, startFirst ? maxSurge : maxUnavailable),
    Delay: 0,
    FailureAction: "rollback",
    Monitor: monitorMs * NS_PER_MS,
    MaxFailureRatio: 0,
    Order: startFirst ? "start-first" : "stop-first",
  };
  const limits = {
    ...(container.memoryBytes === undefined ? {} : { MemoryBytes: container.memoryBytes }),
    ...(container.cpus === undefined ? {} : { NanoCPUs: Math.round(container.cpus * 1e9) }),
    ...(container.pids === undefined ? {} : { Pids: container.pids }),
  };
  return {
    Name: name,
    Labels: { ...labels, [STATE_LABEL]: identity.stateDir },
    TaskTemplate: {
      ContainerSpec: {
        Image: container.image,
        ...(container.entrypoint === undefined ? {} : { Command: argv(container.entrypoint) }),
        ...(app.command === undefined ? {} : { Args: argv(app.command) }),
        Env: Object.entries(env)
          .map(([key, value]) => `${key}=${value}`)
          .sort(),
        Labels: { ...labels, [SERVICE_LABEL]: name },
        User: container.user,
        ReadOnly: container.readOnlyRootfs,
        Mounts: [
          ...container.binds.map(mountOf),
          // A writable /tmp on a read-only root, as for docker replicas.
          { Type: "tmpfs", Target: "/tmp", TmpfsOptions: { SizeBytes: TMP_BYTES, Mode: 0o1777 } },
        ],
        CapabilityDrop: ["ALL"],
        CapabilityAdd: [...container.capAdd],
        ...(readiness?.kind === "exec"
          ? {
              Healthcheck: {
                Test: ["CMD", ...readiness.argv.map(expand)],
                Interval: readiness.intervalMs * NS_PER_MS,
                Timeout: readiness.timeoutMs * NS_PER_MS,
                // Unhealthy means restarted in Swarm, not only out of the pool: one slow
                // check must not kill a task.
                Retries: Math.max(readiness.failureThreshold, MIN_RETRIES),
                // Failures while a task starts do not count (a success ends the period):
                // a task has healthyDeadline to become ready, as a replica has.
                StartPeriod:
                  Math.max(readiness.initialDelayMs, app.update.healthyDeadlineMs) * NS_PER_MS,
              },
            }
          : {}),
        StopGracePeriod: app.stopGraceMs * NS_PER_MS,
        ...(identity.secretFiles === undefined || identity.secretFiles.length === 0
          ? {}
          : {
              Secrets: identity.secretFiles.map((file) => ({
                File: { Name: file.path, ...fileOwner(container.user), Mode: file.mode },
                SecretID: file.secretId,
                SecretName: file.secretName,
              })),
            }),
      },
      ...(Object.keys(limits).length === 0 ? {} : { Resources: { Limits: limits } }),
      // The app's `logs:` size limits, kept by each task's engine (json-file rotates).
      LogDriver: {
        Name: "json-file",
        Options: {
          "max-size": String(app.logs.maxBytes),
          "max-file": String(Math.max(1, app.logs.maxFiles)),
        },
      },
      // Swarm replaces any task that ends, `docker kill` included: a task is not a container
      // with a restart policy, so Baton's healing does not depend on Docker's.
      RestartPolicy: {
        Condition: "any",
        Delay: app.restart.backoffMs * NS_PER_MS,
        MaxAttempts: 0,
      },
    },
    Mode: { Replicated: { Replicas: identity.replicas } },
    UpdateConfig: update,
    // A rollback that fails too stops where it is: Swarm never loops between two bad specs.
    RollbackConfig: { ...update, FailureAction: "pause" },
    EndpointSpec: { Mode: "vip", Ports: portsOf(app) },
  };
}

/**
 * host: each task publishes containerPort on an ephemeral port of its node (0.0.0.0: Swarm
 * has no host address for it), which Baton's proxy fronts. mesh: Swarm's routing mesh
 * publishes `port` on every node (needs IPVS).
 */
function portsOf(app: AppSpec): PortConfig[] {
  const target = app.container?.containerPort ?? 8080;
  if (app.publish === "mesh") {
    return app.port === undefined
      ? []
      : [{ Protocol: "tcp", TargetPort: target, PublishedPort: app.port, PublishMode: "ingress" }];
  }
  if (app.port === undefined) return [];
  return [{ Protocol: "tcp", TargetPort: target, PublishMode: "host" }];
}

/** `volume:/path` or `/host/dir:/path[:ro]` (build.ts made project folders absolute). */
function mountOf(bind: string): Mount {
  const [source = "", target = "", mode] = bind.split(":");
  return {
    Type: source.startsWith("/") ? "bind" : "volume",
    Source: source,
    Target: target,
    ReadOnly: mode === "ro",
  };
}

/** The fields Baton writes, by the name a drift report gives them. */
const COMPARED: readonly [string, (spec: ServiceSpec) => unknown][] = [
  ["replicas", (s) => s.Mode.Replicated?.Replicas ?? 1],
  ["labels", (s) => sortedEntries(s.Labels)],
  ["image", (s) => s.TaskTemplate.ContainerSpec.Image],
  ["command", (s) => s.TaskTemplate.ContainerSpec.Command ?? []],
  ["args", (s) => s.TaskTemplate.ContainerSpec.Args ?? []],
  ["env", (s) => [...(s.TaskTemplate.ContainerSpec.Env ?? [])].sort()],
  ["containerLabels", (s) => sortedEntries(s.TaskTemplate.ContainerSpec.Labels)],
  ["user", (s) => s.TaskTemplate.ContainerSpec.User ?? ""],
  ["readOnly", (s) => s.TaskTemplate.ContainerSpec.ReadOnly ?? false],
  ["mounts", (s) => (s.TaskTemplate.ContainerSpec.Mounts ?? []).map(normalMount)],
  [
    "capabilities",
    (s) => [
      [...(s.TaskTemplate.ContainerSpec.CapabilityDrop ?? [])].sort(),
      [...(s.TaskTemplate.ContainerSpec.CapabilityAdd ?? [])].sort(),
    ],
  ],
  [
    "secrets",
    (s) =>
      (s.TaskTemplate.ContainerSpec.Secrets ?? [])
        .map((r) => [r.File.Name, r.SecretName, r.File.Mode, r.File.UID, r.File.GID])
        .sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)),
  ],
  ["healthcheck", (s) => normalHealthcheck(s.TaskTemplate.ContainerSpec.Healthcheck)],
  ["stopGrace", (s) => s.TaskTemplate.ContainerSpec.StopGracePeriod ?? 0],
  [
    "resources",
    (s) => {
      const l = s.TaskTemplate.Resources?.Limits ?? {};
      return [l.MemoryBytes ?? 0, l.NanoCPUs ?? 0, l.Pids ?? 0];
    },
  ],
  [
    "restartPolicy",
    (s) => {
      const r = s.TaskTemplate.RestartPolicy ?? {};
      return [r.Condition ?? "any", r.Delay ?? 0, r.MaxAttempts ?? 0];
    },
  ],
  ["updateConfig", (s) => normalUpdate(s.UpdateConfig)],
  ["rollbackConfig", (s) => normalUpdate(s.RollbackConfig)],
  [
    "ports",
    (s) =>
      (s.EndpointSpec?.Ports ?? []).map((p) => [
        p.Protocol ?? "tcp",
        p.TargetPort ?? 0,
        p.PublishedPort ?? 0,
        p.PublishMode ?? "ingress",
      ]),
  ],
];

/**
 * Fields of `live` that differ from `desired`, by name: empty when the service is as Baton
 * would write it. A host-mode port's PublishedPort stays 0 in the spec (the task gets one).
 */
export function specDrift(desired: ServiceSpec, live: ServiceSpec): string[] {
  return COMPARED.filter(
    ([, read]) => JSON.stringify(read(desired)) !== JSON.stringify(read(live)),
  ).map(([field]) => field);
}

function sortedEntries(record: Record<string, string> | undefined): [string, string][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function normalMount(m: Mount): unknown[] {
  return [
    m.Type,
    m.Source ?? "",
    m.Target,
    m.ReadOnly ?? false,
    m.TmpfsOptions?.SizeBytes ?? 0,
    m.TmpfsOptions?.Mode ?? 0,
  ];
}

function normalHealthcheck(h: Healthcheck | undefined): unknown {
  if (h === undefined) return null;
  return [h.Test, h.Interval ?? 0, h.Timeout ?? 0, h.Retries ?? 0, h.StartPeriod ?? 0];
}

function normalUpdate(u: UpdateConfig | undefined): unknown[] {
  return [
    u?.Parallelism ?? 1,
    u?.Delay ?? 0,
    u?.FailureAction ?? "pause",
    u?.Monitor ?? 0,
    u?.MaxFailureRatio ?? 0,
    u?.Order ?? "stop-first",
  ];
}
