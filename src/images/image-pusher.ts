import { EngineCallError, postProgress } from "./engine-stream.js";
import { ImageError } from "./errors.js";
import { type RegistryLogin, registryAuthHeader } from "./registry-auth.js";

export interface PushRequest {
  readonly socketPath: string;
  /** `registry/project/app` */
  readonly repository: string;
  readonly tag: string;
  /** A line per layer when it is done ("a1b2c3: Pushed"), and the final digest line. */
  readonly onOutput: (line: string) => void;
  /** `registry: { username, password }`; none: anonymous, as a registry on loopback takes. */
  readonly login?: RegistryLogin;
}

/** Layer states worth a line: the rest ("Preparing", byte counts) would flood a terminal. */
const FINAL_STATES = /^(Pushed|Layer already exists|Mounted from .*)$/;

/**
 * Pushes `repository:tag` through the Engine API and returns the manifest digest the
 * registry answered (`sha256:…`), which is what a deploy pins.
 */
export async function pushImage(request: PushRequest): Promise<string> {
  const ref = `${request.repository}:${request.tag}`;
  let digest: string | undefined;
  let failure: string | undefined;
  try {
    await postProgress(
      request.socketPath,
      `/images/${encodeURIComponent(request.repository)}/push?tag=${encodeURIComponent(request.tag)}`,
      { headers: { "x-registry-auth": registryAuthHeader(request.login, request.repository) } },
      (message) => {
        if (message.error !== undefined) failure = message.errorDetail?.message ?? message.error;
        if (message.aux?.Digest !== undefined) digest = message.aux.Digest;
        const status = message.status ?? "";
        if (message.id !== undefined && FINAL_STATES.test(status)) {
          request.onOutput(`${message.id}: ${status}`);
        }
        const final = /digest: (sha256:[0-9a-f]{64})/.exec(status);
        if (final) {
          digest ??= final[1];
          request.onOutput(status);
        }
      },
    );
  } catch (error) {
    if (error instanceof EngineCallError) {
      throw new ImageError(
        "push.refused",
        `the Docker engine refused to push ${ref}: ${error.message}`,
        error.status === 503 ? "start dockerd" : "check the image name and the registry",
      );
    }
    throw error;
  }
  const registry = request.repository.split("/")[0] ?? "";
  if (failure !== undefined) {
    throw new ImageError(
      "push.failed",
      `pushing ${ref} failed: ${failure.trim()}`,
      /\b(unauthorized|authentication required|denied|no basic auth credentials)\b/i.test(failure)
        ? `the registry at ${registry} wants a login: \`registry: { url: ${registry}, username: NAME, password: { secret: NAME } }\` (or check that login); nothing was recorded`
        : `is a registry serving at ${registry}? (e.g. \`docker-registry serve config.yml\` with http.addr ${registry}); nothing was recorded`,
    );
  }
  if (digest === undefined || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
    throw new ImageError(
      "push.no_digest",
      `the push of ${ref} ended without the manifest digest`,
      "push again; nothing was recorded",
    );
  }
  return digest;
}
