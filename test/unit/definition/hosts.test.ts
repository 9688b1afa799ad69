import { mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDefinition, SpecError } from "../../../src/definition/index.js";

function yaml(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}

function refused(text: string, file = "baton.yaml"): SpecError {
  try {
    parseDefinition(text, file);
  } catch (error) {
    if (error instanceof SpecError) return error;
    throw error;
  }
  throw new Error("expected the definition to be refused");
}

const INVENTORY = [
  "hosts:",
  "  web1: { address: 127.0.0.1, port: 2201, groups: [web], env: prod, vars: { port: 8080 } }",
  "  web2: { address: 127.0.0.1, port: 2202, user: deploy, become: true, groups: [web, edge], jump: web1 }",
  "  here: { connection: local }",
];

describe("the host part of a definition", () => {
  it("gives each host its resources: all, then its groups, then its own, roles expanded", () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-hosts-"));
    writeFileSync(join(dir, "app.conf.tmpl"), "listen {{ port }}\n");
    const d = parseDefinition(
      yaml(
        ...INVENTORY,
        "ssh: { identityFile: ~/.ssh/id_ed25519, parallel: 4, connectTimeout: 5s }",
        "configure:",
        "  all:",
        '    - file: { path: /etc/motd, content: "managed by baton\\n", mode: 0644 }',
        "  web:",
        "    - package: { name: nginx }",
        "    - role: { name: app, vars: { port: 9090 } }",
        "    - command: { name: reload nginx, run: [systemctl, reload, nginx], handler: true }",
        "  web2:",
        "    - sysctl: { key: net.ipv4.ip_forward, value: 1 }",
        "    - command: { run: 'echo hi > /tmp/hi', creates: /tmp/hi }",
        "roles:",
        "  app:",
        "    vars: { port: 80, name: shop }",
        "    resources:",
        "      - directory: { path: /srv/app, mode: '755' }",
        "      - file: { path: /srv/app/app.conf, template: app.conf.tmpl, notify: [reload nginx] }",
      ),
      join(dir, "baton.yaml"),
    );
    const { hosts, ssh, resources } = d.hosts;
    expect(hosts.web1).toMatchObject({
      connection: "ssh",
      address: "127.0.0.1",
      port: 2201,
      user: "root",
      become: false,
      env: "prod",
    });
    expect(hosts.web2).toMatchObject({
      user: "deploy",
      become: true,
      jump: "web1",
      groups: ["web", "edge"],
    });
    expect(hosts.here).toMatchObject({ connection: "local" });
    expect(ssh).toMatchObject({
      identityFile: join(homedir(), ".ssh/id_ed25519"),
      knownHosts: join(homedir(), ".ssh/known_hosts"),
      parallel: 4,
      connectTimeoutMs: 5000,
      commandTimeoutMs: 600_000,
    });
    const web2 = resources.web2 ?? [];
    expect(web2.map((r) => r.resource.module)).toEqual([
      "file",
      "package",
      "directory",
      "file",
      "command",
      "sysctl",
      "command",
    ]);
    expect(web2[0]?.resource).toMatchObject({
      path: "/etc/motd",
      mode: "0644",
      state: "present",
      secret: false,
    });
    expect(web2[2]?.resource).toMatchObject({ path: "/srv/app", mode: "0755" });
    // A role's vars: the host's, then the role's, then the use's.
    expect(web2[3]).toMatchObject({
      resource: {
        path: "/srv/app/app.conf",
        content: "listen {{ port }}\n",
        notify: ["reload nginx"],
      },
      vars: { port: "9090", name: "shop" },
      origin: "roles.app.resources[1] (role of configure.web[1])",
    });
    expect(web2[5]?.resource).toMatchObject({
      key: "net.ipv4.ip_forward",
      value: "1",
      persist: true,
    });
    expect(web2[6]?.resource).toMatchObject({
      argv: ["sh", "-c", "echo hi > /tmp/hi"],
      creates: "/tmp/hi",
      handler: false,
    });
    expect(resources.here).toHaveLength(1);
  });

  it("reports every mistake at its line, with what was expected and how to fix it", () => {
    const e = refused(
      yaml(
        ...INVENTORY,
        "  lost: { port: 22, jump: bastoin }",
        "configure:",
        "  webb:",
        "    - package: { name: nginx }",
        "  web:",
        "    - package: { name: nginx }",
        "      file: { path: /etc/x, content: x }",
        "    - {}",
        "    - role: ap",
        "    - directory: { path: /srv, mode: 644x }",
        "    - file: { path: /etc/y, content: y, notify: [relaod] }",
        "    - file: { path: /etc/z, template: missing.tmpl }",
        "    - file: { path: /etc/w }",
        "    - command: { name: reload, run: [true], handler: true }",
        "  web1:",
        "    - package: { name: nginx }",
        "roles:",
        "  app: { resources: [] }",
      ),
    );
    const found = e.diagnostics.map((d) => `${d.line}:${d.code} ${d.message}`);
    expect(found).toEqual([
      "5:spec.missing_field hosts.lost has no `address`: Baton cannot reach it over SSH",
      "5:spec.unknown_host hosts.lost.jump names bastoin, which is not a host of `hosts:`",
      "7:spec.unknown_target configure.webb names no host and no group: hosts are web1, web2, here and lost, groups web and edge",
      "10:spec.invalid_resource configure.web[0] names package and file: one resource is one module",
      "12:spec.invalid_resource configure.web[1] names no module",
      "13:spec.unknown_role configure.web[2].role names the role ap, which `roles:` does not define",
      '14:spec.invalid_value configure.web[3].directory.mode must be an octal mode such as "0644", found the string "644x"',
      "15:spec.unknown_handler configure.web[4].file.notify[0] names relaod, and no command with `handler: true` has that name",
      "16:spec.template_missing the template missing.tmpl of configure.web[5].file does not exist",
      "17:spec.missing_field configure.web[6].file says neither what the file holds (`content`) nor where its template is (`template`)",
      "20:spec.duplicate_resource configure.web1[0].package is the same package as configure.web[0].package on host web1",
    ]);
    const hints = e.diagnostics.map((d) => d.hint);
    expect(hints[1]).toBe("add the jump host to `hosts:`");
    expect(hints[2]).toBe("did you mean `web`?");
    expect(hints[5]).toBe("did you mean `app`?");
    expect(hints[7]).toBe("did you mean `reload`?");
  });

  it("checks that every template variable has a value on every host the file lands on", () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-hosts-"));
    writeFileSync(join(dir, "site.conf"), "listen {{ port }};\nserver_name {{ domain }};\n");
    const e = refused(
      yaml(
        ...INVENTORY,
        "configure:",
        "  all:",
        '    - file: { path: /etc/motd, content: "{{ greeting }} on {{ facts.os.prettyName }}\\n", vars: { greeting: hi } }',
        '    - file: { path: /etc/issue, content: "{{ port }}\\n" }',
        "  web:",
        "    - role: { name: site, vars: { domain: example.org } }",
        "  here:",
        "    - role: site",
        "roles:",
        "  site:",
        "    vars: { port: 80 }",
        "    resources:",
        "      - file: { path: /etc/site.conf, template: site.conf }",
      ),
      join(dir, "baton.yaml"),
    );
    expect(e.diagnostics.map((d) => `${d.line}:${d.code} ${d.message}`)).toEqual([
      // web1 has `port` in its vars; web2 and here do not. Reported once, for the first host.
      "8:spec.template_variable {{ port }} in configure.all[1].file.content has no value on host web2: its variables there are none",
      // The role's use on `here` gives no `domain`.
      "17:spec.template_variable {{ domain }} in roles.site.resources[0].file.template (site.conf) has no value on host here: its variables there are port",
    ]);
    expect(e.diagnostics[0]?.hint).toMatch(/set `port` in the host's `vars`/);
  });
});
