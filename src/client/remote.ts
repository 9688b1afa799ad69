import { existsSync } from "node:fs";
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
import { routes } from "../api/index.js";
import type { Definition } from "../definition/index.js";
import type { ReleaseBook } from "../images/index.js";
import { parseRecordJson } from "../observe/logs/log-record.js";
import { isSameProcess, readProcStat } from "../util/proc.js";
import { waitUntil } from "../util/wait.js";
import type { BuildOptions, BuiltRelease } from "./builds.js";
import type {
  Actor,
  ApplyOptions,
  BatonClient,
  DefinitionSource,
  DownAnswer,
  EventsOptions,
} from "./client.js";
import { type DefinitionBody, httpContentTarget, shipDefinition } from "./content.js";
import { ClientError } from "./errors.js";
import { HttpTransport } from "./http.js";

const DOWN_DEADLINE_MS = 120_000;

/** A running controller, over its HTTP API. */
export class RemoteClient implements BatonClient {
  readonly mode = "remote";
  private readonly http: HttpTransport;

  constructor(
    readonly stateDir: string,
    readonly api: string,
    private readonly token: string,
    /** The controller's process id when it runs on this machine (its lease says so). */
    readonly pid?: number,
  ) {
    this.http = new HttpTransport(api, token, pid === undefined ? api : `pid ${pid}`);
  }

  status(options: { stats?: boolean } = {}): Promise<StatusAnswer> {
    return this.http.send(routes.status(options));
  }

  /** The definition's text and the files it names (uploaded first: only what is missing). */
  async plan(definition: Definition): Promise<PlanAnswer> {
    try {
      return await this.http.send(routes.plan(await this.ship(definition)));
    } catch (error) {
      // A controller waiting for its first definition has nothing to plan against but what
      // runs: the state directory's answer, as with no controller at all.
      if (!(error instanceof ClientError && error.code === "controller.no_definition")) throw error;
      const { localPlan } = await import("./local-plan.js");
      return localPlan(this.stateDir, definition);
    }
  }

  async apply(definition: Definition, options: ApplyOptions): Promise<ApplyAnswer> {
    const body = await this.ship(definition, options.by);
    return this.http.send(routes.apply(options.hosts ? { ...body, hosts: true } : body));
  }

  /** The controller never reads the caller's disk: what it applies is what is sent here. */
  private async ship(definition: Definition, appliedBy?: string): Promise<DefinitionBody> {
    const target = httpContentTarget(this.api, this.token);
    try {
      return await shipDefinition(definition, target, {
        stateDir: this.stateDir,
        ...(appliedBy === undefined ? {} : { appliedBy }),
      });
    } finally {
      target.close();
    }
  }

  scale(app: string, replicas: number): Promise<ScaleAnswer> {
    return this.http.send(routes.scale(app, { replicas }));
  }

  history(app: string): Promise<AppHistory> {
    return this.http.send(routes.history(app));
  }

  rollout(app: string): Promise<RolloutStatus> {
    return this.http.send(routes.rollout(app));
  }

  retryRollout(app: string, actor: Actor): Promise<RolloutAnswer> {
    return this.http.send(routes.retryRollout(app, { by: actor.by }));
  }

  rollback(app: string, to: string | undefined, actor: Actor): Promise<RolloutAnswer> {
    return this.http.send(
      routes.rollback(app, { ...(to === undefined ? {} : { to }), by: actor.by }),
    );
  }

  deploy(app: string, release: string, actor: Actor): Promise<DeployAnswer> {
    return this.http.send(routes.deploy(app, { release, by: actor.by }));
  }

  releases(app: string): Promise<ReleasesAnswer> {
    return this.http.send(routes.releases(app));
  }

