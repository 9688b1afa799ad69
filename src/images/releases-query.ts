/**
 * `baton releases APP` and `GET /api/v1/apps/APP/releases`: an app's releases, newest first,
 * which one is deployed and which one serves, read from the store by one function whether a
 * controller answers or the CLI reads the state itself.
 */

import type { ReleaseJson, ReleasesAnswer } from "../api/releases.js";
import type { AppSpec } from "../definition/index.js";
import type { ReleaseRecord, ReleaseStore, RolloutStore } from "../store/index.js";
import { chosenRelease, releaseDigestOf } from "./release-resolver.js";

export type { ReleaseJson, ReleasesAnswer };

export function releaseJson(release: ReleaseRecord): ReleaseJson {
  return {
    app: release.app,
    version: release.version,
    number: release.number,
    kind: release.kind,
    digest: release.digest,
    commit: release.commit,
    createdAt: new Date(release.createdAt).toISOString(),
    createdBy: release.createdBy,
    image: release.ref,
    definitionRevision: release.definitionRevision,
    details: release.details,
  };
}

export function appReleases(
  store: {
    readonly releases: Pick<ReleaseStore, "list" | "find" | "latest" | "desired">;
    readonly rollouts: Pick<RolloutStore, "servingRevision" | "revision">;
  },
  app: string,
): ReleasesAnswer {
  const releases = store.releases.list(app);
  return {
    app,
    deployed: chosenRelease(app, store.releases)?.version ?? null,
    serving: servingRelease(store.rollouts, app, releases),
    releases: releases.map(releaseJson),
  };
}

/** What a state directory with no store yet answers: nothing released. */
export function noReleases(app: string): ReleasesAnswer {
  return { app, deployed: null, serving: null, releases: [] };
}

/**
 * The release the app's serving revision runs, by digest: after a deploy that was rolled
 * back, that is not the deployed one.
 */
function servingRelease(
  rollouts: Pick<RolloutStore, "servingRevision" | "revision">,
  app: string,
  releases: readonly ReleaseRecord[],
): string | null {
  const revision = rollouts.servingRevision(app);
  const stored = revision === undefined ? undefined : rollouts.revision(app, revision);
  if (stored === undefined) return null;
  const digest = releaseDigestOf(JSON.parse(stored.spec) as Partial<AppSpec>);
  return releases.find((r) => r.digest === digest)?.version ?? null;
}
