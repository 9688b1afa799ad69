/**
 * Real Debian hosts for tests and benchmarks: containers of the Debian host image running
 * sshd, each reached ONLY on 127.0.0.1 at its own published port. A fresh ed25519 client key
 * is made per run (root and a `deploy` user with passwordless sudo accept it), and the hosts'
 * own keys are written to a known_hosts file, so tests verify host keys exactly as a user's
 * run does — nothing is trusted silently.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDebianImage } from "./debian-image.js";
import { docker, ensureDocker } from "./docker.js";
import { eventually } from "./wait.js";

export interface TestHost {
  /** The container's name, also the host's name in an inventory. */
  readonly name: string;
  /** The port on 127.0.0.1 where its sshd answers. */
  readonly port: number;
  readonly container: string;
  /** Its address on the Docker network: only other test hosts use it (jump host tests). */
  readonly internalAddress: string;
}

export interface TestHosts {
  readonly hosts: readonly TestHost[];
  /** The private key root and `deploy` accept on every host. */
  readonly identityFile: string;
  /** `[127.0.0.1]:PORT key` for each host (and `ADDRESS key` for its internal address). */
  readonly knownHosts: string;
  /** A folder removed by stop(), for the caller's own files (other keys, known_hosts). */
  readonly dir: string;
  /** Removes exactly these hosts' containers and the folder. */
  stop(): Promise<void>;
}

export interface StartHostsOptions {
  /** Extra labels (`key=value`) on each container, e.g. for a test's own cleanup. */
  readonly labels?: readonly string[];
  /** How long each host may take to answer SSH; generous, the machine is shared. */
  readonly readyTimeoutMs?: number;
  /** The port on 127.0.0.1 for each host, in order; a free one is picked when absent. */
  readonly ports?: readonly number[];
}

/** The label every test host carries: `baton.test.hosts=<run id>`. */
export const HOSTS_LABEL = "baton.test.hosts";

// The key is passed in the environment; sshd's StrictModes wants root-owned 0700/0600 files,
// which writing them inside the container gives for certain.
const BOOT = [
  "set -e",
  "mkdir -p /run/sshd /root/.ssh",
  'printf "%s\\n" "$AUTHORIZED_KEY" > /root/.ssh/authorized_keys',
  "chmod 700 /root/.ssh && chmod 600 /root/.ssh/authorized_keys",
  "id deploy >/dev/null 2>&1 || useradd -m -s /bin/sh deploy",
  "mkdir -p /home/deploy/.ssh && cp /root/.ssh/authorized_keys /home/deploy/.ssh/",
  "chown -R deploy:deploy /home/deploy/.ssh && chmod 700 /home/deploy/.ssh",
  'printf "deploy ALL=(ALL) NOPASSWD:ALL\\n" > /etc/sudoers.d/deploy && chmod 440 /etc/sudoers.d/deploy',
  // The image carries the keys debootstrap made when it installed openssh-server: every host
  // would share them. Each host makes its own, once.
  "[ -e /etc/ssh/.own-keys ] || { rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub; touch /etc/ssh/.own-keys; }",
  "ssh-keygen -A",
  "exec /usr/sbin/sshd -D -e",
].join("\n");

function run(command: string, args: readonly string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else if ((error as NodeJS.ErrnoException).code === "ENOENT")
        reject(new Error(`${command} is missing: apt-get install -y openssh-client`));
      else reject(new Error(`${command} ${args.join(" ")} failed: ${stderr || error.message}`));
    });
  });
}

/** Generates an ed25519 key pair without a passphrase (or with one); returns the private key path. */
export async function generateKey(dir: string, name: string, passphrase = ""): Promise<string> {
  const file = join(dir, name);
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f", file]);
  return file;
}

