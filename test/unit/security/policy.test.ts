import { describe, expect, it } from "vitest";
import {
  type DefinitionFiles,
  diskFiles,
  type ParseOptions,
  parseDefinition,
  SpecError,
} from "../../../src/definition/index.js";
import { parseObserved } from "../../../src/security/policy/host-observe.js";
import { hostViolations } from "../../../src/security/policy/hosts.js";

function yaml(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}

/** Each problem as `line:col code message`, or [] when the definition is accepted. */
function problems(text: string, options: ParseOptions = {}): string[] {
  try {
    parseDefinition(text, "baton.yaml", options);
    return [];
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    return error.diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`);
  }
}

function diagnostics(text: string, options: ParseOptions = {}) {
  try {
    parseDefinition(text, "baton.yaml", options);
  } catch (error) {
    if (error instanceof SpecError) return error.diagnostics;
    throw error;
  }
  throw new Error("expected the definition to be refused");
}

describe("privileged settings without allowPrivileged", () => {
  const app = (...fields: string[]) =>
    yaml("apps:", "  api:", "    image: shop/api:1", "    runtime: docker", ...fields);

  it("refuses the docker socket, host system folders, / and paths out of the project at their line", () => {
    const found = diagnostics(
      app(
        "    volumes:",
        "      - /var/run/docker.sock:/var/run/docker.sock",
        "      - /run/docker.sock:/sock",
        "      - /:/host:ro",
        "      - /etc:/etc",
        "      - /var:/v",
        "      - ../../shared:/shared",
        "      - ./data/../../x:/x",
      ),
    );
    expect(found.map((d) => `${d.line}:${d.col} ${d.code}`)).toEqual([
      "6:9 spec.privileged",
      "7:9 spec.privileged",
      "8:9 spec.privileged",
      "9:9 spec.privileged",
      "10:9 spec.privileged",
      "11:9 spec.privileged",
      "12:9 spec.privileged",
    ]);
    expect(found[0]?.message).toBe(
      "apps.api.volumes[0] /var/run/docker.sock is the Docker socket, which gives root on the host",
    );
    expect(found[5]?.message).toMatch(
      /apps\.api\.volumes\[5\] \.\.\/\.\.\/shared leaves the project folder/,
    );
    expect(found[0]?.hint).toBe(
      "if apps.api must have it, add `allowPrivileged: true` to it; otherwise remove the setting",
    );
    expect(found[0]?.found).toBe("/var/run/docker.sock:/var/run/docker.sock");
  });

  it("refuses a home folder or SSH keys, not a project deep inside a home", () => {
    for (const source of ["/home", "/home/alice", "/home/alice/work/.ssh", "/root/app"]) {
      expect(problems(app(`    volumes: ["${source}:/x"]`)), source).toHaveLength(1);
    }
    expect(problems(app('    volumes: ["/home/runner/work/shop/fixtures:/app:ro"]'))).toEqual([]);
  });

  it("refuses root and SYS_ADMIN-like capabilities, in either spelling", () => {
    expect(
      problems(
        app('    user: "0:0"', "    capabilities: [NET_BIND_SERVICE, CAP_SYS_ADMIN, SYS_PTRACE]"),
      ),
    ).toEqual([
      "5:11 spec.privileged apps.api.user is 0:0: replicas would run as root",
      "6:38 spec.privileged apps.api.capabilities[1] CAP_SYS_ADMIN lifts the container's isolation from the host",
      "6:53 spec.privileged apps.api.capabilities[2] SYS_PTRACE lifts the container's isolation from the host",
    ]);
    expect(problems(app("    user: root"))).toHaveLength(1);
    expect(problems(app("    user: 0"))).toHaveLength(1);
  });

  it("accepts them with allowPrivileged: true, and harmless mounts without it", () => {
    expect(
      problems(
        app(
          "    allowPrivileged: true",
          '    user: "0:0"',
          "    capabilities: [SYS_ADMIN]",
          "    volumes: [/var/run/docker.sock:/var/run/docker.sock]",
        ),
      ),
    ).toEqual([]);
    expect(
      problems(
        app(
          '    user: "1000:1000"',
          "    capabilities: [NET_BIND_SERVICE]",
          "    volumes: [data:/data, ./conf:/etc/app:ro, /srv/data:/srv]",
        ),
      ),
    ).toEqual([]);
  });

  it("is decided per environment: an override may allow it in one", () => {
    const text = yaml(
      "apps:",
      "  agent:",
      "    image: shop/agent:1",
      "    volumes: [/var/run/docker.sock:/var/run/docker.sock]",
      "environments:",
      "  dev: { runtime: docker }",
      "  ops:",
      "    runtime: docker",
      "    overrides: { apps: { agent: { allowPrivileged: true } } }",
    );
    expect(problems(text)).toEqual([
      "4:15 spec.privileged apps.agent.volumes[0] /var/run/docker.sock is the Docker socket, which gives root on the host (in environment dev)",
    ]);
  });
});

const SHOP = yaml(
  "apps:",
  "  api:",
  "    image: shop/api:1.2",
  '    user: "0:0"',
  "    allowPrivileged: true",
  "  worker:",
  "    runtime: process",
  '    command: ["node", "worker.js"]',
  "environments:",
  "  dev: { runtime: docker }",
  "  prod:",
  "    runtime: docker",
  "    policy:",
  "      containers:",
  "        nonRoot: true",
  "      processes: { nonRoot: true }",
);

describe("an environment's policy", () => {
  it("refuses a violation at the offending line, naming the rule and where it is written", () => {
    const [first, second] = diagnostics(SHOP, { environment: "prod" });
    expect(first).toMatchObject({
      code: "spec.policy_violation",
      message: "apps.api.user is 0:0, prod's policy requires nonRoot (policy at baton.yaml:15:9)",
      line: 4,
      col: 11,
      path: "apps.api.user",
      expected: "a user that is not root, such as 1000:1000",
      found: "0:0",
    });
    expect(first?.hint).toMatch(/unprivileged user/);
    expect(second).toMatchObject({
      message:
        "apps.worker names no user, so its replicas run as the controller's user, prod's policy requires nonRoot (policy at baton.yaml:16:20)",
      line: 6,
    });
  });

  it("does not hold another environment to it: the same definition passes in dev", () => {
    expect(problems(SHOP, { environment: "dev" })).toEqual([]);
    expect(problems(SHOP)).toEqual([]);
    // validate without --env holds every environment to its own policy.
    expect(problems(SHOP, { policies: "all" })).toHaveLength(2);
  });

  it("reads a process app's user on the built model: a named user passes, root does not", () => {
    const withUser = (user: string) =>
      SHOP.replace(
        '    command: ["node", "worker.js"]',
        `    command: ["node", "worker.js"]\n    user: ${user}`,
      ).replace('    user: "0:0"\n', "");
    expect(problems(withUser("app"), { environment: "prod" })).toEqual([]);
    expect(problems(withUser('"1000:1000"'), { environment: "prod" })).toEqual([]);
    expect(problems(withUser("root\n    allowPrivileged: true"), { environment: "prod" })).toEqual([
      expect.stringMatching(
        /^8:11 spec.policy_violation apps\.worker\.user is root, prod's policy requires nonRoot/,
      ),
    ]);
  });

  it("points at an override when the offending value comes from the environment", () => {
    const text = yaml(
      "apps:",
      "  api: { image: shop/api:1, replicas: 2 }",
      "environments:",
      "  dev: { runtime: docker }",
      "  prod:",
      "    runtime: docker",
      "    overrides: { apps: { api: { replicas: 1 } } }",
      "    policy: { apps: { minReplicas: 2 } }",
    );
    expect(problems(text, { environment: "prod" })).toEqual([
      "7:43 spec.policy_violation apps.api.replicas is 1, prod's policy requires minReplicas: 2 (policy at baton.yaml:8:23)",
    ]);
    expect(problems(text, { environment: "dev" })).toEqual([]);
  });

  it("checks every container rule", () => {
    const text = yaml(
      "project: shop",
      "registry: 127.0.0.1:5000",
      "apps:",
      "  api:",
      "    image: shop/api:1.2",
      "    writableRootfs: true",
      "    capabilities: [NET_BIND_SERVICE, CHOWN]",
      "    volumes: [/var/run/docker.sock:/var/run/docker.sock, data:/data]",
      "    allowPrivileged: true",
      "    health: { readiness: { http: / } }",
      "  pinned:",
      "    image: registry.example.com/shop/web@sha256:" + "a".repeat(64),
      "    resources: { memory: 64Mi, cpus: 0.5 }",
      "    health: { readiness: { tcp: true } }",
      "  built:",
      "    build: .",
      "    resources: { memory: 64Mi, cpus: 0.5 }",
      "environments:",
      "  prod:",
      "    runtime: docker",
      "    policy:",
      "      containers:",
      "        readOnlyRootfs: true",
      "        noPrivilegedMounts: true",
      "        allowedCapabilities: [NET_BIND_SERVICE]",
      "        requireResources: true",
      "        allowedRegistries: [registry.example.com]",
      "        pinnedImages: true",
      "      apps: { requireReadiness: true }",
    );
    // The Dockerfile of `built` is taken as there: this is about the policy, not the build.
    const files: DefinitionFiles = {
      ...diskFiles,
      kind: (path) => (path.endsWith("/Dockerfile") ? "file" : diskFiles.kind(path)),
      folder: () => ({ digest: "0".repeat(64) }),
    };
    expect(problems(text, { environment: "prod", files })).toEqual([
      "4:3 spec.policy_violation apps.api sets no resources.memory and resources.cpus, prod's policy requires requireResources (policy at baton.yaml:26:9)",
      "5:12 spec.policy_violation apps.api runs shop/api:1.2, prod's policy requires allowedRegistries (registry.example.com) (policy at baton.yaml:27:9)",
      "5:12 spec.policy_violation apps.api.image shop/api:1.2 is not pinned, prod's policy requires pinnedImages (policy at baton.yaml:28:9)",
      "6:21 spec.policy_violation apps.api.writableRootfs is true, prod's policy requires readOnlyRootfs (policy at baton.yaml:23:9)",
      "7:38 spec.policy_violation apps.api.capabilities[1] adds CHOWN, prod's policy requires allowedCapabilities (NET_BIND_SERVICE) (policy at baton.yaml:25:9)",
      "8:15 spec.policy_violation apps.api.volumes[0] /var/run/docker.sock is the Docker socket, which gives root on the host, prod's policy requires noPrivilegedMounts (policy at baton.yaml:24:9)",
      "15:3 spec.policy_violation apps.built has no health.readiness, prod's policy requires requireReadiness (policy at baton.yaml:29:15)",
      "16:12 spec.policy_violation apps.built runs 127.0.0.1:5000/shop/built, prod's policy requires allowedRegistries (registry.example.com) (policy at baton.yaml:27:9)",
    ]);
  });
});

describe("the hosts rules against what a host reports", () => {
  const text = yaml(
    "hosts:",
    "  web1: { address: 127.0.0.1, env: prod }",
    "environments:",
    "  prod:",
    "    policy:",
    "      hosts:",
    "        sysctl: { net.ipv4.ip_forward: 0, net.ipv4.tcp_rmem: 4096 131072 6291456 }",
    "        packagesAbsent: [telnetd, rsh-server]",
    '        sshd: { PermitRootLogin: "no", X11Forwarding: "no" }',
  );

  it("are in the built model, with where each is written", () => {
    const policy = parseDefinition(text, "baton.yaml", { environment: "prod" }).hosts.environments
      .prod?.policy;
    expect(policy).toEqual({
      sysctl: { "net.ipv4.ip_forward": "0", "net.ipv4.tcp_rmem": "4096 131072 6291456" },
      packagesAbsent: ["telnetd", "rsh-server"],
      sshd: { PermitRootLogin: "no", X11Forwarding: "no" },
      at: {
        "sysctl.net.ipv4.ip_forward": "baton.yaml:7:19",
        "sysctl.net.ipv4.tcp_rmem": "baton.yaml:7:43",
        packagesAbsent: "baton.yaml:8:9",
        "sshd.PermitRootLogin": "baton.yaml:9:17",
        "sshd.X11Forwarding": "baton.yaml:9:40",
      },
    });
  });

  it("report each rule a host breaks, and nothing for one that keeps them", () => {
    const policy = parseDefinition(text, "baton.yaml", { environment: "prod" }).hosts.environments
      .prod?.policy;
    if (policy === undefined) throw new Error("no policy");
    const B = "--b";
    const output = (ipForward: string, dpkg: string, sshd: string) =>
      [
        `${B} sysctl`,
        `net.ipv4.ip_forward ${ipForward}`,
        "net.ipv4.tcp_rmem 4096\t131072\t6291456",
        `${B} dpkg`,
        dpkg,
        `${B} sshd`,
        sshd,
        `${B} end`,
        "",
      ].join("\n");
    const bad = parseObserved(
      output(
        "1",
        "ii \ttelnetd\t0.17-44\nrc \trsh-server\t0.17-22",
        "port 22\npermitrootlogin yes\nx11forwarding no",
      ),
      B,
      true,
    );
    expect(hostViolations(policy, bad, "prod")).toEqual([
      "has sysctl net.ipv4.ip_forward = 1; prod's policy requires sysctl net.ipv4.ip_forward = 0 (policy at baton.yaml:7:19)",
      "has telnetd 0.17-44 installed; prod's policy requires packagesAbsent (telnetd, rsh-server) (policy at baton.yaml:8:9)",
      "has sshd PermitRootLogin yes; prod's policy requires sshd PermitRootLogin no (policy at baton.yaml:9:17)",
    ]);
    const good = parseObserved(
      output("0", "", "port 22\npermitrootlogin no\nx11forwarding no"),
      B,
      true,
    );
    expect(hostViolations(policy, good, "prod")).toEqual([]);
    const noSshd = parseObserved(output("0", "", "sh: 1: sshd: not found\nexit code 127"), B, true);
    expect(hostViolations(policy, noSshd, "prod")[0]).toMatch(
      /^sshd's settings could not be read \(sh: 1: sshd: not found exit code 127\); prod's policy requires sshd PermitRootLogin no/,
    );
  });
});
