/**
 * What a pipeline's release steps do in this controller: `build` builds the app's image from
 * the run's checkout (the same build as `baton build`, so the release is versioned by that
 * commit and its content) or, for a process app, stores its folder of the checkout as an
 * artifact; `deploy` and `promote` roll an environment out to the release and wait for the
 * rollout to end — this controller's own environment directly, another one through its
 * controller (the release copied there first); a promotion's `healthyFor` reads when the
 * release became healthy in the environment it comes from.
 */
import { dirname, posix, relative, resolve, sep } from "node:path";
import { FINISHED_ROLLOUT_STATES, type RolloutRecord } from "../apps/rollout-types.js";
import type { Definition } from "../definition/index.js";
import type { BuildRequest, DeployRequest, ReleaseActions } from "../delivery/index.js";
import { buildArtifactRelease, buildRelease, buildTargetOf } from "../images/index.js";
import { registryLogin } from "../security/secrets/index.js";
import type { EventRecord, ReleaseStore, StepRecord } from "../store/index.js";
import { EnvironmentPeer } from "./environment-peer.js";
import type { ReleaseHealth } from "./release-exchange.js";

export interface ReleaseHost {
  /** The definition as written: a process app's `cwd` is its folder, not the artifact it runs. */
  definition(): Definition;
  /** Where artifacts of process apps are stored. */
  readonly stateDir: string;
  readonly releases: ReleaseStore;
  deploy(app: string, version: string, by: string): Promise<{ rollout: RolloutRecord | null }>;
  rollout(id: number): RolloutRecord | undefined;
  releaseHealth(app: string): ReleaseHealth;
  /** The run's steps as recorded: their test counts go with the release. */
  steps(runId: number): readonly StepRecord[];
  subscribe(listener: (event: EventRecord) => void): () => void;
}

/** How often a deploy looks at its rollout besides the rollout's own events. */
const ROLLOUT_CHECK_MS = 1_000;

export function pipelineReleases(host: ReleaseHost): ReleaseActions {
  return {
    async build({ app, checkout, run, log, signal }: BuildRequest): Promise<string> {
      const definition = host.definition();
      const createdBy = `pipeline ${run.pipeline} #${run.id}`;
      const details = {
        pipeline: run.pipeline,
        run: run.id,
        triggeredBy: run.createdBy,
        tests: testsOf(host.steps(run.id)),
      };
      const spec = definition.apps[app];
      if (spec !== undefined && spec.build === undefined && spec.container === undefined) {
        // A process app: its release is the artifact of its folder in the checkout.
        const outcome = await buildArtifactRelease({
          app,
          spec,
          sourceDir: inCheckout(definition, checkout, spec.cwd, `${app}'s folder`),
          stateDir: host.stateDir,
          releases: host.releases,
          commit: run.commit,
          definitionRevision: definition.hash,
          createdBy,
          details,
        });
        log(
          `${app}: ${outcome.created ? "stored" : "found"} the artifact ${outcome.release.digest} of its files at ${run.commit.slice(0, 8)}`,
        );
        return outcome.release.version;
      }
      const target = buildTargetOf(definition, app);
      const login = await registryLogin(definition);
      const context = inCheckout(
        definition,
        checkout,
        target.build.context,
        `${app}'s build context`,
      );
      const outcome = await buildRelease({
        target: { ...target, build: { ...target.build, context } },
        releases: host.releases,
        createdBy,
        output: log,
        details,
        signal,
        commit: run.commit,
        ...(login === undefined ? {} : { login }),
      });
      if (!outcome.created) log(`${app} ${outcome.release.version} was built before: unchanged`);
      return outcome.release.version;
    },

    async deploy({ app, environment, version, run, by, signal }: DeployRequest): Promise<void> {
      const definition = host.definition();
      if (environment === definition.environment) {
        const { rollout } = await host.deploy(app, version, by);
        if (rollout === null) return;
        expectRolledOut(app, version, await finished(host, rollout.id, signal));
        return;
      }
      const peer = peerOf(host, definition, environment);
      const release = host.releases.find(app, version);
      if (release === undefined) throw new Error(`${app} has no release ${version} here`);
      await peer.importRelease(release, {
        environment: definition.environment ?? "",
        pipeline: run.pipeline,
        run: run.id,
      });
      const rollout = await peer.deploy(app, version, by);
      if (rollout === null) return;
      expectRolledOut(app, version, await peerFinished(peer, app, rollout, signal));
    },

    async healthySince(app: string, environment: string, version: string) {
      const definition = host.definition();
      const health =
        environment === definition.environment
          ? host.releaseHealth(app)
          : await peerOf(host, definition, environment).health(app);
      if (health.desired?.version !== version) return undefined;
      return health.healthySince ?? undefined;
    },
  };
}

