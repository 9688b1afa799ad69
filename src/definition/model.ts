import type { SecretsFile } from "../security/secrets/secrets-file.js";
import type { AlertingSpec } from "./alert-model.js";
import type { HostsDefinition } from "./host-model.js";
import type { PipelineSpec } from "./pipeline-model.js";
import type { RUNTIMES } from "./schema.js";

/**
 * The typed, validated, immutable form of a definition. Everything after definition/ works on
 * these types, never on raw YAML. Durations are milliseconds, paths are absolute.
 */

/**
 * How a replica is started: an argv exec'd directly, or a string run by `/bin/sh -c`.
 * argv items may hold `${NAME}`, to be replaced from the replica's env when it starts with
 * `expandVariables` (spec/interpolate.ts); the loader has already checked their syntax.
 */
export type Command = { readonly argv: readonly string[] } | { readonly shell: string };

export interface HttpProbe {
  readonly kind: "http";
  /** Path requested with GET on the replica's PORT; 2xx and 3xx are success. */
  readonly path: string;
}
export interface TcpProbe {
  readonly kind: "tcp";
}
export interface ExecProbe {
  readonly kind: "exec";
  /** Run in the app's cwd with the replica's env; exit 0 is success. */
  readonly argv: readonly string[];
}

export type Probe = (HttpProbe | TcpProbe | ExecProbe) & {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive failures before the probe counts as failed. */
  readonly failureThreshold: number;
  /** Consecutive successes before a failed probe counts as passing again. */
  readonly successThreshold: number;
  /** Wait before the first check (liveness only in practice; readiness checks at once). */
  readonly initialDelayMs: number;
};

export interface RestartPolicy {
  /** First delay before restarting a replica that exited. */
  readonly backoffMs: number;
  /** Cap of the exponential backoff. */
  readonly maxBackoffMs: number;
  /** A replica that ran this long without exiting resets its backoff. */
  readonly resetAfterMs: number;
}

/** A replica count, or a percentage of the desired count ("25%"). */
export type ReplicaBudget = number | `${number}%`;

export interface UpdatePolicy {
  /**
   * rolling: new replicas beside old ones, within the budgets below. recreate: every old
   * replica is gone before a new one starts (the budgets do not apply).
   */
  readonly strategy: "rolling" | "recreate";
  /** Replicas allowed above the desired count during a rollout. */
  readonly maxSurge: ReplicaBudget;
  /** Replicas of the desired count allowed to be not ready during a rollout. */
  readonly maxUnavailable: ReplicaBudget;
  /** A new replica not ready this long after its start fails the rollout. */
  readonly healthyDeadlineMs: number;
  /** How long an old replica may finish in-flight requests once out of the pool. */
  readonly drainTimeoutMs: number;
}

/** Where an app's replicas run: the driver that runs them (runtime/registry.ts). */
export type RuntimeKind = (typeof RUNTIMES)[number];

export interface AppSpec {
  readonly name: string;
  /**
   * Always set for processes (checks.ts). A container without one runs its image's CMD
   * (`container.imageCommand` records it); with an entrypoint it is the entrypoint's arguments.
   */
  readonly command?: Command;
  /** Absolute folder of the app as written; replicas run from a snapshot of it. */
  readonly cwd: string;
  /** Patterns of files in cwd left out of the revision and the snapshot. */
  readonly ignore: readonly string[];
  /** Absolute paths left out of the content: the definition file, the state directory. */
  readonly contentExclude: readonly string[];
  /** sha256 of cwd's content (minus `ignore`), when the definition was read. */
  readonly contentDigest: string;
  /**
   * The manifest blob (`sha256:…`) of cwd that `contentDigest` was computed from, when the
   * folder was uploaded to a controller: its snapshot is made from that, not from cwd.
   */
  readonly contentManifest?: string;
  /** `envFile:`'s variables under the app's own `env:`. */
  readonly env: Readonly<Record<string, string>>;
  /** Process apps: `user:`/`group:` as written, resolved where the replicas start. */
  readonly runAs?: { readonly user?: string; readonly group?: string };
  /** Process apps: the controller's variables they get besides PATH, HOME, LANG and TZ. */
  readonly inheritEnv?: true | readonly string[];
  /** Variables whose value is a secret (`{ secret: NAME }`): variable → secret name. */
  readonly secretEnv?: Readonly<Record<string, string>>;
  /** Files whose content is a secret (`files:`): absolute path → secret name and mode. */
  readonly secretFiles?: Readonly<
    Record<string, { readonly secret: string; readonly mode: string }>
  >;
  /**
   * A keyed digest of each secret the app uses (security/secrets), set by the controller
   * once it decrypted them: a changed value is a new revision, and the value is in no record.
   */
  readonly secretDigests?: Readonly<Record<string, string>>;
  readonly replicas: number;
  /**
   * Apps (by name) each of which must have a ready replica of its target revision before a
   * replica of this one starts; absent when it waits for none. Not part of the revision.
   */
  readonly dependsOn?: readonly string[];
  /** Public port served by Baton's proxy; absent: no proxy for this app. */
  readonly port?: number;
  /** What the proxy speaks on `port`. */
  readonly protocol: "http" | "tcp";
  /** Address the proxy binds `port` on (127.0.0.1 by default). */
  readonly listen: string;
  readonly health: { readonly readiness?: Probe; readonly liveness?: Probe };
  readonly restart: RestartPolicy;
  readonly stopGraceMs: number;
  /**
   * Rotation of each replica's stdout/stderr files: a file is rotated at maxBytes, and
   * maxFiles files of each stream are kept, the current one included; output last written
   * more than maxAgeMs ago is removed.
   */
  readonly logs: {
    readonly maxBytes: number;
    readonly maxFiles: number;
    readonly maxAgeMs: number;
  };
  readonly update: UpdatePolicy;
  /** How replicas run: processes of this machine, or containers on the local engine. */
  readonly runtime: RuntimeKind;
  /** With runtime docker or swarm: what the containers are made of. */
  readonly container?: ContainerSpec;
  /** With runtime swarm: host-mode ports fronted by Baton's proxy, or Swarm's routing mesh. */
  readonly publish?: "host" | "mesh";
  /**
   * Built from a Dockerfile (`build:`): `container.image` is then the repository the
   * releases are pushed to, resolved to `repository@sha256:…` before replicas start.
   */
  readonly build?: BuildSpec;
}

