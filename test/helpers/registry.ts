import { execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./cli.js";
import { eventually } from "./wait.js";

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

/** A second registry that refuses anonymous pushes and pulls (htpasswd, bcrypt). */
export interface AuthRegistry {
  /** 127.0.0.1:PORT */
  readonly address: string;
  /** GET /v2/<name>/tags/list with the login. */
  tags(name: string): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Starts `docker-registry serve` with `auth.htpasswd` on a free loopback port, its own
 * storage and log, for `username`/`password`. The bcrypt entry comes from Python's crypt
 * module (apache2-utils' htpasswd is not installed here); the registry reads $2y$ entries.
 */
export async function startAuthRegistry(username: string, password: string): Promise<AuthRegistry> {
  if (!existsSync(BINARY)) throw new Error(MISSING);
  const root = mkdtempSync(join(tmpdir(), "baton-auth-registry-"));
  const hash = execFileSync(
    "python3",
    [
      "-W",
      "ignore",
      "-c",
      "import crypt,sys; print(crypt.crypt(sys.stdin.read(), crypt.mksalt(crypt.METHOD_BLOWFISH)))",
    ],
    { input: password, encoding: "utf8" },
  ).trim();
  if (!hash.startsWith("$2")) throw new Error(`python3's crypt made no bcrypt hash: ${hash}`);
  writeFileSync(join(root, "htpasswd"), `${username}:${hash.replace(/^\$2[ab]\$/, "$2y$")}\n`);
  const address = `127.0.0.1:${await freePort()}`;
  const config = join(root, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log: { level: warn }",
      "storage:",
      `  filesystem: { rootdirectory: ${root}/data }`,
      `http: { addr: "${address}" }`,
      "auth:",
      `  htpasswd: { realm: baton-test, path: ${root}/htpasswd }`,
      "",
    ].join("\n"),
  );
  const logPath = join(root, "registry.log");
  const log = openSync(logPath, "a");
  const child = spawn(BINARY, ["serve", config], { stdio: ["ignore", log, log] });
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    rmSync(root, { recursive: true, force: true });
  };
  const basic = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  try {
    await eventually(
      `the htpasswd registry asks for a login on ${address}`,
      async () => {
        if (child.exitCode !== null) {
          throw new Error(`docker-registry exited: ${readFileSync(logPath, "utf8")}`);
        }
        return (await fetch(`http://${address}/v2/`).catch(() => undefined))?.status;
      },
      (status) => status === 401,
      30_000,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    address,
    async tags(name) {
      const response = await fetch(`http://${address}/v2/${name}/tags/list`, {
        headers: { authorization: basic },
      });
      if (response.status === 404) return [];
      if (!response.ok) throw new Error(`tags of ${name}: HTTP ${response.status}`);
      const body = (await response.json()) as { tags: string[] | null };
      return body.tags ?? [];
    },
    stop,
  };
}
