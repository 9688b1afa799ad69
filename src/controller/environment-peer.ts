/**
 * Another environment's controller as a pipeline's controller sees it: found through the
 * state directory the environment declares (`environments.<env>.state`), reached through
 * its API. A promotion copies the release there, deploys it and follows the rollout, with a
 * token of that controller scoped to the app (peer-credential.ts), never with its own.
 */
import { errorBodyOf } from "../api/errors.js";
import type { ReleaseHealth, ReleaseOrigin } from "../api/releases.js";
import { type Route, routes } from "../api/routes.js";
import { apiRequest } from "../server/api-request.js";
import { runningController } from "../server/controller-lease.js";
import type { ReleaseRecord } from "../store/index.js";
import { peerTokenPath, promoterToken } from "./peer-credential.js";

/** The controller promoting: where it keeps its credentials, and its environment's name. */
export interface PromotingController {
  readonly stateDir: string;
  readonly environment: string | null;
}

export class EnvironmentPeer {
  constructor(
    readonly environment: string,
    readonly stateDir: string,
    private readonly self: PromotingController,
  ) {}

  async importRelease(release: ReleaseRecord, from: ReleaseOrigin): Promise<void> {
    await this.send(release.app, routes.importRelease({ release, from }));
  }

  /** Deploys a release the peer has recorded; the rollout it started, if any. */
  async deploy(app: string, version: string, by: string): Promise<number | null> {
    const answer = await this.send(app, routes.deploy(app, { release: version, by }));
    return answer.rollout?.id ?? null;
  }

  async health(app: string, rollout?: number): Promise<ReleaseHealth> {
    return this.send(app, routes.releaseHealth(app, rollout === undefined ? {} : { rollout }));
  }

  // The controller is looked up on each call: it may have been restarted in between.
  private async send<A>(app: string, route: Route<A>): Promise<A> {
    const running = runningController(this.stateDir);
    const env = this.environment;
    if (running === undefined) {
      throw new Error(
        `${env}'s controller does not run (state ${this.stateDir}): start it with \`baton up --env ${env} --detach\`, then run the pipeline again`,
      );
    }
    if (running.token === undefined) {
      throw new Error(
        `cannot read ${env}'s API token in ${this.stateDir}: run both controllers as the same user`,
      );
    }
    let answer: Awaited<ReturnType<typeof apiRequest>>;
    try {
      const token = await promoterToken({
        stateDir: this.self.stateDir,
        from: this.self.environment,
        to: env,
        app,
        api: running.api,
        adminToken: running.token,
      });
      answer = await apiRequest(running.api, token, route.method, route.path, route.body);
    } catch (error) {
      throw new Error(
        `${env}'s controller (pid ${running.pid}) does not answer at ${running.api}: ${(error as Error).message}`,
      );
    }
    if (answer.status >= 200 && answer.status < 300) {
      // The peer's server answers each route with its type (api/routes.ts `answer`).
      const body: unknown = answer.body;
      return body as A;
    }
    const error = errorBodyOf(answer.body, answer.status);
    const hint =
      answer.status === 401
        ? `the promotion token kept in ${peerTokenPath(this.self.stateDir, env, app)} no longer works there; delete that file and the next promotion makes a new one`
        : error.hint;
    throw new Error(
      `${env}'s controller refused: ${error.message}${hint === undefined ? "" : ` (${hint})`}`,
    );
  }
}
