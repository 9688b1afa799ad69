import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * A real image registry for tests (DESIGN.md, "Real components"): Debian's `docker-registry`
 * on 127.0.0.1:5000, with our own configuration (no auth) and storage. Started when nothing
 * answers there and left running for later tests, like dockerd.
 */
export const REGISTRY = "127.0.0.1:5000";
const ROOT = "/tmp/baton-registry";
const LOG = `${ROOT}/registry.log`;
const BINARY = "/usr/bin/docker-registry";
const MISSING =
  "the image registry is missing: apt-get install docker-registry (the tests start it themselves on 127.0.0.1:5000)";

let ready: Promise<void> | undefined;

export function ensureRegistry(): Promise<void> {
  ready ??= startRegistry().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return ready;
}

async function startRegistry(): Promise<void> {
  if (await answers()) return;
  if (!existsSync(BINARY)) throw new Error(MISSING);
  mkdirSync(`${ROOT}/data`, { recursive: true });
  const config = `${ROOT}/config.yml`;
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log: { level: warn }",
      "storage:",
      `  filesystem: { rootdirectory: ${ROOT}/data }`,
      "  delete: { enabled: true }",
      `http: { addr: "${REGISTRY}" }`,
      "",
    ].join("\n"),
  );
  const log = openSync(LOG, "a");
  const child = spawn(BINARY, ["serve", config], { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  child.on("error", () => {});
  child.unref();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await answers()) return;
    await sleep(100);
  }
  const tail = readFileSync(LOG, "utf8").split("\n").slice(-20).join("\n");
  throw new Error(
    `docker-registry did not answer on ${REGISTRY} within 30 s; ${LOG} ends:\n${tail}`,
  );
}

async function answers(): Promise<boolean> {
  try {
    const response = await fetch(`http://${REGISTRY}/v2/`, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** GET /v2/<name>/tags/list: the tags the registry holds for a repository. */
export async function registryTags(name: string): Promise<string[]> {
  const response = await fetch(`http://${REGISTRY}/v2/${name}/tags/list`);
  if (response.status === 404) return [];
  const body = (await response.json()) as { tags: string[] | null };
  return body.tags ?? [];
}

/** The manifest digest the registry serves for `name:tag` (Docker-Content-Digest). */
export async function manifestDigest(name: string, tag: string): Promise<string | null> {
  const response = await fetch(`http://${REGISTRY}/v2/${name}/manifests/${tag}`, {
    method: "HEAD",
    headers: {
      accept: [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
      ].join(", "),
    },
  });
  return response.ok ? response.headers.get("docker-content-digest") : null;
}