export interface BuildSpec {
  /** Absolute folder sent as the build context. */
  readonly context: string;
  /** The Dockerfile, relative to the context. */
  readonly dockerfile: string;
  readonly args: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  /** `<registry>/<project>/<app>`: where the app's releases are pushed, without tag. */
  readonly repository: string;
}

export interface ContainerSpec {
  readonly image: string;
  /** `entrypoint:`, replacing the image's ENTRYPOINT (and, without `command`, its CMD). */
  readonly entrypoint?: Command;
  /**
   * The image's own ENTRYPOINT and CMD, read from the engine when the app has no `command`:
   * what replicas run is then part of the app's revision, as a written command is.
   * Absent when the app has a command, or the image could not be inspected.
   */
  readonly imageCommand?: ImageCommand;
  /** The app's PORT inside its container. */
  readonly containerPort: number;
  /** `uid[:gid]` or a name; 65534:65534 unless the definition says otherwise. */
  readonly user: string;
  readonly readOnlyRootfs: boolean;
  readonly capAdd: readonly string[];
  /** `volume:/path` or `/absolute/host/dir:/path[:ro]`. */
  readonly binds: readonly string[];
  readonly memoryBytes?: number;
  readonly cpus?: number;
  readonly pids?: number;
}

/** An image's config as the engine reports it; an empty list where the image sets none. */
export interface ImageCommand {
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
}

export interface MetricsSpec {
  /** 0: sampling off. */
  readonly intervalMs: number;
  readonly hostIntervalMs: number;
  readonly retention: { readonly rawMs: number; readonly aggregatesMs: number };
}

export interface RegistryAuthSpec {
  readonly username: string;
  readonly passwordSecret: string;
  /** The decrypted secret, in memory only (security/secrets withSecretValues). */
  readonly password?: string;
}

export interface Definition {
  /** Absolute path of the definition file. */
  readonly file: string;
  /** Project name: `project:` in the file, or the name of the folder holding it. */
  readonly project: string;
  readonly apps: Readonly<Record<string, AppSpec>>;
  /** Where images built from `build:` are pushed (`registry:`). */
  readonly registry?: string;
  /**
   * `registry: { username, password: { secret } }`: the login pushes and pulls send. The
   * password is empty until the controller or client fills it from the secrets.
   */
  readonly registryAuth?: RegistryAuthSpec;
  /** sha256 (hex) of the file's text: the identity of its generations. */
  readonly hash: string;
  /** The file's text, kept so that every applied revision can be shown again. */
  readonly source: string;
  /** The environments the file declares (`environments:`), in file order. */
  readonly environments: readonly string[];
  /** The environment this definition was built for: its runtime and overrides are applied. */
  readonly environment?: string;
  /** Absolute state directories the environments declare (`environments.<env>.state`). */
  readonly environmentStates: Readonly<Record<string, string>>;
  /** Hosts, how they are reached, and what each must be. */
  readonly hosts: HostsDefinition;
  /** What runs on each commit, by pipeline name. */
  readonly pipelines: Readonly<Record<string, PipelineSpec>>;
  /** Alert rules, notifiers and their pacing; absent in definitions built by hand (tests). */
  readonly alerting?: AlertingSpec;
  /** Sampling and retention of metrics (`metrics:`), defaults filled in. */
  readonly metrics: MetricsSpec;
  /** The environment's secrets file (`secrets/<env>.age.yaml`), when there is one. */
  readonly secrets?: DefinitionSecrets;
  /**
   * What the folders and files the definition names held, when it reached a controller
   * through its API: read from there, never from the disk of whoever sent it.
   */
  readonly content?: DefinitionContent;
}

/**
 * The folders and files a definition names (app folders, build contexts, host templates),
 * as a client uploaded them: content-addressed blobs in the controller's state.
 */
export interface DefinitionContent {
  /** Each folder, by its absolute path as the client wrote it → its manifest blob (`sha256:…`). */
  readonly folders: Readonly<Record<string, string>>;
  /** Each file read on its own (a template, a Dockerfile) → its blob (`sha256:…`). */
  readonly files: Readonly<Record<string, string>>;
  /**
   * The definition file's path inside the git working copy holding it (`deploy/baton.yaml`),
   * when it lies in one: a pipeline's build step finds an app's folder at its place in the
   * run's checkout by it.
   */
  readonly inRepository?: string;
}

/** An environment's secrets as the definition carries them: names and ciphertexts only. */
export interface DefinitionSecrets {
  /** Absolute path of the secrets file. */
  readonly file: string;
  /** `default` for a definition without environments. */
  readonly environment: string;
  readonly content: SecretsFile;
}
