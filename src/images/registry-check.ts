import { ImageError } from "./errors.js";

const TIMEOUT_MS = 3_000;

/**
 * Asks the registry's `/v2/` before a build, so that a registry that is not there fails in
 * a second rather than after a long build. Any HTTP answer (a 401 too) means it serves.
 */
export async function checkRegistry(registry: string): Promise<void> {
  const host = registry.split("/")[0] ?? registry;
  const name = host.replace(/:\d+$/, "");
  // Docker speaks plain HTTP to loopback registries only; any other is HTTPS.
  const scheme = /^(127\.|localhost$|\[?::1\]?$)/.test(name) ? "http" : "https";
  try {
    const response = await fetch(`${scheme}://${host}/v2/`, {
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.arrayBuffer();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new ImageError(
      "registry.unreachable",
      `no registry answers at ${scheme}://${host}/v2/ (${cause}); built images are pushed there`,
      `start one (Debian: \`apt-get install docker-registry\`, then \`docker-registry serve config.yml\` with \`http.addr: ${host}\`), or fix \`registry:\` in the definition`,
    );
  }
}
