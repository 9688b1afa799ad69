import { existsSync } from "node:fs";
import { join } from "node:path";
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
  MetricsAnswer,
  MetricsListAnswer,
  ParityAnswer,
  PlanAnswer,
  PushAnswer,
  QueryAnswer,
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
  SilencesAnswer,
  StatusAnswer,
  TokensAnswer,
  TriggerRunAnswer,
} from "../api/index.js";
import { BatonError, httpStatusOf } from "../api/index.js";
import { appHistory } from "../apps/history-query.js";
import type { Definition } from "../definition/index.js";
import { listRuns, runWithSteps } from "../delivery/runs-query.js";
import { appReleases, noReleases } from "../images/releases-query.js";
import { createToken, listTokens, revokeToken } from "../security/tokens/index.js";
import { apiTokenCreated, readApiToken } from "../server/api-token.js";
import { SqliteStore } from "../store/index.js";
import { AsyncQueue } from "../util/async-queue.js";
import type { BuildOptions, BuiltRelease } from "./builds.js";
import type {
  Actor,
  ApplyOptions,
  BatonClient,
  DefinitionSource,
  DownAnswer,
  EventsOptions,
} from "./client.js";
import { ClientError, notRunning } from "./errors.js";

// What a read of the records needs is loaded with this module; the rest (the runtimes, the
// hosts' SSH, image builds, the log readers) only when a method needs it: a CLI call that
// asks for history should not first load them.
const hosts = () => import("../hosts/index.js");

/**
 * The state directory while no controller runs: its records (history, runs, releases, events,
 * logs) read as the controller would answer them — by the same functions — what still runs
 * there (status), a plan against it, the hosts' one-shot passes, and stopping what a dead
 * controller left. It writes the store only while no controller holds its lease; what needs a
 * controller (a rollout, a scale, alerts, metrics) is refused with how to start one.
 */
export class LocalClient implements BatonClient {
  readonly mode = "local";

  constructor(readonly stateDir: string) {}

  async status(): Promise<StatusAnswer> {
    const { localStatus } = await import("./local-status.js");
    return localStatus(this.stateDir);
  }

  async plan(definition: Definition): Promise<PlanAnswer> {
    const { localPlan } = await import("./local-plan.js");
    return localPlan(this.stateDir, definition);
  }

  async apply(_definition: Definition, _options: ApplyOptions): Promise<ApplyAnswer> {
    throw notRunning(this.stateDir);
  }

  async scale(): Promise<ScaleAnswer> {
    throw notRunning(this.stateDir);
  }

  async history(app: string): Promise<AppHistory> {
    return this.read(
      (store) => appHistory(store.rollouts, app),
      () => appHistory(noRollouts, app),
    );
  }

  async rollout(): Promise<RolloutStatus> {
    throw notRunning(this.stateDir);
  }

  async retryRollout(): Promise<RolloutAnswer> {
    throw notRunning(this.stateDir);
  }

  async rollback(): Promise<RolloutAnswer> {
    throw notRunning(this.stateDir);
  }

  /**
   * No controller: the release becomes the app's deployed one, and the next `baton up` runs
   * it (`rollout` null: nothing rolls out now).
   */
  async deploy(app: string, version: string, actor: Actor): Promise<DeployAnswer> {
    return this.write(
      (store) => {
        const release = store.releases.find(app, version);
        if (release === undefined) {
          throw new ClientError(
            "deploy.unknown_release",
            `${app} has no release ${JSON.stringify(version)}`,
            `\`baton releases ${app}\` lists them; \`baton build ${app}\` makes one`,
          );
        }
        store.releases.setDesired(app, release.version, actor.by);
        return { release, rollout: null };
      },
      { action: "deploy", target: app, who: actor.by },
    );
  }

  async releases(app: string): Promise<ReleasesAnswer> {
    return this.read(
      (store) => appReleases(store, app),
      () => noReleases(app),
    );
  }

  async build(
    definition: Definition,
    apps: readonly string[],
    options: BuildOptions,
  ): Promise<BuiltRelease[]> {
    const { buildTargets, registryLogin, targetsOf } = await import("./builds.js");
    const login = await registryLogin(definition);
    return this.writeAsync((store) =>
      buildTargets(
        {
          find: (app, version) => store.releases.find(app, version),
          record: (release) => {
            const recorded = store.releases.record(release);
            if (recorded.created) {
              const r = recorded.record;
              // A new release goes into the audit trail (`/api/v1/events`), whoever built it.
              store.appendEvent({
                type: "release.recorded",
                app: r.app,
                message: `${r.app} release ${r.version} (${r.digest}) built and pushed by ${r.createdBy}`,
                data: { version: r.version, digest: r.digest, commit: r.commit },
              });
            }
            return recorded;
          },
        },
        targetsOf(definition, apps),
        options,
        login,
      ),
    );
  }

