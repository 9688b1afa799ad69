/**
 * images/: apps built from a Dockerfile — the context packed (honouring .dockerignore),
 * built and pushed through the Engine API, versioned by git commit and content, recorded
 * as releases, and resolved to digest-pinned images for the controller; process apps'
 * files stored as content-addressed artifacts, released and resolved the same way.
 */
export {
  type ArtifactReleaseOptions,
  buildArtifactRelease,
} from "./artifact-release.js";
export {
  ARTIFACTS_FOLDER,
  artifactDir,
  digestHex,
  type ImportArtifactOptions,
  importArtifact,
  isArtifactPath,
} from "./artifact-store.js";
export { type BuildContext, packContext } from "./build-context.js";
export { ignoreRules, readDockerignore } from "./dockerignore.js";
export { ImageError } from "./errors.js";
export {
  engineImageCommands,
  type ImageCommandReader,
  withImageCommands,
} from "./image-command.js";
export { pullMissingImages } from "./image-puller.js";
export { type RegistryLogin, registryAuthHeader } from "./registry-auth.js";
export {
  type BuildOutcome,
  type BuildReleaseOptions,
  type BuildTarget,
  buildRelease,
  buildTargetOf,
  type ReleaseBook,
} from "./release-builder.js";
export {
  appsWithoutRelease,
  chosenRelease,
  pinnedImage,
  releaseDigestOf,
  resolveReleases,
} from "./release-resolver.js";
export { TarWriter } from "./tar-writer.js";
export { gitCommit, releaseVersion } from "./version.js";