  /** Built here, recorded by the controller (`POST /api/v1/apps/APP/releases`). */
  async build(
    definition: Definition,
    apps: readonly string[],
    options: BuildOptions,
  ): Promise<BuiltRelease[]> {
    // Image builds load the engine client and the context packer: only when building.
    const { buildTargets, registryLogin, targetsOf } = await import("./builds.js");
    const login = await registryLogin(definition);
    return buildTargets(this.releaseBook(), targetsOf(definition, apps), options, login);
  }

  async unreleased(definition: Definition): Promise<string[]> {
    const missing: string[] = [];
    for (const spec of Object.values(definition.apps)) {
      if (spec.build === undefined) continue;
      if ((await this.releases(spec.name)).releases.length === 0) missing.push(spec.name);
    }
    return missing;
  }

  async buildApp(
    app: string,
    file: string,
    environment: string | undefined,
    options: BuildOptions,
  ): Promise<BuiltRelease> {
    // The controller's own target when it runs this very file: parsing and validating the
    // file again would cost ~0.2 s of CPU here and say the same.
    const { buildTargets, builtAppDefinition, isAppliedFile, registryLogin, targetsOf } =
      await import("./builds.js");
    const applied = await this.http.send(routes.buildTarget(app)).catch(() => undefined);
    // A registry login is decrypted here, from the file: the API never answers a secret.
    const definition =
      applied !== undefined &&
      !applied.target.registryLogin &&
      isAppliedFile(file, applied.file, applied.target.definitionRevision)
        ? undefined
        : builtAppDefinition(app, file, this.stateDir, environment);
    const target = definition === undefined ? applied?.target : targetsOf(definition, [app])[0];
    if (target === undefined) throw new Error(`no build target for ${app}`);
    const login = definition === undefined ? undefined : await registryLogin(definition);
    const [built] = await buildTargets(this.releaseBook(), [target], options, login);
    if (built === undefined) throw new Error(`building ${app} returned no release`);
    return built;
  }

  runs(query: RunsQuery = {}): Promise<RunsAnswer> {
    return this.http.send(routes.runs(query));
  }

  run(id: number | string): Promise<RunAnswer> {
    return this.http.send(routes.run(id));
  }

  triggerRun(pipeline: string, options: Actor & { ref?: string }): Promise<TriggerRunAnswer> {
    return this.http.send(
      routes.triggerRun(pipeline, {
        by: options.by,
        ...(options.ref === undefined ? {} : { ref: options.ref }),
      }),
    );
  }

  tokens(): Promise<TokensAnswer> {
    return this.http.send(routes.tokens());
  }

  createToken(request: CreateTokenRequest): Promise<CreateTokenAnswer> {
    return this.http.send(routes.createToken(request));
  }

  revokeToken(name: string): Promise<RevokeTokenAnswer> {
    return this.http.send(routes.revokeToken(name));
  }

  audit(query: AuditQuery = {}): Promise<AuditAnswer> {
    return this.http.send(routes.audit(query));
  }

  approveRun(id: number | string, actor: Actor): Promise<RunAnswer> {
    return this.http.send(routes.approveRun(id, { by: actor.by }));
  }

  cancelRun(id: number | string, actor: Actor): Promise<RunAnswer> {
    return this.http.send(routes.cancelRun(id, { by: actor.by }));
  }

  notifyPush(notice: PushNotice): Promise<PushAnswer> {
    return this.http.send(routes.pushHook(notice));
  }

  async *logs(query: LogsQuery, signal?: AbortSignal): AsyncIterable<LogRecord> {
    for await (const line of this.http.lines(routes.logs(query), signal)) {
      const record = parseRecordJson(line);
      if (record !== undefined) yield record;
    }
  }

  async *events(options: EventsOptions = {}): AsyncIterable<EventRecord> {
    yield* this.http.events(
      routes.eventStream({
        ...(options.after === undefined ? {} : { after: options.after }),
        ...(options.app === undefined ? {} : { app: options.app }),
      }),
      options.signal,
    );
  }

  alerts(history?: number): Promise<AlertsAnswer> {
    return this.http.send(routes.alerts(history === undefined ? {} : { history }));
  }

