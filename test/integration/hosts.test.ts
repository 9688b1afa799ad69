/**
 * Hosts configured over real SSH, through the CLI as a user runs it: Debian 12 containers
 * running sshd on 127.0.0.1 ports (test/helpers/hosts.ts), host keys checked against a
 * known_hosts file, no controller running (`baton apply` configures and exits).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Project } from "../helpers/cli.js";
import { docker } from "../helpers/docker.js";
import { startHosts, type TestHosts } from "../helpers/hosts.js";
import { eventually } from "../helpers/wait.js";

let fleet: TestHosts;
beforeAll(async () => {
  fleet = await startHosts(3);
}, 600_000);
afterAll(async () => {
  await fleet?.stop();
});

interface HostJson {
  host: string;
  ok: boolean;
  error?: { code: string; message: string; hint?: string };
  changed: {
    module: string;
    id: string;
    changes: { field: string; from: string | null; to: string | null; diff?: string }[];
  }[];
  unchanged: { module: string; id: string }[];
  removed: { module: string; id: string }[];
  failed: { module: string; id: string; error?: string }[];
  handlers: string[];
  roundTrips: number;
}

function inventory(extra = ""): string {
  const [a, b, c] = fleet.hosts;
  return `hosts:
  web1: { address: 127.0.0.1, port: ${a?.port}, groups: [web], env: dev }
  web2: { address: 127.0.0.1, port: ${b?.port}, groups: [web], env: prod }
  db1: { address: 127.0.0.1, port: ${c?.port}, user: deploy, become: true, groups: [db], env: prod }
ssh: { identityFile: ${fleet.identityFile}, knownHosts: ${fleet.knownHosts}, parallel: 3 }
${extra}`;
}

const ROLES = `roles:
  greeter:
    vars: { greeting: hello, place: nowhere }
    resources:
      - file: { path: /etc/baton-greeting, content: "{{ greeting }} from {{ place }}\\n" }
`;

const CONFIGURE = `configure:
  all:
    - directory: { path: /srv/app, mode: "0755" }
    - file: { path: /etc/motd, content: "managed by baton on {{ facts.os.prettyName }}\\n", mode: "0644" }
    - lineinfile: { path: /etc/baton.conf, line: "level=info", regexp: "^level=" }
    - user: { name: app, shell: /bin/sh, system: true }
    - role: { name: greeter, vars: { place: baton } }
    - file: { path: /etc/baton-token, content: "s3cr3t-token-value\\n", mode: "0600", secret: true }
  web:
    - file: { path: /srv/app/app.conf, content: "port={{ port }}\\n", vars: { port: 8080 }, mode: "0640", owner: app, notify: [reload app] }
    - command: { name: reload app, run: "date +%s%N >> /srv/app/reloads", handler: true }
    - command: { run: [touch, /srv/app/installed], creates: /srv/app/installed }
  db:
    - group: { name: dba }
    - symlink: { path: /srv/app/current, target: /srv/app }
${ROLES}`;

function hostsJson(stdout: string): Map<string, HostJson> {
  const parsed = JSON.parse(stdout) as { hosts: HostJson[] };
  return new Map(parsed.hosts.map((h) => [h.host, h]));
}

async function onHost(index: number, ...argv: string[]): Promise<string> {
  return docker(["exec", fleet.hosts[index]?.container ?? "", ...argv]);
}

describe("hosts over SSH", () => {
  it("apply configures them in two round trips, the second apply changes nothing, drift is found and healed", async () => {
    const p = new Project(inventory(CONFIGURE));
    try {
      const plan = await p.ok("plan");
      expect(plan.stdout).toMatch(/web1: \d+ to change/);
      // A secret's content is masked in the plan; other files show their diff.
      expect(plan.stdout).toMatch(/file \/etc\/baton-token[\s\S]*\(secret, changed\)/);
      expect(plan.stdout).toMatch(/\+hello from baton/);
      expect(plan.stdout).not.toContain("s3cr3t");
      // `apply --check` is the plan. Neither changes anything.
      const check = await p.ok("apply", "--check");
      expect(check.stdout).toContain("~ web1 directory /srv/app  (configure.all[0]) would change");
      await expect(onHost(0, "test", "-e", "/srv/app")).rejects.toThrow();

      const first = hostsJson((await p.ok("apply", "--json")).stdout);
      for (const name of ["web1", "web2", "db1"]) {
        const h = first.get(name);
        expect(h?.ok, JSON.stringify(h?.failed)).toBe(true);
        expect(h?.failed).toEqual([]);
      }
      const web1 = first.get("web1");
      expect(web1?.changed.map((r) => `${r.module} ${r.id}`)).toEqual([
        "directory /srv/app",
        "file /etc/motd",
        "lineinfile /etc/baton.conf ^level=",
        "user app",
        "file /etc/baton-greeting",
        "file /etc/baton-token",
        "file /srv/app/app.conf",
        "command touch /srv/app/installed",
      ]);
      expect(web1?.handlers).toEqual(["reload app"]);
      // Facts for the template, observe, apply, handlers: each one round trip.
      expect(web1?.roundTrips).toBeLessThanOrEqual(4);
      expect(await onHost(0, "cat", "/etc/motd")).toMatch(
        /^managed by baton on Debian GNU\/Linux 12/,
      );
      expect(await onHost(0, "stat", "-c", "%a %U", "/srv/app/app.conf")).toBe("640 app\n");
      expect(await onHost(0, "wc", "-l", "/srv/app/reloads")).toMatch(/^1 /);
      expect(await onHost(2, "readlink", "/srv/app/current")).toBe("/srv/app\n");
      expect(await onHost(2, "getent", "group", "dba")).toMatch(/^dba:/);
      expect(await onHost(1, "cat", "/etc/baton-greeting")).toBe("hello from baton\n");
      expect(await onHost(1, "stat", "-c", "%a", "/etc/baton-token")).toBe("600\n");
      expect(await onHost(1, "cat", "/etc/baton-token")).toBe("s3cr3t-token-value\n");
      // Nor is it written to the state or its events.
      for (const file of readdirSync(join(p.dir, ".baton"))) {
        const path = join(p.dir, ".baton", file);
        if (statSync(path).isFile()) expect(readFileSync(path, "latin1")).not.toContain("s3cr3t");
      }

      // Idempotent: nothing changes, no handler runs, one round trip to observe (+ facts).
      const second = hostsJson((await p.ok("apply", "--json")).stdout);
      for (const h of second.values()) {
        expect(h.changed).toEqual([]);
        expect(h.handlers).toEqual([]);
      }
      expect(await onHost(0, "wc", "-l", "/srv/app/reloads")).toMatch(/^1 /);

      // Drift: a manual change is found per field, exit 2, and healed by apply.
      await onHost(0, "chmod", "600", "/srv/app/app.conf");
      await onHost(0, "sh", "-c", "echo 'port=9999' > /srv/app/app.conf");
      const drift = await p.run("drift");
      expect(drift.code).toBe(2);
      expect(drift.stdout).toContain("~ web1 file /srv/app/app.conf  (configure.web[0]) drifted");
      expect(drift.stdout).toMatch(/^web1: 1 drifted, \d+ as defined/m);
      expect(drift.stdout).toMatch(/mode: 0600 → 0640/);
      expect(drift.stdout).toMatch(/-port=9999/);
      expect(drift.stdout).toMatch(/\+port=8080/);
      await p.ok("apply");
      expect((await p.run("drift")).code).toBe(0);
      expect(await onHost(0, "cat", "/srv/app/app.conf")).toBe("port=8080\n");
      // The config changed: its handler ran again.
      expect(await onHost(0, "wc", "-l", "/srv/app/reloads")).toMatch(/^2 /);

      // What the definition no longer declares is removed; `keep: true` leaves it.
      p.write(
        "baton.yaml",
        inventory(
          CONFIGURE.replace(
            "    - user: { name: app, shell: /bin/sh, system: true }\n",
            "    - user: { name: app, shell: /bin/sh, system: true, keep: true }\n",
          )
            .replace("    - group: { name: dba }\n", "")
            .replace(
              '    - lineinfile: { path: /etc/baton.conf, line: "level=info", regexp: "^level=" }\n',
              "",
            ),
        ),
      );
      // keep: true is recorded on the next apply; then the user can leave the definition.
      await p.ok("apply");
      p.write(
        "baton.yaml",
        inventory(
          CONFIGURE.replace("    - user: { name: app, shell: /bin/sh, system: true }\n", "")
            .replace("    - group: { name: dba }\n", "")
            .replace(
              '    - lineinfile: { path: /etc/baton.conf, line: "level=info", regexp: "^level=" }\n',
              "",
            )
            .replace(", owner: app", ""),
        ),
      );
      const removal = hostsJson((await p.ok("apply", "--json")).stdout);
      expect(removal.get("web1")?.removed).toEqual([]);
      await expect(onHost(2, "getent", "group", "dba")).rejects.toThrow();
      expect(await onHost(0, "getent", "passwd", "app")).toMatch(/^app:/);
    } finally {
      await p.cleanup();
    }
  }, 600_000);

  it("a host that cannot be reached fails alone; an unknown host key is an error with its fingerprint", async () => {
    const p = new Project(
      `${inventory(CONFIGURE)}`.replace(
        "ssh:",
        "  gone: { address: 127.0.0.1, port: 1, groups: [web] }\n  stranger: { address: 127.0.0.1, port: PORT }\nssh:".replace(
          "PORT",
          String(fleet.hosts[0]?.port),
        ),
      ),
    );
    // `stranger` is web1 under another name: its key is recorded for [127.0.0.1]:port, so it
    // is found — use an empty known_hosts for the unknown-key case instead.
    try {
      const out = await p.run("apply", "--json");
      expect(out.code).toBe(1);
      const hosts = hostsJson(out.stdout);
      expect(hosts.get("gone")).toMatchObject({ ok: false, error: { code: "ssh.unreachable" } });
      expect(hosts.get("web1")?.ok).toBe(true);
      expect(hosts.get("db1")?.ok).toBe(true);

      p.write("empty_known_hosts", "");
      p.write(
        "baton.yaml",
        inventory(CONFIGURE).replace(fleet.knownHosts, `${p.dir}/empty_known_hosts`),
      );
      const unknown = await p.run("apply", "--json");
      expect(unknown.code).toBe(1);
      const web1 = hostsJson(unknown.stdout).get("web1");
      expect(web1?.error?.code).toBe("ssh.unknown_host_key");
      expect(web1?.error?.message).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
      expect(web1?.error?.hint).toMatch(/ssh-keyscan/);
    } finally {
      await p.cleanup();
    }
  }, 300_000);

  it("facts, parity between environments, and requirements that plan and drift check", async () => {
    const p = new Project(
      inventory(`environments:
  dev: {}
  prod:
    require: { os: debian-12, packages: { openssh-server: ">=1:9", nginx: ">=1.22" } }
parity: { allow: ["kernel"] }
`),
    );
    try {
      const facts = JSON.parse((await p.ok("facts", "--json", "--env", "prod")).stdout) as {
        hosts: Record<
          string,
          {
            gatheredAt: string;
            facts: { os: { id: string; version: string }; packages: Record<string, string> };
          }
        >;
      };
      expect(Object.keys(facts.hosts).sort()).toEqual(["db1", "web2"]);
      expect(facts.hosts.web2?.facts.os).toMatchObject({ id: "debian", version: "12" });
      expect(facts.hosts.web2?.facts.packages["openssh-server"]).toMatch(/^1:9\./);

      // Same image everywhere: no difference, until dev loses a package prod has.
      expect((await p.ok("parity", "dev", "prod")).stdout).toMatch(/no difference/);
      await onHost(0, "dpkg", "--purge", "--force-depends", "kmod");
      const parity = await p.run("parity", "dev", "prod", "--json");
      expect(parity.code).toBe(2);
      const rows = (
        JSON.parse(parity.stdout) as { rows: { item: string; left: string[]; right: string[] }[] }
      ).rows;
      expect(rows).toContainEqual({
        item: "package:kmod",
        left: ["(missing)"],
        right: [expect.stringMatching(/^30/)],
      });
      // The kernel differs nowhere here, and is allowed anyway.
      expect(rows.some((r) => r.item === "kernel")).toBe(false);

      // nginx is not installed: prod's hosts fail its requirement in plan and drift.
      const drift = await p.run("drift", "--env", "prod");
      expect(drift.code).toBe(2);
      expect(drift.stdout).toMatch(/has no package nginx; environment prod requires nginx >=1\.22/);
    } finally {
      await p.cleanup();
    }
  }, 300_000);

  it("with a controller, `baton drift` checks through it: its events are live and fire the drift alert", async () => {
    const p = new Project(
      inventory(`configure:
  all:
    - file: { path: /etc/baton-drift-alert.conf, content: "as defined\\n", mode: "0644" }
`),
    );
    let stream: EventStream | undefined;
    try {
      await p.ok("up", "--detach");
      await p.ok("apply");
      await onHost(0, "sh", "-c", "echo changed by hand > /etc/baton-drift-alert.conf");
      const { controller } = await p.status();
      const token = readFileSync(join(p.stateDir, "api-token"), "utf8").trim();
      // From the last event on: once it arrives, the stream is live and every later one comes.
      const { events: before } = (await p.api("/api/v1/events?limit=1000")) as {
        events: { id: number }[];
      };
      const last = before.at(-1)?.id ?? 1;
      stream = openEventStream(controller.api, token, last - 1);
      await eventually(
        "the stream is live",
        () => stream!.events(),
        (es) => es.length > 0,
      );

      const drift = await p.run("drift");
      expect(drift.code, drift.stderr).toBe(2);
      expect(drift.stdout).toContain("~ web1 file /etc/baton-drift-alert.conf");
      const seen = await eventually(
        "the drift and its alert are on the stream",
        () => stream!.events(),
        (es) =>
          es.some((e) => e.type === "host.drift" && e.data.host === "web1") &&
          es.some((e) => e.type === "alert.firing" && e.data.rule === "drift"),
      );
      expect(seen.find((e) => e.type === "host.drift" && e.data.host === "web1")?.message).toBe(
        "web1: file /etc/baton-drift-alert.conf differs from the definition (content)",
      );
      const alerts = (await p.api("/api/v1/alerts")) as {
        active: { rule: string; state: string; labels: Record<string, string> }[];
      };
      expect(alerts.active).toContainEqual(
        expect.objectContaining({
          rule: "drift",
          state: "firing",
          labels: expect.objectContaining({
            host: "web1",
            resource: "file /etc/baton-drift-alert.conf",
          }),
        }),
      );
      // Recorded once, by the controller: the CLI writes nothing of its own.
      const { events } = (await p.api(`/api/v1/events?after=${last}&limit=1000`)) as {
        events: { type: string; data: { host?: string } }[];
      };
      expect(events.filter((e) => e.type === "host.drift" && e.data.host === "web1")).toHaveLength(
        1,
      );

      // A name that is no host is refused as it is with no controller.
      const unknown = await p.run("drift", "web9");
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/^error\[hosts\.unknown_target\] web9: no such host or group/);
    } finally {
      stream?.close();
      await p.cleanup();
    }
  }, 300_000);

  it("a controller checks its environment's hosts on their interval and heals them when told", async () => {
    const p = new Project(
      inventory(`environments:
  dev: {}
  prod: { heal: true, driftInterval: 1s }
configure:
  all:
    - file: { path: /etc/baton-heal.conf, content: "healthy\\n", mode: "0644" }
`),
    );
    try {
      await p.ok("up", "--detach", "--env", "prod");
      const applied = hostsJson((await p.ok("apply", "--json")).stdout);
      expect([...applied.keys()].sort()).toEqual(["db1", "web2"]);
      await onHost(1, "sh", "-c", "echo broken > /etc/baton-heal.conf");
      await eventually(
        "the controller puts the file back",
        () => onHost(1, "cat", "/etc/baton-heal.conf"),
        (text) => text === "healthy\n",
        60_000,
      );
      const events = (await p.api("/api/v1/events?limit=1000")) as {
        events: { type: string; message: string }[];
      };
      expect(
        events.events.some(
          (e) =>
            e.type === "host.healed" &&
            /web2: file \/etc\/baton-heal\.conf drifted \(content\) and was put back/.test(
              e.message,
            ),
        ),
      ).toBe(true);
      // `baton apply` had the controller configure its hosts (one pass at a time per host).
      expect(events.events.filter((e) => e.type === "host.applied").map((e) => e.message)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^web2: \d+ changed/)]),
      );
      // web1 is dev's: this controller leaves it alone.
      await expect(onHost(0, "cat", "/etc/baton-heal.conf")).rejects.toThrow();
    } finally {
      await p.ok("down").catch(() => undefined);
      await p.cleanup();
    }
  }, 300_000);
});

interface StreamedEvent {
  id: number;
  type: string;
  message: string;
  data: Record<string, unknown>;
}

interface EventStream {
  /** The events received so far. */
  events(): StreamedEvent[];
  close(): void;
}

/** `GET /api/v1/events/stream` after an event id, each event's data parsed as it arrives. */
function openEventStream(api: string, token: string, after: number): EventStream {
  const received: StreamedEvent[] = [];
  let failure: Error | undefined;
  const req = request(
    `${api}/api/v1/events/stream?after=${after}`,
    { agent: false, headers: { authorization: `Bearer ${token}` } },
    (res) => {
      let pending = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        pending += chunk;
        for (let end = pending.indexOf("\n\n"); end >= 0; end = pending.indexOf("\n\n")) {
          const data = /^data: (.*)$/m.exec(pending.slice(0, end))?.[1];
          pending = pending.slice(end + 2);
          if (data !== undefined) received.push(JSON.parse(data) as StreamedEvent);
        }
      });
    },
  );
  req.on("error", (error) => {
    failure = error;
  });
  req.end();
  return {
    events: () => {
      if (failure !== undefined) throw failure;
      return [...received];
    },
    close: () => req.destroy(),
  };
}
