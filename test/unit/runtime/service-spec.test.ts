import { describe, expect, it } from "vitest";
import { resolveBudget } from "../../../src/apps/rollout-plan.js";
import { type AppSpec, parseDefinition } from "../../../src/definition/index.js";
import {
  buildServiceSpec,
  dockerSecretName,
  type ServiceIdentity,
  type ServiceSpec,
  serviceName,
  specDrift,
} from "../../../src/runtime/swarm/index.js";

function app(extra = "", update = ""): AppSpec {
  const text = `project: shop
apps:
  web:
    runtime: swarm
    image: shop/web:1
    command: ["node", "server.js", "--port", "\${PORT}"]
    volumes: ["data:/data", "/srv/conf:/etc/web:ro"]
    containerPort: 3000
    env: { GREETING: hi }
    replicas: 4
    port: 8080
    stopGrace: 5s
    resources: { memory: 128Mi, cpus: 0.5, pids: 64 }
    capabilities: [NET_BIND_SERVICE]
    health:
      readiness: { exec: ["wget", "-q", "http://127.0.0.1:\${PORT}/healthz"], interval: 2s, timeout: 1s }
${update}${extra}`;
  const definition = parseDefinition(text, "/tmp/baton-unit/baton.yaml");
  const web = definition.apps.web;
  if (web === undefined) throw new Error("no app");
  return web;
}

const identity: ServiceIdentity = {
  project: "shop",
  stateDir: "/srv/shop/.baton",
  revision: "0123456789ab",
  replicas: 4,
  budget: { maxSurge: 1, maxUnavailable: 0 },
};

const SECOND = 1_000_000_000;

describe("an app as a Swarm service spec", () => {
  it("carries Baton's labels on the service and on its tasks' containers", () => {
    const spec = buildServiceSpec(app(), identity);
    expect(spec.Name).toBe("baton-shop-web");
    expect(spec.Labels).toEqual({
      "baton.project": "shop",
      "baton.app": "web",
      "baton.revision": "0123456789ab",
      "baton.state": "/srv/shop/.baton",
    });
    expect(spec.TaskTemplate.ContainerSpec.Labels).toEqual({
      "baton.project": "shop",
      "baton.app": "web",
      "baton.revision": "0123456789ab",
      "baton.service": "baton-shop-web",
    });
  });

  it("runs the command with PORT = containerPort, the task id as replica, and the container settings", () => {
    const c = buildServiceSpec(app(), identity).TaskTemplate.ContainerSpec;
    expect(c.Image).toBe("shop/web:1");
    expect(c.Args).toEqual(["node", "server.js", "--port", "3000"]);
    expect(c.Env).toEqual([
      "BATON_APP=web",
      "BATON_REPLICA={{.Task.ID}}",
      "BATON_REVISION=0123456789ab",
      "GREETING=hi",
      "PORT=3000",
    ]);
    expect(c.User).toBe("65534:65534");
    expect(c.ReadOnly).toBe(true);
    expect(c.CapabilityDrop).toEqual(["ALL"]);
    expect(c.CapabilityAdd).toEqual(["NET_BIND_SERVICE"]);
    expect(c.Mounts).toEqual([
      { Type: "volume", Source: "data", Target: "/data", ReadOnly: false },
      { Type: "bind", Source: "/srv/conf", Target: "/etc/web", ReadOnly: true },
      {
        Type: "tmpfs",
        Target: "/tmp",
        TmpfsOptions: { SizeBytes: 64 * 1024 * 1024, Mode: 0o1777 },
      },
    ]);
    expect(c.StopGracePeriod).toBe(5 * SECOND);
  });

  it("maps readiness to the service's health check, with healthyDeadline as its start period", () => {
    const h = buildServiceSpec(app(), identity).TaskTemplate.ContainerSpec.Healthcheck;
    expect(h).toEqual({
      Test: ["CMD", "wget", "-q", "http://127.0.0.1:3000/healthz"],
      Interval: 2 * SECOND,
      Timeout: 1 * SECOND,
      Retries: 3,
      StartPeriod: 30 * SECOND,
    });
  });

  it("limits resources and lets Swarm restart any task that ends", () => {
    const t = buildServiceSpec(app(), identity).TaskTemplate;
    expect(t.Resources).toEqual({
      Limits: { MemoryBytes: 128 * 1024 * 1024, NanoCPUs: 500_000_000, Pids: 64 },
    });
    expect(t.RestartPolicy).toMatchObject({ Condition: "any", MaxAttempts: 0 });
  });

  it("rolls start-first within maxSurge, rolls back on failure, and monitors for the readiness window", () => {
    const spec = buildServiceSpec(app(), {
      ...identity,
      budget: { maxSurge: 2, maxUnavailable: 0 },
    });
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 4 } });
    expect(spec.UpdateConfig).toEqual({
      Parallelism: 2,
      Delay: 0,
      FailureAction: "rollback",
      Monitor: 4 * SECOND,
      MaxFailureRatio: 0,
      Order: "start-first",
    });
    expect(spec.RollbackConfig).toMatchObject({ FailureAction: "pause", Order: "start-first" });
  });

  it("rolls stop-first, maxUnavailable at a time, when no surge is allowed", () => {
    const spec = buildServiceSpec(app(), {
      ...identity,
      budget: { maxSurge: 0, maxUnavailable: 2 },
    });
    expect(spec.UpdateConfig).toMatchObject({ Parallelism: 2, Order: "stop-first" });
  });

  it("rolls `strategy: recreate` stop-first, every task at once, rolling back the same way", () => {
    const recreate = app("", "    update: { strategy: recreate }\n");
    const spec = buildServiceSpec(recreate, {
      ...identity,
      budget: resolveBudget(recreate.update, 4),
    });
    expect(spec.UpdateConfig).toMatchObject({ Parallelism: 4, Order: "stop-first" });
    expect(spec.RollbackConfig).toMatchObject({ Parallelism: 4, Order: "stop-first" });
  });

  it("publishes the container port in host mode for Baton's proxy, or `port` through the mesh", () => {
    expect(buildServiceSpec(app(), identity).EndpointSpec).toEqual({
      Mode: "vip",
      Ports: [{ Protocol: "tcp", TargetPort: 3000, PublishMode: "host" }],
    });
    expect(buildServiceSpec(app("    publish: mesh\n"), identity).EndpointSpec?.Ports).toEqual([
      { Protocol: "tcp", TargetPort: 3000, PublishedPort: 8080, PublishMode: "ingress" },
    ]);
  });

  it("keeps service names within Swarm's rules", () => {
    expect(serviceName("My Shop!", "web")).toBe("baton-My-Shop-web");
    expect(serviceName("p".repeat(80), "api").length).toBeLessThanOrEqual(63);
    expect(serviceName("p".repeat(80), "api").endsWith("-api")).toBe(true);
  });
});

