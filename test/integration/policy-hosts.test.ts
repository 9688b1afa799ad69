/**
 * The `hosts:` rules of a policy on real Debian hosts over SSH (test/helpers/hosts.ts):
 * `baton drift` reads the kernel's settings, the installed packages and sshd's effective
 * configuration (`sshd -T`) and reports each rule a host breaks, until the host keeps it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Project } from "../helpers/cli.js";
import { docker } from "../helpers/docker.js";
import { startHosts, type TestHosts } from "../helpers/hosts.js";

let fleet: TestHosts;
beforeAll(async () => {
  fleet = await startHosts(1);
}, 600_000);
afterAll(async () => {
  await fleet?.stop();
});

async function onHost(...argv: string[]): Promise<string> {
  return docker(["exec", fleet.hosts[0]?.container ?? "", ...argv]);
}

// `deploy` with sudo: root's own logins are what the sshd rule turns off.
function definition(ipForward: string): string {
  return `hosts:
  web1: { address: 127.0.0.1, port: ${fleet.hosts[0]?.port}, user: deploy, become: true, env: prod }
ssh: { identityFile: ${fleet.identityFile}, knownHosts: ${fleet.knownHosts} }
environments:
  dev: {}
  prod:
    policy:
      hosts:
        sysctl: { net.ipv4.ip_forward: ${ipForward} }
        packagesAbsent: [kmod]
        sshd: { PermitRootLogin: "no" }
`;
}

describe("a policy's host rules", () => {
  it("are reported by drift for each host that breaks them, and no more once it keeps them", async () => {
    // /proc/sys is read-only in a container: the rule is set against what the host has.
    const ipForward = (await onHost("cat", "/proc/sys/net/ipv4/ip_forward")).trim();
    const other = ipForward === "1" ? "0" : "1";
    const p = new Project(definition(other));
    try {
      const drift = await p.run("drift", "--env", "prod");
      expect(drift.code, drift.stderr).toBe(2);
      expect(drift.stdout).toContain(
        `has sysctl net.ipv4.ip_forward = ${ipForward}; prod's policy requires sysctl net.ipv4.ip_forward = ${other} (policy at baton.yaml:9:19)`,
      );
      expect(drift.stdout).toMatch(
        /has kmod \S+ installed; prod's policy requires packagesAbsent \(kmod\) \(policy at baton\.yaml:10:9\)/,
      );
      expect(drift.stdout).toMatch(
        /has sshd PermitRootLogin (prohibit-password|without-password|yes); prod's policy requires sshd PermitRootLogin no \(policy at baton\.yaml:11:17\)/,
      );

      await onHost("dpkg", "--purge", "--force-depends", "kmod");
      await onHost("sh", "-c", "echo 'PermitRootLogin no' > /etc/ssh/sshd_config.d/00-policy.conf");
      p.write("baton.yaml", definition(ipForward));
      const kept = await p.run("drift", "--env", "prod", "--json");
      expect(kept.code, kept.stdout + kept.stderr).toBe(0);
      const hosts = (JSON.parse(kept.stdout) as { hosts: { host: string; unmet: string[] }[] })
        .hosts;
      expect(hosts).toEqual([expect.objectContaining({ host: "web1", unmet: [] })]);
    } finally {
      await p.cleanup();
    }
  }, 300_000);
});
