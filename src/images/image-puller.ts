import type { Definition } from "../definition/index.js";
import { DockerEngine, DockerError } from "../runtime/docker/index.js";
import { EngineCallError, postProgress } from "./engine-stream.js";
import { ImageError } from "./errors.js";
import { type RegistryLogin, registryAuthHeader } from "./registry-auth.js";

/**
 * Pulls each built app's pinned image (`repository@sha256:…`) that the engine lacks — pruned
 * since the build, or built by another machine — from the registry it was pushed to, so a
 * release runs wherever it is deployed. An image already there costs one inspect.
 */
export async function pullMissingImages(
  definition: Definition,
  engine: DockerEngine = new DockerEngine(),
): Promise<string[]> {
  const pulled: string[] = [];
  const auth = definition.registryAuth;
  // Filled in by the controller from the secrets (withSecretValues) before it pins releases.
  const login =
    auth?.password === undefined ? undefined : { username: auth.username, password: auth.password };
  for (const spec of Object.values(definition.apps)) {
    const image = spec.container?.image;
    if (spec.build === undefined || image === undefined || !image.includes("@sha256:")) continue;
    try {
      await engine.call("GET", `/images/${encodeURIComponent(image)}/json`);
      continue;
    } catch (error) {
      if (!(error instanceof DockerError && error.status === 404)) throw error;
    }
    await pull(engine.socketPath, image, spec.name, login);
    pulled.push(image);
  }
  return pulled;
}

async function pull(
  socketPath: string,
  image: string,
  app: string,
  login: RegistryLogin | undefined,
): Promise<void> {
  const at = image.lastIndexOf("@");
  const query = new URLSearchParams({ fromImage: image.slice(0, at), tag: image.slice(at + 1) });
  let failure: string | undefined;
  try {
    await postProgress(
      socketPath,
      `/images/create?${query}`,
      { headers: { "x-registry-auth": registryAuthHeader(login, image) } },
      (message) => {
        if (message.error !== undefined) failure = message.errorDetail?.message ?? message.error;
      },
    );
  } catch (error) {
    if (error instanceof EngineCallError) failure = error.message;
    else throw error;
  }
  if (failure !== undefined) {
    throw new ImageError(
      "image.pull_failed",
      `${app}'s release image ${image} is not on the Docker engine, and pulling it failed: ${failure.trim()}`,
      "start the registry it was pushed to, or deploy another release (`baton releases` lists them)",
    );
  }
}
