import { existsSync } from "node:fs";
import type { AppSpec, Definition } from "../definition/index.js";
import type { ReleaseRecord, ReleaseStore } from "../store/index.js";
import { digestHex } from "./artifact-store.js";
import { ImageError } from "./errors.js";

type ReleaseLookup = Pick<ReleaseStore, "find" | "latest" | "desired">;

/**
 * The release an app with `build:` (or a process app with artifact releases) runs: the one
 * `baton deploy --release` chose, else the newest. undefined when the app has none yet.
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
 * The definition with each built app's image pinned to its chosen release's digest, and each
 * process app whose chosen release is an artifact running that artifact's folder. The pin
 * (image, or folder and content) is part of the app's spec, hence of its revision: another
 * release is a rollout like any other (health-gated, rolled back on failure). A built app
 * without a release throws with `missing: "throw"`; with "keep" it keeps its bare repository
 * (for plans). A process app without an artifact release runs its `cwd` as written.
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
    if (spec.build === undefined && spec.container === undefined) {
      const artifact = runsArtifact(spec, releases);
      if (artifact !== spec) {
        apps[name] = artifact;
        changed = true;
      }
      continue;
    }
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

/**
 * A process app at its chosen artifact release: replicas run in the artifact's folder, and
 * its digest is the app's content, so a snapshot is never taken of anything else. Without an
 * artifact release the app is returned as it is.
 */
function runsArtifact(spec: AppSpec, releases: ReleaseLookup): AppSpec {
  const release = chosenRelease(spec.name, releases);
  if (release?.kind !== "artifact") return spec;
  if (!existsSync(release.ref)) {
    throw new ImageError(
      "release.artifact_missing",
      `${spec.name}'s release ${release.version} runs the files of ${release.ref}, which is missing`,
      `deploy another release (\`baton releases ${spec.name}\` lists them), or build this one again from its commit${release.commit === null ? "" : ` ${release.commit.slice(0, 12)}`}`,
    );
  }
  // The artifact is the folder now: the manifest of the one the definition names is not it.
  const { contentManifest: _folder, ...unpinned } = spec;
  return { ...unpinned, cwd: release.ref, contentDigest: digestHex(release.digest) };
}

/**
 * The digest of the release a stored app spec runs: its image's pin, or for a process app
 * its content (`sha256:<contentDigest>`, an artifact release's digest when it runs one).
 */
export function releaseDigestOf(spec: Partial<AppSpec>): string | undefined {
  const image = spec.container?.image;
  if (image !== undefined) {
    return image.includes("@") ? image.slice(image.lastIndexOf("@") + 1) : undefined;
  }
  return spec.contentDigest === undefined || spec.contentDigest === ""
    ? undefined
    : `sha256:${spec.contentDigest}`;
}
