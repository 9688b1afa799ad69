import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { ImageError } from "./errors.js";

const TIMEOUT_MS = 3_000;

/**
 * Asks the registry's `/v2/` while the image builds, so that a registry that is not there fails in
 * a second rather than after a long build. Any HTTP answer (a 401 too) means it serves.
 */
export async function checkRegistry(registry: string): Promise<void> {
  const host = registry.split("/")[0] ?? registry;
  const name = host.replace(/:\d+$/, "");
  // Docker speaks plain HTTP to loopback registries only; any other is HTTPS.
  const scheme = /^(127\.|localhost$|\[?::1\]?$)/.test(name) ? "http" : "https";
  try {
    await answers(`${scheme}://${host}/v2/`);
  } catch (error) {
    const cause = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ImageError(
      "registry.unreachable",
      `no registry answers at ${scheme}://${host}/v2/ (${cause}); built images are pushed there`,
      `start one (Debian: \`apt-get install docker-registry\`, then \`docker-registry serve config.yml\` with \`http.addr: ${host}\`), or fix \`registry:\` in the definition`,
    );
  }
}

/** Resolves on any HTTP answer. node:http, not fetch: fetch loads undici, ~0.1 s of CPU. */
function answers(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = url.startsWith("https:") ? httpsRequest : httpRequest;
    const req = request(url, { timeout: TIMEOUT_MS, agent: false }, (res) => {
      res.resume();
      resolve();
    });
    req.on("timeout", () =>
      req.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })),
    );
    req.on("error", reject);
    req.end();
  });
}
