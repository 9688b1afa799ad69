/**
 * Issue 19: host modules must not follow a symlink swapped in between the observe and apply
 * round trips (root would chown/chmod whatever it points to), and a secret file with no mode
 * is written 0600. On a Debian 12 container, through the batch runner as `baton apply` uses it.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostResource } from "../../src/definition/host-model.js";
import { applyAll, type Observation, observeAll } from "../../src/hosts/batch.js";
import { ContainerTransport } from "../helpers/container-transport.js";
import { ensureDebianImage } from "../helpers/debian-image.js";
import { docker, ensureDocker, removeTestContainers } from "../helpers/docker.js";

const RUN = randomBytes(4).toString("hex");
const LABEL = `baton.test.host-links=${RUN}`;
const common = { keep: false, notify: [] as string[] };
let transport: ContainerTransport;
let container: string;

beforeAll(async () => {
  await ensureDocker();
  const image = await ensureDebianImage();
  container = `baton-links-${RUN}`;
  await docker(["run", "-d", "--name", container, "--label", LABEL, image, "sleep", "infinity"]);
  transport = new ContainerTransport(container);
}, 600_000);

afterAll(async () => {
  await removeTestContainers(LABEL);
});

function sh(script: string): Promise<string> {
  return docker(["exec", container, "sh", "-c", script]);
}

async function observe(resources: readonly HostResource[]): Promise<Map<number, Observation>> {
  const observed = await observeAll(
    transport,
    resources.map((resource, key) => ({ key, resource })),
  );
  for (const observation of observed.values()) expect(observation.error).toBeUndefined();
  return observed;
}

async function apply(resources: readonly HostResource[], observed: Map<number, Observation>) {
  return applyAll(
    transport,
    [...observed].map(([key, observation]) => ({ key, resource: resources[key]!, ...observation })),
  );
}

describe("host modules and links swapped in between observe and apply", () => {
  it("change no owner or mode of what a file swapped for a link points to", async () => {
    await sh(
      "useradd -M deploy && mkdir -p /srv/f && echo app > /srv/f/app.conf && chmod 0644 /srv/f/app.conf && " +
        "echo 'root:secret' > /srv/f/shadow && chmod 0640 /srv/f/shadow",
    );
    const resources: HostResource[] = [
      {
        ...common,
        module: "file",
        path: "/srv/f/app.conf",
        content: "app\n",
        mode: "0666",
        owner: "deploy",
        secret: false,
        state: "present",
      },
    ];
    const observed = await observe(resources);
    expect(observed.get(0)!.changes.map((change) => change.field)).toEqual(["mode", "owner"]);

    // Between the round trips, whoever can write the folder swaps in a link.
    await sh("rm /srv/f/app.conf && ln -s /srv/f/shadow /srv/f/app.conf");
    const outcome = (await apply(resources, observed)).get(0);

    expect(await sh("stat -c '%a %U' /srv/f/shadow")).toBe("640 root\n");
    expect(outcome?.status).toBe("failed");
    expect(outcome?.error).toContain("/srv/f/app.conf is a symbolic link");
  }, 120_000);

  it("change no owner or mode of what a directory swapped for a link points to", async () => {
    await sh("mkdir -p /srv/d/app /srv/d/keys && chmod 0755 /srv/d/app && chmod 0700 /srv/d/keys");
    const directory = (path: string): HostResource => ({
      ...common,
      module: "directory",
      path,
      mode: "0777",
      owner: "deploy",
      state: "present",
    });
    // Two directories: the batch runner merges them into one chown and one chmod.
    const resources = [directory("/srv/d/app"), directory("/srv/d/other")];
    await sh("mkdir -p /srv/d/other");
    const observed = await observe(resources);
    expect(observed.get(0)!.changes.map((change) => change.field)).toEqual(["mode", "owner"]);

    await sh("rmdir /srv/d/app && ln -s /srv/d/keys /srv/d/app");
    await apply(resources, observed);

    expect(await sh("stat -c '%a %U' /srv/d/keys")).toBe("700 root\n");
    // The directory that stayed a directory got its mode and owner.
    expect(await sh("stat -c '%a %U' /srv/d/other")).toBe("777 deploy\n");
  }, 120_000);

  it("write a secret file with no mode readable by its owner only", async () => {
    const resources: HostResource[] = [
      {
        ...common,
        module: "file",
        path: "/srv/token",
        content: "s3cr3t\n",
        secret: true,
        state: "present",
      },
    ];
    await apply(resources, await observe(resources));
    expect(await sh("stat -c '%a' /srv/token")).toBe("600\n");
    // An existing secret file with a wider mode is found as drift and narrowed.
    await sh("chmod 0644 /srv/token");
    const drift = await observe(resources);
    expect(drift.get(0)!.changes).toEqual([{ field: "mode", from: "0644", to: "0600" }]);
    await apply(resources, drift);
    expect(await sh("stat -c '%a' /srv/token")).toBe("600\n");
  }, 120_000);
});