/** Starts n Debian hosts answering SSH on 127.0.0.1; see the module comment. */
export async function startHosts(n: number, options: StartHostsOptions = {}): Promise<TestHosts> {
  await ensureDocker();
  const image = await ensureDebianImage();
  const runId = randomBytes(4).toString("hex");
  const dir = mkdtempSync(join(tmpdir(), "baton-hosts-"));
  const containers: string[] = [];
  const stop = async (): Promise<void> => {
    for (const container of containers) {
      await docker(["rm", "-f", container]).catch((error: unknown) => {
        if (!/No such container|already in progress/.test(String(error))) throw error;
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const identityFile = await generateKey(dir, "id_ed25519");
    const publicKey = readFileSync(`${identityFile}.pub`, "utf8").trim();
    const labels = [`${HOSTS_LABEL}=${runId}`, ...(options.labels ?? [])];
    for (let i = 0; i < n; i++) {
      const name = `baton-host-${runId}-${i + 1}`;
      await docker([
        "run",
        "-d",
        "--name",
        name,
        "--hostname",
        name,
        ...labels.flatMap((label) => ["--label", label]),
        "-e",
        `AUTHORIZED_KEY=${publicKey}`,
        "-p",
        `127.0.0.1:${options.ports?.[i] ?? ""}:22`,
        image,
        "sh",
        "-c",
        BOOT,
      ]);
      containers.push(name);
    }
    const hosts: TestHost[] = [];
    for (const container of containers) {
      const port = await publishedPort(container);
      await waitForSsh(container, port, options.readyTimeoutMs ?? 90_000);
      const internalAddress = (
        await docker(["inspect", "-f", "{{.NetworkSettings.IPAddress}}", container])
      ).trim();
      hosts.push({ name: container, port, container, internalAddress });
    }
    const knownHosts = join(dir, "known_hosts");
    await writeKnownHosts(knownHosts, hosts);
    return { hosts, identityFile, knownHosts, dir, stop };
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
}

async function publishedPort(container: string): Promise<number> {
  const out = await docker(["port", container, "22/tcp"]);
  const match = /127\.0\.0\.1:(\d+)/.exec(out);
  if (match?.[1] === undefined) throw new Error(`${container}: port 22 is not published: ${out}`);
  return Number(match[1]);
}

/** The host's ed25519 public key as `type base64`. */
export async function hostKey(host: Pick<TestHost, "container">): Promise<string> {
  const line = await docker(["exec", host.container, "cat", "/etc/ssh/ssh_host_ed25519_key.pub"]);
  return line.trim().split(/\s+/).slice(0, 2).join(" ");
}

/** Writes `[127.0.0.1]:PORT key` and `INTERNAL_ADDRESS key` for each host. */
export async function writeKnownHosts(file: string, hosts: readonly TestHost[]): Promise<void> {
  const lines: string[] = [];
  for (const host of hosts) {
    const key = await hostKey(host);
    lines.push(`[127.0.0.1]:${host.port} ${key}`);
    if (host.internalAddress !== "") lines.push(`${host.internalAddress} ${key}`);
  }
  writeFileSync(file, `${lines.join("\n")}\n`);
}

/**
 * Gives the host new host keys (as a reinstalled machine would have) and waits until its sshd
 * offers the new one; known_hosts files written before now hold a changed key for it.
 */
export async function rekeyHost(host: TestHost): Promise<string> {
  const before = await hostKey(host);
  await docker([
    "exec",
    host.container,
    "sh",
    "-c",
    "rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub && ssh-keygen -A && kill -HUP 1",
  ]);
  const after = await hostKey(host);
  if (after === before) throw new Error(`${host.name}: ssh-keygen -A made the same key`);
  await eventually(
    `${host.name} offers its new host key`,
    () => run("ssh-keyscan", ["-T", "5", "-t", "ed25519", "-p", String(host.port), "127.0.0.1"]),
    (out) => out.includes(after.split(" ")[1] ?? "?"),
    60_000,
  );
  return after;
}

/** Waits until sshd's banner comes back on the published port (docker-proxy accepts earlier). */
async function waitForSsh(container: string, port: number, timeoutMs: number): Promise<void> {
  try {
    await eventually(
      `${container} answers SSH on 127.0.0.1:${port}`,
      () => banner(port),
      Boolean,
      timeoutMs,
    );
  } catch (error) {
    const logs = await docker(["logs", "--tail", "20", container]).catch(() => "");
    throw new Error(`${(error as Error).message}\ncontainer log:\n${logs}`);
  }
}

function banner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let seen = "";
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(3_000, () => done(false));
    socket.on("data", (chunk) => {
      seen += chunk.toString("latin1");
      if (seen.includes("\n")) done(seen.startsWith("SSH-2.0-"));
    });
    socket.on("error", () => done(false));
    socket.on("close", () => done(false));
  });
}

/** Stops one host's container (kept, so stop() still removes it): it then refuses connections. */
export async function stopHost(host: TestHost): Promise<void> {
  await docker(["stop", "-t", "2", host.container]);
}

/** The container's sshd log lines, e.g. to count `Accepted publickey`. */
export async function sshdLog(host: TestHost): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("docker", ["logs", host.container], (error, stdout, stderr) => {
      if (error) reject(error);
      else resolve(stdout + stderr);
    });
  });
}
