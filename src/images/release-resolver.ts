import type { AppSpec, Definition } from "../spec/index.js";
import type { ReleaseRecord, ReleaseStore } from "../store/index.js";
import { ImageError } from "./errors.js";

type ReleaseLookup = Pick<ReleaseStore, "find" | "latest" | "desired">;

/**
 * The release an app with `build:` runs: the one `baton deploy --release` chose, else the
 * newest. undefined when the app has none yet.
 */
export function chosenRelease(app: string, releases: ReleaseLookup): ReleaseRecord | undefined {
  const desired = releases.desired(app);
  const pinned = desired === undefined ? undefined : releases.find(app, desired.version);
  return pinned ?? releases.latest(app);
}

/** The image reference replicas of `release` run: pinned by digest, never by tag. */
export function pinnedImage(repository: string, release: ReleaseRecord): string {
  return `${repository}@${release.digest}`;
}

/**
 * The definition with each built app's image pinned to its chosen release's digest. The
 * pin is part of the app's container spec, hence of its revision: another release is a
 * rollout like any other (health-gated, rolled back on failure). An app without a release
 * throws with `missing: "throw"`; with "keep" it keeps its bare repository (for plans).
 */
export function resolveReleases(
  definition: Definition,
  releases: ReleaseLookup,
  options: { missing: "throw" | "keep" } = { missing: "throw" },
): Definition {
  let changed = false;
  const apps: Record<string, AppSpec> = {};
  for (const [name, spec] of Object.entries(definition.apps)) {
    apps[name] = spec;
    if (spec.build === undefined || spec.container === undefined) continue;
    const release = chosenRelease(name, releases);
    if (release === undefined) {
      if (options.missing === "keep") continue;
      throw new ImageError(
        "release.missing",
        `${name} has no release yet: its image was never built`,
        `build it with \`baton build ${name}\` (\`baton up\` and \`baton apply\` build it first)`,
      );
    }
    apps[name] = {
      ...spec,
      container: { ...spec.container, image: pinnedImage(spec.build.repository, release) },
    };
    changed = true;
  }
  return changed ? { ...definition, apps } : definition;
}

/** Apps of the definition built by Baton that have no release yet. */
export function appsWithoutRelease(definition: Definition, releases: ReleaseLookup): string[] {
  return Object.values(definition.apps)
    .filter((spec) => spec.build !== undefined && chosenRelease(spec.name, releases) === undefined)
    .map((spec) => spec.name);
}
