/**
 * What environments' controllers exchange about releases. A promotion deploys in the next
 * environment the very release that passed in the previous one: the target controller
 * records it as built (same version, digest, commit, tests, who and when) and says where it
 * came from; the pipeline's controller reads how long a release has served healthily.
 */
import type { ReleaseHealth, ReleaseOrigin } from "../api/releases.js";
import type { AppSpec } from "../definition/index.js";
import { importArtifact } from "../images/index.js";
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
      `${spec.name} ${release.version} is recorded here as ${known.digest}, not ${release.digest}: a release never changes`,
      "this environment recorded another build under that version; build the commit again in the environment the pipeline runs in, or deploy the recorded one",
    );
  }
  if (known !== undefined) return { release: known, created: false };
  const ref =
    release.kind === "artifact"
      ? await importArtifact({
          fromDir: release.ref,
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
