/**
 * Another environment's controller as a pipeline's controller sees it: found through the
 * state directory the environment declares (`environments.<env>.state`), reached through
 * its API. A promotion copies the release there, deploys it and follows the rollout.
 */
import { apiRequest } from "../server/api-request.js";
import { runningController } from "../server/controller-lease.js";
import type { ReleaseRecord } from "../store/index.js";
import type { ReleaseHealth, ReleaseOrigin } from "./release-exchange.js";

export class EnvironmentPeer {
  constructor(
    readonly environment: string,
    readonly stateDir: string,
  ) {}

  async importRelease(release: ReleaseRecord, from: ReleaseOrigin): Promise<void> {
    await this.call("POST", "/api/v1/releases", { release, from });
  }

  /** Deploys a release the peer has recorded; the rollout it started, if any. */
  async deploy(app: string, version: string, by: string): Promise<number | null> {
    const answer = await this.call("POST", `/api/v1/apps/${encodeURIComponent(app)}/deploy`, {
      release: version,
      by,
    });
    const rollout = answer.rollout as { id?: unknown } | null | undefined;
    return typeof rollout?.id === "number" ? rollout.id : null;
  }

  async health(app: string, rollout?: number): Promise<ReleaseHealth> {
    const query = rollout === undefined ? "" : `?rollout=${rollout}`;
    return (await this.call(
      "GET",
      `/api/v1/apps/${encodeURIComponent(app)}/release${query}`,
    )) as unknown as ReleaseHealth;
  }

  // The controller is looked up on each call: it may have been restarted in between.
  private async call(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
  ): Promise<Record<string, unknown>> {
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
      answer = await apiRequest(running.api, running.token, method, path, body);
    } catch (error) {
      throw new Error(
        `${env}'s controller (pid ${running.pid}) does not answer at ${running.api}: ${(error as Error).message}`,
      );
    }
    if (answer.status >= 200 && answer.status < 300) return answer.body;
    const error = (answer.body.error ?? {}) as { code?: string; message?: string; hint?: string };
    throw new Error(
      `${env}'s controller refused: ${error.message ?? `HTTP ${answer.status}`}${error.hint === undefined ? "" : ` (${error.hint})`}`,
    );
  }
}
