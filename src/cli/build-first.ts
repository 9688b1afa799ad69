import type { Definition } from "../definition/index.js";
import {
  appsWithoutRelease,
  type BuildTarget,
  buildRelease,
  buildTargetOf,
} from "../images/index.js";
import { type ReleaseRecord, SqliteStore } from "../store/index.js";
import { whoAmI } from "./context.js";
import { say } from "./output.js";

/**
 * Like `docker compose up`: an app with `build:` that was never built is built (and pushed,
 * and recorded) before the definition reaches the controller, with the build's progress.
 * A definition without such apps leaves the state untouched.
 */
export async function buildMissingReleases(
  definition: Definition,
  stateDir: string,
  output: (line: string) => void = say,
): Promise<void> {
  if (!Object.values(definition.apps).some((app) => app.build !== undefined)) return;
  const store = SqliteStore.open(stateDir, { create: true });
  try {
    for (const app of appsWithoutRelease(definition, store.releases)) {
      output(`${app} has no release yet: building it`);
      const { release, created } = await buildRelease({
        target: buildTargetOf(definition, app),
        releases: store.releases,
        createdBy: whoAmI(),
        output,
      });
      if (created) recordBuildEvent(store, release);
      output(`${app} release ${release.version} (${release.digest})`);
    }
  } finally {
    store.close();
  }
}

export interface BuiltRelease {
  readonly release: ReleaseRecord;
  /** false: that version was built and pushed before; nothing was done. */
  readonly created: boolean;
}

/**
 * `baton build` and `baton deploy` without `--release`: each target's current code is built,
 * pushed and recorded — or found already released — one after the other.
 */
export async function buildReleases(
  stateDir: string,
  targets: readonly BuildTarget[],
  output: (line: string) => void,
): Promise<BuiltRelease[]> {
  const store = SqliteStore.open(stateDir, { create: true });
  const results: BuiltRelease[] = [];
  try {
    for (const target of targets) {
      const built = await buildRelease({
        target,
        releases: store.releases,
        createdBy: whoAmI(),
        output,
      });
      if (built.created) recordBuildEvent(store, built.release);
      results.push(built);
    }
  } finally {
    store.close();
  }
  return results;
}

/** A new release goes into the audit trail (`/api/v1/events`), whoever built it. */
export function recordBuildEvent(store: SqliteStore, release: ReleaseRecord): void {
  store.appendEvent({
    type: "release.recorded",
    app: release.app,
    message: `${release.app} release ${release.version} (${release.digest}) built and pushed by ${release.createdBy}`,
    data: { version: release.version, digest: release.digest, commit: release.commit },
  });
}
