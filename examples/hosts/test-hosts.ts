/**
 * Two throwaway Debian 12 hosts to try `examples/hosts/baton.yaml` on: containers running
 * sshd, reached on 127.0.0.1:2201 (dev) and 127.0.0.1:2202 (prod), with a fresh client key
 * and their host keys in `.hosts/` beside this file — where the definition's `ssh:` looks.
 * The first `up` builds the host image with debootstrap from the machine's Debian mirror
 * (a few minutes; cached after).
 *
 *   npx tsx examples/hosts/test-hosts.ts up     # start them
 *   npx tsx examples/hosts/test-hosts.ts down   # remove exactly the containers `up` started
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { docker } from "../../test/helpers/docker.js";
import { startHosts } from "../../test/helpers/hosts.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const STATE = join(HERE, ".hosts");
const CONTAINERS = join(STATE, "containers");
const PORTS = [2201, 2202];

async function up(): Promise<void> {
  if (existsSync(CONTAINERS)) {
    process.stderr.write(`the example hosts already run (${CONTAINERS}); \`down\` first\n`);
    process.exitCode = 1;
    return;
  }
  const fleet = await startHosts(PORTS.length, { ports: PORTS, labels: ["baton.example=hosts"] });
  mkdirSync(STATE, { recursive: true, mode: 0o700 });
  copyFileSync(fleet.identityFile, join(STATE, "id_ed25519"));
  copyFileSync(fleet.knownHosts, join(STATE, "known_hosts"));
  writeFileSync(CONTAINERS, `${fleet.hosts.map((h) => h.container).join("\n")}\n`);
  for (const [i, h] of fleet.hosts.entries())
    process.stdout.write(`${h.container}: ssh -p ${PORTS[i]} root@127.0.0.1\n`);
  process.stdout.write(`key and known_hosts: ${STATE}\n`);
}

async function down(): Promise<void> {
  const containers = existsSync(CONTAINERS)
    ? readFileSync(CONTAINERS, "utf8").split("\n").filter(Boolean)
    : [];
  for (const container of containers) {
    await docker(["rm", "-f", container]).catch((error: unknown) => {
      if (!/No such container/.test(String(error))) throw error;
    });
    process.stdout.write(`removed ${container}\n`);
  }
  rmSync(STATE, { recursive: true, force: true });
  rmSync(join(HERE, ".baton"), { recursive: true, force: true });
}

const command = process.argv[2];
const run = command === "up" ? up : command === "down" ? down : undefined;
if (run === undefined) {
  process.stderr.write("usage: npx tsx examples/hosts/test-hosts.ts up|down\n");
  process.exitCode = 2;
} else {
  run().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
