/**
 * Every host module for real, on a Debian 12 container reached through `docker exec` (the
 * SSH transport is tested on its own): the first run changes, the second finds everything in
 * state, a change made by hand is found as drift, and removal undoes what was made. Each
 * observe and each apply of a host is one round trip.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CommandResource, HostResource } from "../../src/definition/host-model.js";
import {
  type ApplyOutcome,
  applyAll,
  CountingTransport,
  type Observation,
  observeAll,
  runHandlers,
} from "../../src/hosts/batch.js";
import { moduleFor } from "../../src/hosts/modules/index.js";
import { ContainerTransport } from "../helpers/container-transport.js";
import { ensureDebianImage } from "../helpers/debian-image.js";
import { docker, ensureDocker, removeTestContainers } from "../helpers/docker.js";

const RUN = randomBytes(4).toString("hex");
const LABEL = `baton.test.modules=${RUN}`;
const common = { keep: false, notify: [] as string[] };
let transport: CountingTransport;
let container: string;

beforeAll(async () => {
  await ensureDocker();
  const image = await ensureDebianImage();
  container = `baton-modules-${RUN}`;
  await docker([
    "run",
    "-d",
    "--name",
    container,
    "--label",
    LABEL,
    // A namespaced sysctl set at start: the container may not write /proc/sys itself.
    "--sysctl",
    "net.ipv4.ip_forward=1",
    image,
    "sleep",
    "infinity",
  ]);
  transport = new CountingTransport(new ContainerTransport(container));
}, 600_000);

afterAll(async () => {
  await removeTestContainers(LABEL);
});

function sh(script: string): Promise<string> {
  return docker(["exec", container, "sh", "-c", script]);
}

async function observe(resources: readonly HostResource[]): Promise<Map<number, Observation>> {
  const before = transport.roundTrips;
  const observed = await observeAll(
    transport,
    resources.map((resource, key) => ({ key, resource })),
  );
  expect(transport.roundTrips - before).toBe(resources.length === 0 ? 0 : 1);
  for (const [key, observation] of observed) {
    expect(
      observation.error,
      `${resources[key]!.module} ${JSON.stringify(resources[key])}`,
    ).toBeUndefined();
  }
  return observed;
}

async function apply(
  resources: readonly HostResource[],
  observed: Map<number, Observation>,
): Promise<Map<number, ApplyOutcome>> {
  return applyAll(
    transport,
    [...observed].map(([key, observation]) => ({ key, resource: resources[key]!, ...observation })),
  );
}

function changedFields(observed: Map<number, Observation>): Record<number, string[]> {
  return Object.fromEntries(
    [...observed]
      .filter(([, o]) => o.changes.length > 0)
      .map(([key, o]) => [key, o.changes.map((change) => change.field)]),
  );
}

/** Content no framing may trip over: quotes, `$`, newlines, a forged boundary and delimiter. */
const HOSTILE = `it's "quoted" $HOME \`id\` $(id)\n\nBATON-INPUT-END\n\nBATON-00000000000000000000000000000000 END\nno final newline`;

