import { stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import type { AppSpec } from "../definition/index.js";
import type { ReleaseStore } from "../store/index.js";
import { TreeChangedError, treeDigest } from "../util/file-tree.js";
import { artifactDir, storeArtifact } from "./artifact-store.js";
import { ImageError } from "./errors.js";
import type { BuildOutcome } from "./release-builder.js";
import { releaseVersion } from "./version.js";

export interface ArtifactReleaseOptions {
  readonly app: string;
  /** The app as the definition writes it: its `ignore` and its folder's exclusions apply. */
  readonly spec: AppSpec;
  /** The app's folder to release, e.g. its place in a pipeline run's checkout. */
  readonly sourceDir: string;
  readonly stateDir: string;
  readonly releases: ReleaseStore;
  /** The commit `sourceDir` holds; null outside git. */
  readonly commit: string | null;
  /** The definition's hash, recorded with the release. */
  readonly definitionRevision: string;
  readonly createdBy: string;
  /** Recorded with the release (the pipeline run that built it…). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * A process app's release: its folder's files, hashed as the definition hashes the app's
 * `cwd` (`contentDigest`), stored read-only as `<state>/artifacts/<app>/<hex>` and recorded
 * as an "artifact" release versioned `<commit>-<content>` like an image. The same commit and
 * content give the same version, recorded once; the same content is stored once.
 */
export async function buildArtifactRelease(options: ArtifactReleaseOptions): Promise<BuildOutcome> {
  const { app, spec, sourceDir } = options;
  const source = resolve(sourceDir);
  const found = await stat(source).catch(() => undefined);
  if (found?.isDirectory() !== true) {
    throw new ImageError(
      "artifact.source_missing",
      `${app}'s folder ${source} is not a directory: there are no files to release`,
      "check the app's `cwd:` in the definition: a build step releases that folder of the run's checkout",
    );
  }
  const filter = {
    ignore: spec.ignore,
    exclude: [...excludedIn(spec, source), resolve(options.stateDir)],
  };
  const hex = treeDigest(source, filter);
  const dir = artifactDir(options.stateDir, app, hex);
  try {
    await storeArtifact(source, dir, { ...filter, expectedDigest: hex });
  } catch (error) {
    if (error instanceof TreeChangedError) {
      throw new ImageError(
        "artifact.changed",
        `the files of ${source} changed while Baton copied them (content ${hex.slice(0, 12)} expected, ${error.found.slice(0, 12)} found)`,
        "build again once nothing writes into the app's folder",
      );
    }
    throw new ImageError(
      "artifact.store_failed",
      `could not store ${app}'s files as an artifact in ${dir}: ${(error as Error).message}`,
      "check that the state directory is writable and has room",
    );
  }
  const { record, created } = options.releases.record({
    app,
    version: releaseVersion(options.commit, hex),
    kind: "artifact",
    ref: dir,
    digest: `sha256:${hex}`,
    commit: options.commit,
    definitionRevision: options.definitionRevision,
    createdBy: options.createdBy,
    details: { ...options.details, contentDigest: hex },
  });
  return { release: record, created };
}

/**
 * The app's exclusions (the definition file, the state directory) at their place in
 * `source`: what the definition leaves out of its `cwd` is left out of the same folder
 * elsewhere, so that the same files give the same digest wherever they are released from.
 */
function excludedIn(spec: AppSpec, source: string): string[] {
  const excluded: string[] = [];
  for (const path of spec.contentExclude) {
    const inside = relative(spec.cwd, path);
    if (inside === "" || inside === ".." || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
      continue;
    }
    excluded.push(resolve(source, inside));
  }
  return excluded;
}