  async unreleased(definition: Definition): Promise<string[]> {
    const built = Object.values(definition.apps).filter((spec) => spec.build !== undefined);
    if (built.length === 0) return [];
    const { appsWithoutRelease } = await import("../images/index.js");
    return this.read(
      (store) => appsWithoutRelease(definition, store.releases),
      () => built.map((spec) => spec.name),
    );
  }

  async buildApp(
    app: string,
    file: string,
    environment: string | undefined,
    options: BuildOptions,
  ): Promise<BuiltRelease> {
    const { builtAppDefinition } = await import("./builds.js");
    const definition = builtAppDefinition(app, file, this.stateDir, environment);
    const [built] = await this.build(definition, [app], options);
    if (built === undefined) throw new Error(`building ${app} returned no release`);
    return built;
  }

  async runs(query: RunsQuery = {}): Promise<RunsAnswer> {
    return this.read(
      (store) => listRuns(store.runs, query.pipeline, query.limit ?? 20),
      () => ({ runs: [] }),
    );
  }

  async run(id: number | string): Promise<RunAnswer> {
    const found = this.read(
      (store) => runWithSteps(store.runs, Number(id)),
      () => undefined,
    );
    if (found === undefined) {
      throw new ClientError("run.not_found", `there is no run #${id}`, "`baton runs` lists them");
    }
    return found;
  }

  async triggerRun(): Promise<TriggerRunAnswer> {
    throw notRunning(this.stateDir);
  }

  async approveRun(): Promise<RunAnswer> {
    throw notRunning(this.stateDir);
  }

  async cancelRun(): Promise<RunAnswer> {
    throw notRunning(this.stateDir);
  }

  async notifyPush(): Promise<PushAnswer> {
    throw notRunning(this.stateDir);
  }

  /** The same reader the controller serves `GET /api/v1/logs` with, run here. */
  async *logs(query: LogsQuery, signal?: AbortSignal): AsyncIterable<LogRecord> {
    const [{ LogReader }, { parseLogQuery }] = await Promise.all([
      import("../observe/logs/log-reader.js"),
      import("../observe/logs/log-query.js"),
    ]);
    const token = readApiToken(this.stateDir);
    const reader = await LogReader.open(
      this.stateDir,
      parseLogQuery(
        {
          target: query.target,
          since: query.since,
          tail: query.tail === undefined ? undefined : String(query.tail),
          grep: query.grep,
          where: query.where,
          all: query.all,
        },
        Date.now(),
      ),
      token === undefined ? [] : [token],
    );
    try {
      for await (const record of reader.history()) {
        if (signal?.aborted) return;
        yield record;
      }
      if (query.follow !== true || signal === undefined || signal.aborted) return;
      const queue = new AsyncQueue<LogRecord>();
      const following = reader
        .follow(signal, (record) => queue.push(record))
        .finally(() => queue.close());
      try {
        yield* queue;
      } finally {
        await following;
      }
    } finally {
      await reader.close();
    }
  }

  /** The recorded events; with no controller nothing new happens, so the stream ends there. */
  async *events(options: EventsOptions = {}): AsyncIterable<EventRecord> {
    const after = options.after;
    if (after === "latest") return;
    const events = this.read(
      (store) =>
        store.events({
          ...(after === undefined ? {} : { afterId: after }),
          ...(options.app === undefined ? {} : { app: options.app }),
        }),
      () => [],
    );
    yield* events;
  }

  async alerts(): Promise<AlertsAnswer> {
    throw notRunning(this.stateDir);
  }

  async silences(): Promise<SilencesAnswer> {
    throw notRunning(this.stateDir);
  }

  async addSilence(): Promise<SilenceAnswer> {
    throw notRunning(this.stateDir);
  }

  async removeSilence(): Promise<SilenceRemovedAnswer> {
    throw notRunning(this.stateDir);
  }

  async metrics(): Promise<MetricsListAnswer> {
    throw notRunning(this.stateDir);
  }

  async metric(): Promise<MetricsAnswer> {
    throw notRunning(this.stateDir);
  }

  async query(): Promise<QueryAnswer> {
    throw notRunning(this.stateDir);
  }

