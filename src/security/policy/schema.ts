/**
 * The shape of `environments.<env>.policy`: the rules an environment holds its apps and hosts
 * to. Each rule is off unless written, so a policy says only what it enforces.
 */
import { z } from "zod";
import { documented, wholeNumber } from "../../definition/schema-fields.js";

const flag = (description: string) =>
  documented(z.boolean(), description, { expected: "true or false", example: true }).optional();

const containers = documented(
  z.strictObject({
    nonRoot: flag("Container replicas may not run as root (`user: 0`, `0:0` or `root`)."),
    readOnlyRootfs: flag(
      "Container replicas keep a read-only root filesystem (no `writableRootfs: true`).",
    ),
    noPrivilegedMounts: flag(
      "No container mounts the Docker socket, a host system folder or a path outside the " +
        "project, not even with `allowPrivileged: true`.",
    ),
    allowedCapabilities: documented(
      z.array(z.string().regex(/^[A-Z_]+$/)),
      "The only Linux capabilities an app may add back (`[]`: none).",
      { expected: "a list of capability names such as NET_BIND_SERVICE", example: [] },
    ).optional(),
    requireResources: flag("Every container app sets `resources.memory` and `resources.cpus`."),
    allowedRegistries: documented(
      z.array(z.string().min(1)),
      "Images come only from these registries (`host[:port][/path]`; `docker.io` for " +
        "images named without one).",
      {
        expected: "a list of registries such as registry.example.com",
        example: ["registry.example.com"],
      },
    ).optional(),
    pinnedImages: flag(
      "Images are named by digest (`name@sha256:…`) or built by Baton (its releases are digests).",
    ),
  }),
  "Rules for apps that run as containers (runtime docker or swarm).",
  { expected: "a mapping of container rules", example: { nonRoot: true } },
);

const hosts = documented(
  z.strictObject({
    sysctl: documented(
      z.record(
        z.string().regex(/^[a-z0-9_.-]+$/),
        documented(z.union([z.string(), z.number()]), "The value the kernel must report.", {
          expected: "a value such as 0",
          example: 0,
        }),
      ),
      "Kernel settings every host of the environment must have, as `sysctl KEY` reports them.",
      { expected: "a mapping of sysctl keys to values", example: { "net.ipv4.ip_forward": 0 } },
    ).optional(),
    packagesAbsent: documented(
      z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]*$/)),
      "Packages no host of the environment may have installed.",
      { expected: "a list of package names such as telnetd", example: ["telnetd"] },
    ).optional(),
    sshd: documented(
      z.record(
        z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/),
        documented(z.union([z.string(), z.number()]), "The value `sshd -T` must report.", {
          expected: "a value such as no",
          example: "no",
        }),
      ),
      "sshd settings every host must have in effect (as `sshd -T` prints them; names and " +
        "values compared without case).",
      { expected: "a mapping of sshd keywords to values", example: { PermitRootLogin: "no" } },
    ).optional(),
  }),
  "Rules for the environment's hosts: checked on the hosts themselves by `baton drift`.",
  {
    expected: "a mapping with `sysctl`, `packagesAbsent`, `sshd`",
    example: { packagesAbsent: ["telnetd"] },
  },
);

const apps = documented(
  z.strictObject({
    requireReadiness: flag("Every app declares `health.readiness`."),
    minReplicas: wholeNumber("Every app runs at least this many replicas.", 1, 2).optional(),
  }),
  "Rules for every app, whatever its runtime.",
  {
    expected: "a mapping with `requireReadiness` and/or `minReplicas`",
    example: { minReplicas: 2 },
  },
);

const processes = documented(
  z.strictObject({
    nonRoot: flag("Process apps name a `user:` that is not root."),
  }),
  "Rules for apps that run as processes.",
  { expected: "a mapping with `nonRoot`", example: { nonRoot: true } },
);

export const policySchema = documented(
  z.strictObject({
    containers: containers.optional(),
    hosts: hosts.optional(),
    apps: apps.optional(),
    processes: processes.optional(),
  }),
  "The security rules of this environment: `validate`, `plan` and `apply` refuse a " +
    "definition that breaks one (nothing is applied), `drift` reports hosts that do.",
  {
    expected: "a mapping with `containers`, `hosts`, `apps` and/or `processes`",
    example: { containers: { nonRoot: true }, apps: { minReplicas: 2 } },
  },
);

export type PolicyInput = z.output<typeof policySchema>;
export type HostPolicyInput = NonNullable<PolicyInput["hosts"]>;
