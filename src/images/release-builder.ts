import type { BuildTarget } from "../api/releases.js";
import type { Definition } from "../definition/index.js";
import { DockerEngine } from "../runtime/docker/index.js";
import type { NewRelease, ReleaseRecord } from "../store/index.js";
import { packContext } from "./build-context.js";
import { ImageError } from "./errors.js";
import { buildImage } from "./image-builder.js";
import { pushImage } from "./image-pusher.js";
import type { RegistryLogin } from "./registry-auth.js";
import { checkRegistry } from "./registry-check.js";
import { gitCommit, releaseVersion } from "./version.js";

/** What building an app needs from its definition, whether loaded here or by the controller. */
export type { BuildTarget };

/**
 * Where releases are looked up and recorded: the store of the process that holds the state
 * (the controller, or a client while none runs), or the controller's API from a client.
 */
export interface ReleaseBook {
  find(
    app: string,
    version: string,
  ): ReleaseRecord | undefined | Promise<ReleaseRecord | undefined>;
  record(
    release: NewRelease,
  ):
    | { record: ReleaseRecord; created: boolean }
    | Promise<{ record: ReleaseRecord; created: boolean }>;
}

export interface BuildReleaseOptions {
  readonly target: BuildTarget;
  readonly releases: ReleaseBook;
  readonly createdBy: string;
  /** Progress, a line at a time. */
  readonly output: (line: string) => void;
  readonly socketPath?: string;
  /** Recorded with the release besides the image's own (the pipeline run that built it…). */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Abandons the build (a cancelled pipeline run); nothing is recorded. */
  readonly signal?: AbortSignal;
  /**
   * The commit built, when the caller knows it (a pipeline run): git is then not run as the
   * controller in a checkout a step's user owns and may have rigged (.git/config).
   */
  readonly commit?: string;
  /** The login of `registry:`, decrypted by the caller; none: an anonymous push. */
  readonly login?: RegistryLogin;
}

export interface BuildOutcome {
  readonly release: ReleaseRecord;
  /** false: that version (same commit, same content) was built before; nothing was done. */
  readonly created: boolean;
}

/** The app's build target, or an ImageError when it has no `build:` (or does not exist). */
export function buildTargetOf(definition: Definition, app: string): BuildTarget {
  const spec = definition.apps[app];
  const build = spec?.build;
  if (spec === undefined || build === undefined) {
    const built = Object.values(definition.apps)
      .filter((a) => a.build !== undefined)
      .map((a) => a.name);
    throw new ImageError(
      spec === undefined ? "build.unknown_app" : "build.not_built",
      spec === undefined
        ? `there is no app named ${JSON.stringify(app)}`
        : `${app} has no \`build:\` in ${definition.file}: its image is not built by Baton`,
      built.length > 0
        ? `apps with build: ${built.join(", ")}`
        : "add `build: ./folder` (with a Dockerfile) to an app",
    );
  }
  return {
    app,
    build,
    contentExclude: spec.contentExclude,
    definitionRevision: definition.hash,
    ...(definition.registryAuth === undefined ? {} : { registryLogin: true }),
  };
}

/**
 * Builds an app's image, tags it `<repository>:<version>`, pushes it and records the
 * release — or recognises that this version exists and does nothing. A build or push that
 * fails records nothing.
 */
export async function buildRelease(options: BuildReleaseOptions): Promise<BuildOutcome> {
  const { app, build } = options.target;
  const context = packContext(build, options.target.contentExclude);
  const commit = options.commit ?? (await gitCommit(build.context));
  const version = releaseVersion(commit, context.digest);
  const existing = await options.releases.find(app, version);
  if (existing !== undefined) return { release: existing, created: false };

  // The registry is asked while the image builds: one that is not there still fails within
  // seconds (the build is abandoned), and one that is costs the build nothing.
  const abandon = new AbortController();
  if (options.signal?.aborted) abandon.abort();
  options.signal?.addEventListener("abort", () => abandon.abort(), { once: true });
  const registryReady = checkRegistry(build.repository).catch((error: unknown) => {
    abandon.abort();
    throw error;
  });
  const tag = `${build.repository}:${version}`;
  const socketPath = options.socketPath ?? new DockerEngine().socketPath;
  options.output(
    `building ${app} ${version} (${context.files} files, ${formatBytes(context.tar.length)} of context)`,
  );
  const [imageId] = await Promise.all([
    buildImage({
      socketPath,
      app,
      context: context.tar,
      dockerfile: build.dockerfile,
      tag,
      args: build.args,
      // Only the definition's labels: the classic builder makes each label a step of its own
      // (a container and a commit, ~0.6 s here), and the tag and the release record already
      // say project, app, version and commit.
      labels: build.labels,
      onOutput: options.output,
      signal: abandon.signal,
    }),
    registryReady,
  ]);
  if (options.signal?.aborted) {
    throw new ImageError(
      "build.abandoned",
      `the build of ${app} was abandoned`,
      "nothing was pushed or recorded",
    );
  }
  options.output(`pushing ${tag}`);
  const digest = await pushImage({
    socketPath,
    repository: build.repository,
    tag: version,
    onOutput: options.output,
    ...(options.login === undefined ? {} : { login: options.login }),
  });
  const { record, created } = await options.releases.record({
    app,
    version,
    kind: "image",
    ref: tag,
    digest,
    commit,
    definitionRevision: options.target.definitionRevision,
    createdBy: options.createdBy,
    details: { ...options.details, imageId, contentDigest: context.digest },
  });
  return { release: record, created };
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