  /** Configures the hosts from here and exits, as `ansible-playbook` does. */
  async applyHosts(source: DefinitionSource): Promise<HostOutcome[]> {
    const definition = source();
    const { hostPass } = await hosts();
    return this.writeAsync((store) =>
      hostPass(definition, store.hosts, {
        apply: true,
        ...(definition.environment === undefined ? {} : { environment: definition.environment }),
      }),
    );
  }

  /** What differs is recorded as events, as the controller's drift watch records it. */
  async drift(targets: readonly string[], source: DefinitionSource): Promise<HostOutcome[]> {
    const definition = source();
    const { driftEvents, driftOutcome, hostPass } = await hosts();
    return this.writeAsync(async (store) => {
      const outcomes = await hostPass(definition, store.hosts, {
        apply: false,
        targets,
        ...(definition.environment === undefined ? {} : { environment: definition.environment }),
      });
      const drift = outcomes.map(driftOutcome);
      for (const o of drift) for (const event of driftEvents(o, false)) store.appendEvent(event);
      return drift;
    });
  }

  async facts(targets: readonly string[], source: DefinitionSource): Promise<FactsAnswer> {
    const definition = source();
    const { gatherHostFacts } = await hosts();
    return this.writeAsync((store) => gatherHostFacts(definition, store.hosts, targets));
  }

  async parity(left: string, right: string, source: DefinitionSource): Promise<ParityAnswer> {
    const definition = source();
    const { parityReport } = await hosts();
    return this.writeAsync((store) => parityReport(definition, store.hosts, left, right));
  }

  /** Stops what a controller that died left running. */
  async down(): Promise<DownAnswer> {
    const { stopLeftovers } = await import("../apps/leftovers.js");
    const leftovers = existsSync(this.stateDir) ? await stopLeftovers(this.stateDir) : 0;
    return { controller: false, leftovers };
  }

  async shutdown(): Promise<void> {}

  async tokens(): Promise<TokensAnswer> {
    return this.read(
      (store) => ({ tokens: listTokens(store, apiTokenCreated(this.stateDir)) }),
      () => ({ tokens: [] }),
    );
  }

  async createToken(request: CreateTokenRequest, actor: Actor): Promise<CreateTokenAnswer> {
    return this.write((store) => createToken(store, request, actor.by), {
      action: "token.create",
      target: request.name,
      who: actor.by,
    });
  }

  async revokeToken(name: string, actor: Actor): Promise<RevokeTokenAnswer> {
    return this.write(
      (store) => {
        revokeToken(store, name);
        return { revoked: name };
      },
      { action: "token.revoke", target: name, who: actor.by },
    );
  }

  async audit(query: AuditQuery = {}): Promise<AuditAnswer> {
    return this.read(
      (store) => ({ entries: store.audit.list(query.since ?? 0, query.limit ?? 10_000) }),
      () => ({ entries: [] }),
    );
  }

  async close(): Promise<void> {}

  /** A read of the store; `empty` when the state directory has none yet. */
  private read<T>(query: (store: SqliteStore) => T, empty: () => T): T {
    if (!existsSync(join(this.stateDir, "state.db"))) return empty();
    const store = SqliteStore.open(this.stateDir, { create: false });
    try {
      return query(store);
    } finally {
      store.close();
    }
  }

  /**
   * A change to the store. With `audit`, it is recorded in the audit log as the API would
   * record it (who: the OS user, role and address `local`), whether it succeeded or not:
   * with no controller the state directory's owner acts on it directly, and what they
   * change should be as visible as a call through the API.
   */
  private write<T>(
    change: (store: SqliteStore) => T,
    audit?: { action: string; target: string; who: string },
  ): T {
    const store = SqliteStore.open(this.stateDir, { create: true });
    let outcome = 500;
    try {
      const result = change(store);
      outcome = 200;
      return result;
    } catch (error) {
      if (error instanceof BatonError) outcome = httpStatusOf(error.code);
      throw error;
    } finally {
      if (audit !== undefined) {
        store.audit.append({ ...audit, role: "local", outcome, address: "local" });
      }
      store.close();
    }
  }

  private async writeAsync<T>(change: (store: SqliteStore) => Promise<T>): Promise<T> {
    const store = SqliteStore.open(this.stateDir, { create: true });
    try {
      return await change(store);
    } finally {
      store.close();
    }
  }
}

/** A state directory with no store has recorded no rollout. */
const noRollouts = { history: () => [], servingRevision: () => undefined };