describe("host modules on a Debian container", () => {
  const reload: CommandResource = {
    ...common,
    module: "command",
    name: "reload",
    argv: ["sh", "-c", "date > /srv/app/reloaded"],
    handler: true,
  };
  const resources: HostResource[] = [
    { ...common, module: "group", name: "deploy", gid: 2001, system: false, state: "present" },
    {
      ...common,
      module: "user",
      name: "deploy",
      group: "deploy",
      groups: ["adm", "staff"],
      shell: "/bin/sh",
      system: false,
      state: "present",
    },
    {
      ...common,
      module: "directory",
      path: "/srv/app",
      mode: "0750",
      owner: "deploy",
      group: "deploy",
      state: "present",
    },
    {
      ...common,
      module: "file",
      path: "/srv/app/odd name's.conf",
      content: HOSTILE,
      mode: "0640",
      owner: "deploy",
      secret: false,
      state: "present",
    },
    {
      ...common,
      module: "file",
      path: "/srv/app/token",
      content: "s3cr3t\n",
      mode: "0600",
      secret: true,
      state: "present",
    },
    { ...common, module: "symlink", path: "/srv/current", target: "/srv/app", state: "present" },
    {
      ...common,
      module: "lineinfile",
      path: "/etc/ssh/sshd_config",
      line: "PermitRootLogin prohibit-password",
      regexp: "^#?PermitRootLogin",
      state: "present",
    },
    { ...common, module: "sysctl", key: "net.ipv4.ip_forward", value: "1", persist: true },
    { ...common, module: "package", name: "tree", state: "present" },
    { ...common, module: "package", name: "hello", state: "present" },
    { ...common, module: "service", name: "ssh", state: "running", enabled: true },
    {
      ...common,
      module: "command",
      name: "seed",
      argv: ["sh", "-c", "echo seeded > /srv/app/seed"],
      creates: "/srv/app/seed",
      handler: false,
    },
  ];

  it("applies every module, then finds it all in state", async () => {
    const first = await observe(resources);
    expect(Object.keys(changedFields(first))).toHaveLength(resources.length);
    expect(first.get(7)!.changes.map((c) => c.field)).toEqual(["persist.content"]);
    expect(first.get(4)!.changes[0]).toMatchObject({ from: "(secret, changed)" });

    const before = transport.roundTrips;
    const outcomes = await apply(resources, first);
    expect(transport.roundTrips - before).toBe(1);
    for (const [key, outcome] of outcomes) {
      expect(outcome, `${resources[key]!.module}`).toEqual({ status: "changed" });
    }

    expect(await sh("cat '/srv/app/odd name'\\''s.conf'")).toBe(HOSTILE);
    expect(await sh("stat -c '%a %U %G' /srv/app /srv/app/token")).toBe(
      "750 deploy deploy\n600 root root\n",
    );
    expect(await sh("id -Gn deploy")).toBe("deploy adm staff\n");
    expect(await sh("readlink /srv/current; cat /srv/app/seed /etc/sysctl.d/99-baton.conf")).toBe(
      "/srv/app\nseeded\nnet.ipv4.ip_forward = 1\n",
    );
    expect(await sh("grep '^PermitRootLogin' /etc/ssh/sshd_config")).toBe(
      "PermitRootLogin prohibit-password\n",
    );
    expect(await sh("tree --version >/dev/null && hello")).toBe("Hello, world!\n");
    await sh("/etc/init.d/ssh status");

    const second = await observe(resources);
    expect(changedFields(second)).toEqual({});
    expect(second.get(11)!.note).toBe("skipped: /srv/app/seed exists");
    const none = await apply(resources, second);
    expect([...none.values()].every((o) => o.status === "unchanged")).toBe(true);

    const handled = await runHandlers(transport, [reload]);
    expect(handled.get("reload")).toEqual({ status: "changed" });
    await sh("test -s /srv/app/reloaded");
  }, 300_000);

  it("finds a change made by hand as drift, per field, and heals it", async () => {
    await sh(
      "chmod 0644 '/srv/app/odd name'\\''s.conf' && echo changed > /srv/app/token && gpasswd -d deploy staff >/dev/null && /etc/init.d/ssh stop >/dev/null",
    );
    const drift = await observe(resources);
    expect(changedFields(drift)).toEqual({
      1: ["groups"],
      3: ["mode"],
      4: ["content"],
      10: ["state"],
    });
    expect(drift.get(3)!.changes[0]).toEqual({ field: "mode", from: "0644", to: "0640" });
    expect(JSON.stringify(drift.get(4)!.changes)).not.toContain("s3cr3t");
    const healed = await apply(resources, drift);
    expect([...healed.values()].filter((o) => o.status === "changed")).toHaveLength(4);
    expect(changedFields(await observe(resources))).toEqual({});
  }, 120_000);

  it("a content change is planned as a unified diff", async () => {
    const file = resources[3]!;
    const edited = { ...file, content: HOSTILE.replace("$HOME", "$USER") } as HostResource;
    const [change] = (await observe([edited])).get(0)!.changes;
    expect(change!.diff).toContain('-it\'s "quoted" $HOME');
    expect(change!.diff).toContain('+it\'s "quoted" $USER');
  }, 60_000);

  it("a failing step stops the host: the rest is skipped", async () => {
    const resources2: HostResource[] = [
      { ...common, module: "directory", path: "/srv/before", state: "present" },
      { ...common, module: "sysctl", key: "net.ipv4.ip_forward", value: "0", persist: false },
      { ...common, module: "directory", path: "/srv/after", state: "present" },
    ];
    const outcomes = await apply(resources2, await observe(resources2));
    expect(outcomes.get(0)).toEqual({ status: "changed" });
    expect(outcomes.get(1)?.status).toBe("failed");
    expect(outcomes.get(1)?.error).toMatch(/sysctl -w net.ipv4.ip_forward=0 exited \d+: .*/);
    expect(outcomes.get(2)).toEqual({ status: "skipped" });
    await sh("test -d /srv/before && test ! -e /srv/after");
  }, 60_000);

  it("removal undoes what was made; what cannot be undone has no removal", async () => {
    const removals = resources
      .map((resource) => moduleFor(resource).removal(resource))
      .filter((resource) => resource !== undefined)
      // Files before their directory, the user before its group.
      .reverse();
    expect(removals.map((r) => r.module)).toEqual([
      "package",
      "package",
      "lineinfile",
      "lineinfile",
      "symlink",
      "file",
      "file",
      "directory",
      "user",
      "group",
    ]);
    await sh("rm -f /srv/app/seed /srv/app/reloaded");
    const outcomes = await apply(removals, await observe(removals));
    for (const [key, outcome] of outcomes) {
      expect(outcome, removals[key]!.module).toEqual({ status: "changed" });
    }
    expect(changedFields(await observe(removals))).toEqual({});
    expect(
      await sh(
        "ls -A /srv; getent passwd deploy || echo no user; command -v hello tree || echo no packages",
      ),
    ).toBe("before\nno user\nno packages\n");
    expect(
      await sh(
        "cat /etc/sysctl.d/99-baton.conf; grep -c '^PermitRootLogin' /etc/ssh/sshd_config || true",
      ),
    ).toBe("0\n");
  }, 120_000);

  it("observes 100 resources in one round trip, and applies them in another", async () => {
    const timings: { first: number; again: number }[] = [];
    for (let run = 0; run < 3; run++) {
      const root = `/srv/bench${run}`;
      const many: HostResource[] = [];
      for (let i = 0; i < 50; i++) {
        many.push({
          ...common,
          module: "directory",
          path: `${root}/d${i}`,
          mode: "0755",
          state: "present",
        });
      }
      for (let i = 0; i < 50; i++) {
        many.push({
          ...common,
          module: "file",
          path: `${root}/d${i}/small.conf`,
          content: `setting = ${i}\n`,
          mode: "0644",
          secret: false,
          state: "present",
        });
      }
      let started = performance.now();
      const before = transport.roundTrips;
      const outcomes = await apply(many, await observe(many));
      const first = performance.now() - started;
      expect(transport.roundTrips - before).toBe(2);
      expect([...outcomes.values()].every((o) => o.status === "changed")).toBe(true);
      started = performance.now();
      const again = await apply(many, await observe(many));
      timings.push({ first, again: performance.now() - started });
      expect([...again.values()].every((o) => o.status === "unchanged")).toBe(true);
    }
    const summary = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return `min ${sorted[0]!.toFixed(0)} / median ${sorted[1]!.toFixed(0)} / max ${sorted[2]!.toFixed(0)} ms`;
    };
    console.log(
      `100 resources (50 directories + 50 files) on one host: first run ${summary(timings.map((t) => t.first))}; no-change run ${summary(timings.map((t) => t.again))}`,
    );
  }, 120_000);
});