describe("drift of a live service", () => {
  const desired = buildServiceSpec(app(), identity);
  /** The spec as the engine answers it: defaults filled in, lists in its own order. */
  function asInspected(spec: ServiceSpec): ServiceSpec {
    const copy = structuredClone(spec) as ServiceSpec & {
      TaskTemplate: { ForceUpdate?: number; Runtime?: string };
    };
    copy.TaskTemplate.ForceUpdate = 0;
    copy.TaskTemplate.Runtime = "container";
    Object.assign(copy.TaskTemplate.ContainerSpec, { Isolation: "default" });
    copy.TaskTemplate.ContainerSpec.Env = [
      ...(copy.TaskTemplate.ContainerSpec.Env ?? []),
    ].reverse();
    delete copy.UpdateConfig?.Delay;
    return copy;
  }

  it("finds none in a spec as Baton wrote it", () => {
    expect(specDrift(desired, asInspected(desired))).toEqual([]);
  });

  it("names each field changed by hand", () => {
    const live = asInspected(desired);
    live.Mode = { Replicated: { Replicas: 5 } };
    live.TaskTemplate.ContainerSpec.Env = [
      ...(live.TaskTemplate.ContainerSpec.Env ?? []),
      "DEBUG=1",
    ];
    live.TaskTemplate.ContainerSpec.Image = "shop/web:2";
    expect(specDrift(desired, live)).toEqual(["replicas", "image", "env"]);
  });

  it("sees a new revision in the labels", () => {
    const next = buildServiceSpec(app(), { ...identity, revision: "ba9876543210" });
    expect(specDrift(next, asInspected(desired))).toEqual(
      expect.arrayContaining(["labels", "env", "containerLabels"]),
    );
  });

  it("sees a secret file's new value in the Docker secret its file mounts", () => {
    const file = (digest: string) => ({
      path: "/run/secrets/db",
      mode: 0o400,
      secretId: `id-${digest}`,
      secretName: dockerSecretName("shop", "web", "db-password", digest),
    });
    const before = buildServiceSpec(app('    user: "1000:1001"\n'), {
      ...identity,
      secretFiles: [file("aaaaaaaaaaaa")],
    });
    expect(before.TaskTemplate.ContainerSpec.Secrets).toEqual([
      {
        File: { Name: "/run/secrets/db", UID: "1000", GID: "1001", Mode: 0o400 },
        SecretID: "id-aaaaaaaaaaaa",
        SecretName: "baton-shop-web-db-password-aaaaaaaaaaaa",
      },
    ]);
    expect(specDrift(before, asInspected(before))).toEqual([]);
    const after = buildServiceSpec(app('    user: "1000:1001"\n'), {
      ...identity,
      secretFiles: [file("bbbbbbbbbbbb")],
    });
    expect(specDrift(after, asInspected(before))).toEqual(["secrets"]);
  });
});

describe("the Docker secret of a value", () => {
  it("is named within the engine's 64 characters, ending in the value's digest", () => {
    const name = dockerSecretName("p".repeat(80), "api", "s".repeat(80), "0123456789abcdef");
    expect(name.length).toBeLessThanOrEqual(64);
    expect(name.endsWith("-0123456789ab")).toBe(true);
    expect(name).toMatch(/^[a-zA-Z0-9_.-]+$/);
  });
});
