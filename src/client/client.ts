/**
 * The one door into a state directory's controller, for the CLI, the dashboard and scripts
 * (`import { connect } from "baton"`). Two implementations give the same answers: the remote
 * client talks to a running controller over its HTTP API (every change it asks for passes
 * through the controller's event bus and audit), and the local client serves what can be
 * served while no controller runs — the records of the state directory, what still runs
 * there, a plan against it — and refuses the rest, saying how to start a controller.
 */
import type {
  AlertsAnswer,
  AppHistory,
  ApplyAnswer,
  AuditAnswer,
  AuditQuery,
  CreateTokenAnswer,
  CreateTokenRequest,
  DeployAnswer,
  EventRecord,
  FactsAnswer,
  HostOutcome,
  LogRecord,
  LogsQuery,
  MetricQuery,
  MetricsAnswer,
  MetricsListAnswer,
  ParityAnswer,
  PlanAnswer,
  PushAnswer,
  PushNotice,
  QueryAnswer,
  QueryRequest,
  ReleasesAnswer,
  RevokeTokenAnswer,
  RolloutAnswer,
  RolloutStatus,
  RunAnswer,
  RunsAnswer,
  RunsQuery,
  ScaleAnswer,
  SilenceAnswer,
  SilenceRemovedAnswer,
  SilenceRequest,
  SilencesAnswer,
  StatusAnswer,
  TokensAnswer,
  TriggerRunAnswer,
} from "../api/index.js";
import type { Definition } from "../definition/index.js";
import type { BuildOptions, BuiltRelease } from "./builds.js";

export type { BuildOptions, BuiltRelease };

/** The caller's definition, read when an operation needs it (with no controller running). */
export type DefinitionSource = () => Definition;

/**
 * Who asks, as the local client records it (the OS user). A controller's API takes who from
 * the request's token and ignores this.
 */
export interface Actor {
  readonly by: string;
}

export interface ApplyOptions extends Actor {
  /** Progress of what the client does first (uploading the app folders, building images). */
  readonly progress?: (line: string) => void;
  /** Configure the environment's hosts first, then move the apps (`ApplyRequest.hosts`). */
  readonly hosts?: boolean;
}

export interface EventsOptions {
  /** Only events after this id; `latest`: only what happens from now on. */
  readonly after?: number | "latest";
  readonly app?: string;
  /** Ends the stream. */
  readonly signal?: AbortSignal;
}

export interface DownAnswer {
  /** A controller was running and stopped. */
  readonly controller: boolean;
  /** What a controller that died left behind and was stopped: replicas, proxy, services. */
  readonly leftovers: number;
}

export interface BatonClient {
  /** `remote`: a controller answers; `local`: none runs, the state directory is read. */
  readonly mode: "remote" | "local";
  readonly stateDir: string;
  /** The controller's API address (remote only). */
  readonly api?: string;
  /** The controller's process id (remote only). */
  readonly pid?: number;

  status(options?: { stats?: boolean }): Promise<StatusAnswer>;
  plan(definition: Definition): Promise<PlanAnswer>;
  apply(definition: Definition, options: ApplyOptions): Promise<ApplyAnswer>;
  scale(app: string, replicas: number): Promise<ScaleAnswer>;
  history(app: string): Promise<AppHistory>;
  rollout(app: string): Promise<RolloutStatus>;
  retryRollout(app: string, actor: Actor): Promise<RolloutAnswer>;
  rollback(app: string, to: string | undefined, actor: Actor): Promise<RolloutAnswer>;
  deploy(app: string, release: string, actor: Actor): Promise<DeployAnswer>;
  releases(app: string): Promise<ReleasesAnswer>;
  /**
   * Builds these apps' current code where its source is (this machine's Docker engine), pushes
   * it and records the release: in the state while no controller runs, through the
   * controller's API while one does. A version built before is not built again.
   */
  build(
    definition: Definition,
    apps: readonly string[],
    options: BuildOptions,
  ): Promise<BuiltRelease[]>;
  /** The apps with `build:` that have no release yet (`up` and `apply` build them first). */
  unreleased(definition: Definition): Promise<string[]>;
  /**
   * `baton deploy APP` without `--release`: the app's current code as `file` (for `env`)
   * builds it — the running controller's own build target when it runs that very file.
   */
  buildApp(
    app: string,
    file: string,
    environment: string | undefined,
    options: BuildOptions,
  ): Promise<BuiltRelease>;

  runs(query?: RunsQuery): Promise<RunsAnswer>;
  run(id: number | string): Promise<RunAnswer>;
  triggerRun(pipeline: string, options: Actor & { ref?: string }): Promise<TriggerRunAnswer>;
  approveRun(id: number | string, actor: Actor): Promise<RunAnswer>;
  cancelRun(id: number | string, actor: Actor): Promise<RunAnswer>;
  notifyPush(notice: PushNotice): Promise<PushAnswer>;

  logs(query: LogsQuery, signal?: AbortSignal): AsyncIterable<LogRecord>;
  events(options?: EventsOptions): AsyncIterable<EventRecord>;
  alerts(history?: number): Promise<AlertsAnswer>;
  silences(): Promise<SilencesAnswer>;
  addSilence(request: SilenceRequest): Promise<SilenceAnswer>;
  removeSilence(id: string, actor: Actor): Promise<SilenceRemovedAnswer>;
  metrics(): Promise<MetricsListAnswer>;
  metric(query: MetricQuery): Promise<MetricsAnswer>;
  query(request: QueryRequest): Promise<QueryAnswer>;

  /**
   * Configures the hosts: a controller those of the definition it runs, the local client
   * those of `definition` (read only then: a controller needs no file of the caller's).
   */
  applyHosts(definition: DefinitionSource): Promise<HostOutcome[]>;
  /** Compares the hosts with the definition and records what differs; changes nothing. */
  drift(targets: readonly string[], definition: DefinitionSource): Promise<HostOutcome[]>;
  /** Gathers what the hosts are (OS, packages…) and keeps it in the state. */
  facts(targets: readonly string[], definition: DefinitionSource): Promise<FactsAnswer>;
  /** Compares the hosts of two environments. */
  parity(left: string, right: string, definition: DefinitionSource): Promise<ParityAnswer>;

  /** The tokens (admin through the API; the state directory's owner with no controller). */
  tokens(): Promise<TokensAnswer>;
  /** A new token; its secret is in the answer, once. */
  createToken(request: CreateTokenRequest, actor: Actor): Promise<CreateTokenAnswer>;
  revokeToken(name: string, actor: Actor): Promise<RevokeTokenAnswer>;
  /** The audit log, oldest first. */
  audit(query?: AuditQuery): Promise<AuditAnswer>;

  /** Stops the controller, the proxy and every replica, or what a dead controller left. */
  down(): Promise<DownAnswer>;
  /**
   * Stops the controller only (`workloads` false: replicas and the proxy keep serving, the
   * next controller adopts them), or with everything it runs. Nothing to do with none running.
   */
  shutdown(options: { workloads: boolean }): Promise<void>;
  /** Releases the client's connections; what runs keeps running. */
  close(): Promise<void>;
}