  silences(): Promise<SilencesAnswer> {
    return this.http.send(routes.silences());
  }

  addSilence(request: SilenceRequest): Promise<SilenceAnswer> {
    return this.http.send(routes.addSilence(request));
  }

  removeSilence(id: string, actor: Actor): Promise<SilenceRemovedAnswer> {
    return this.http.send(routes.removeSilence(id, { by: actor.by }));
  }

  metrics(): Promise<MetricsListAnswer> {
    return this.http.send(routes.metrics());
  }

  metric(query: MetricQuery): Promise<MetricsAnswer> {
    return this.http.send(routes.metric(query));
  }

  query(request: QueryRequest): Promise<QueryAnswer> {
    return this.http.send(routes.query(request));
  }

  /** The controller configures the hosts of the definition it runs. */
  async applyHosts(_definition: DefinitionSource): Promise<HostOutcome[]> {
    return [...(await this.http.send(routes.applyHosts())).hosts];
  }

  async drift(targets: readonly string[], _definition: DefinitionSource): Promise<HostOutcome[]> {
    return [...(await this.http.send(routes.drift({ targets }))).hosts];
  }

  facts(targets: readonly string[], _definition: DefinitionSource): Promise<FactsAnswer> {
    return this.http.send(routes.facts({ targets }));
  }

  parity(left: string, right: string, _definition: DefinitionSource): Promise<ParityAnswer> {
    return this.http.send(routes.parity({ left, right }));
  }

  /**
   * Asks the controller to stop with everything it runs, and waits until it has. On its own
   * machine, what a previous controller left behind (it was killed) goes too.
   */
  async down(): Promise<DownAnswer> {
    const startTicks = this.pid === undefined ? undefined : readProcStat(this.pid)?.startTicks;
    await this.http.send(routes.shutdown({ workloads: true }));
    const gone = await waitUntil(
      async () =>
        this.pid !== undefined && startTicks !== undefined
          ? !isSameProcess(this.pid, startTicks)
          : !(await this.answers()),
      DOWN_DEADLINE_MS,
      100,
    );
    if (!gone) {
      throw new ClientError(
        "down.timeout",
        `the controller (${this.pid === undefined ? this.api : `pid ${this.pid}`}) did not stop within 120s`,
        "see its log (.baton/logs/controller.log)",
      );
    }
    const { stopLeftovers } = await import("../apps/leftovers.js");
    const leftovers = existsSync(this.stateDir) ? await stopLeftovers(this.stateDir) : 0;
    return { controller: true, leftovers };
  }

  async shutdown(options: { workloads: boolean }): Promise<void> {
    await this.http.send(routes.shutdown(options));
  }

  async close(): Promise<void> {}

  /** Releases looked up and recorded through the controller, which holds the state. */
  private releaseBook(): ReleaseBook {
    return {
      find: async (app, version) => {
        const known = (await this.releases(app)).releases.find((r) => r.version === version);
        return known === undefined
          ? undefined
          : {
              app: known.app,
              version: known.version,
              number: known.number,
              kind: known.kind,
              ref: known.image,
              digest: known.digest,
              commit: known.commit,
              definitionRevision: known.definitionRevision,
              createdAt: Date.parse(known.createdAt),
              createdBy: known.createdBy,
              details: known.details,
            };
      },
      record: async (release) => {
        const answer = await this.http.send(
          routes.recordRelease(release.app, {
            release: {
              version: release.version,
              kind: release.kind,
              ref: release.ref,
              digest: release.digest,
              commit: release.commit,
              definitionRevision: release.definitionRevision,
              details: release.details ?? {},
            },
            by: release.createdBy,
          }),
        );
        return { record: answer.release, created: answer.created };
      },
    };
  }

  private async answers(): Promise<boolean> {
    try {
      await this.http.send(routes.status());
      return true;
    } catch {
      return false;
    }
  }
}
