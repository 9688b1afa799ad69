/**
 * What environments' controllers exchange about releases. A promotion deploys in the next
 * environment the very release that passed in the previous one: the target controller
 * records it as built (same version, digest, commit, tests, who and when) and says where it
 * came from; the pipeline's controller reads how long a release has served healthily.
 */

import { realpathSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { ReleaseHealth, ReleaseOrigin } from "../api/releases.js";
import type { AppSpec, Definition } from "../definition/index.js";
import { artifactDir, digestHex, importArtifact, isArtifactPath } from "../images/index.js";
import type { NewRelease, ReleaseRecord, ReleaseStore } from "../store/index.js";
import { ControllerError } from "./errors.js";

export type { ReleaseHealth, ReleaseOrigin };

/**
 * Records a release another environment's controller built. An image is shared through its
 * registry; an artifact (a process app's files) is copied from the other state directory of
 * this machine into this one, verified to hold the release's very bytes.
 */
export async function importRelease(
  releases: ReleaseStore,
  stateDir: string,
  definition: Definition,
  spec: AppSpec,
  release: NewRelease,
  origin: ReleaseOrigin,
): Promise<{ release: ReleaseRecord; created: boolean }> {
  if (release.kind === "image" && spec.build === undefined) {
    throw new ControllerError(
      "release.not_built_here",
      `${spec.name} has no \`build:\` in this environment, so it cannot run the image release ${release.version}`,
      `give apps.${spec.name} the same \`build:\` in every environment it is promoted through`,
    );
  }
  const known = releases.find(spec.name, release.version);
  if (known !== undefined && (known.digest !== release.digest || known.kind !== release.kind)) {
    throw new ControllerError(
      "release.conflict",
      `${spec.name} ${release.version} is recorded here with another digest than ${release.digest}: a release never changes`,
      "this environment recorded another build under that version; build the commit again in the environment the pipeline runs in, or deploy the recorded one",
    );
  }
  if (known !== undefined) return { release: known, created: false };
  const ref =
    release.kind === "artifact"
      ? await importArtifact({
          fromDir: peerArtifact(definition, stateDir, spec.name, release, origin),
          stateDir,
          app: spec.name,
          digest: release.digest,
        })
      : release.ref;
  const { record, created } = releases.record({
    ...release,
    ref,
    details: { ...release.details, importedFrom: origin },
  });
  return { release: record, created };
}

/**
 * The folder an artifact release is imported from: the artifact store of an environment the
 * definition declares (its `state:`, else `.baton/` beside the definition), other than this
 * one. Any other folder is refused: the API must not copy whatever the controller can read
 * into a release (issue 19).
 */
function peerArtifact(
  definition: Definition,
  stateDir: string,
  app: string,
  release: NewRelease,
  origin: ReleaseOrigin,
): string {
  const env = origin.environment;
  const declared = definition.environments.includes(env) && env !== definition.environment;
  const peerState = declared
    ? (definition.environmentStates[env] ?? resolve(dirname(definition.file), ".baton"))
    : undefined;
  const expected =
    peerState === undefined || resolve(peerState) === resolve(stateDir)
      ? undefined
      : artifactDir(peerState, app, digestHex(release.digest));
  if (peerState !== undefined && expected !== undefined && resolve(release.ref) === expected) {
    // The very folder, not a link from the store to elsewhere.
    const real = realOrNone(expected);
    if (real === undefined || isArtifactPath(realOrNone(peerState) ?? peerState, real)) {
      return expected;
    }
  }
  const environments = definition.environments.filter((name) => name !== definition.environment);
  throw new ControllerError(
    "release.invalid_source",
    declared
      ? `${app}'s artifact ${release.ref} is not in ${env}'s artifact store: expected ${expected ?? `a state directory of ${env} other than this one`}`
      : `${app}'s artifact comes from ${JSON.stringify(env)}, which this definition does not declare as another environment (declared: ${environments.join(", ") || "none"})`,
    "promote artifacts with a pipeline's `promote:` step from an environment declared under `environments:`",
  );
}

function realOrNone(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