/** The controller of another environment, by the state directory the definition gives it. */
function peerOf(host: ReleaseHost, definition: Definition, environment: string): EnvironmentPeer {
  const stateDir = definition.environmentStates[environment];
  if (stateDir === undefined) {
    throw new Error(
      `${environment} is not this controller's environment (${definition.environment ?? "none"}) and declares no \`state:\` to find its controller by: add \`environments: { ${environment}: { state: .baton-${environment} } }\``,
    );
  }
  return new EnvironmentPeer(environment, stateDir, {
    stateDir: host.stateDir,
    environment: definition.environment ?? null,
  });
}

function expectRolledOut(app: string, version: string, ended: RolloutRecord): void {
  if (ended.state !== "rolled-out") {
    throw new Error(
      `the rollout of ${app} ${version} ${ended.state.replace("-", " ")}${ended.reason === null ? "" : `: ${ended.reason}`}`,
    );
  }
}

/**
 * Where `path` (a folder of the definition's working copy) is in the run's checkout. The
 * definition sits in a working copy of the repository the pipeline reads (itself, or a clone
 * of the bare repository pushed to): a folder's place beside the definition there is its
 * place beside the definition in the checkout. Where the definition is in its working copy
 * is what the client said when it applied it: its disk is not the controller's to read.
 */
function inCheckout(definition: Definition, checkout: string, path: string, what: string): string {
  const inRepository = definition.content?.inRepository;
  if (inRepository === undefined) {
    throw new Error(
      `${what} ${path} is not in a git working copy beside the definition: a build step builds the run's checkout, and finds the folder there by its path in the repository; apply the definition from a working copy of the repository the pipeline reads`,
    );
  }
  const inRepo = posix.join(
    posix.dirname(inRepository),
    relative(dirname(definition.file), path).split(sep).join("/"),
  );
  if (inRepo === ".." || inRepo.startsWith("../") || posix.isAbsolute(inRepo)) {
    throw new Error(
      `${what} ${path} lies outside the git working copy of ${definition.file}: a build step builds the run's checkout, where it is not`,
    );
  }
  return resolve(checkout, inRepo);
}

/** The run's test counts so far, all steps together: what the release was tested with. */
function testsOf(steps: readonly StepRecord[]): { total: number; failed: number; skipped: number } {
  const total = { total: 0, failed: 0, skipped: 0 };
  for (const s of steps) {
    if (s.tests === null) continue;
    total.total += s.tests.total;
    total.failed += s.tests.failed;
    total.skipped += s.tests.skipped;
  }
  return total;
}

/**
 * Resolves with the rollout once it has ended: woken by events, checked every second too.
 * Rejects when the run is cancelled or the controller stops: the rollout itself goes on (it
 * is the apps reconciler's), the step no longer waits for it.
 */
function finished(host: ReleaseHost, id: number, signal: AbortSignal): Promise<RolloutRecord> {
  return new Promise((resolveEnd, rejectEnd) => {
    const done = (): void => {
      clearInterval(timer);
      unsubscribe();
      signal.removeEventListener("abort", aborted);
    };
    const check = (): void => {
      const rollout = host.rollout(id);
      if (rollout === undefined || !FINISHED_ROLLOUT_STATES.has(rollout.state)) return;
      done();
      resolveEnd(rollout);
    };
    const aborted = (): void => {
      done();
      rejectEnd(new Error(`stopped waiting for rollout #${id}: the run was cancelled`));
    };
    const timer = setInterval(check, ROLLOUT_CHECK_MS);
    const unsubscribe = host.subscribe((event) => {
      if (event.type.startsWith("rollout.")) check();
    });
    signal.addEventListener("abort", aborted, { once: true });
    if (signal.aborted) aborted();
    else check();
  });
}

/** How often a promotion asks another environment's controller about its rollout. */
const PEER_CHECK_MS = 500;

/** Like `finished`, for a rollout in another environment: asked through its API. */
async function peerFinished(
  peer: EnvironmentPeer,
  app: string,
  id: number,
  signal: AbortSignal,
): Promise<RolloutRecord> {
  for (;;) {
    if (signal.aborted)
      throw new Error(
        `stopped waiting for ${peer.environment}'s rollout #${id}: the run was cancelled`,
      );
    const { rollout } = await peer.health(app, id);
    if (rollout !== null && FINISHED_ROLLOUT_STATES.has(rollout.state)) return rollout;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, PEER_CHECK_MS);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
