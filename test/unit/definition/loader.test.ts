// biome-ignore-all lint/suspicious/noTemplateCurlyInString: definitions under test contain literal `${NAME}` text
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type AppSpec, loadDefinition, parseDefinition } from "../../../src/definition/index.js";

const fixtures = fileURLToPath(new URL("../../fixtures/definition/", import.meta.url));

function onlyApp(text: string, file = "/srv/shop/baton.yaml"): AppSpec {
  const apps = Object.values(parseDefinition(text, file).apps);
  if (apps.length !== 1 || !apps[0]) throw new Error(`expected one app, found ${apps.length}`);
  return apps[0];
}

describe("a minimal definition", () => {
  it("gets every default", () => {
    const definition = loadDefinition(join(fixtures, "minimal", "baton.yaml"));
    expect(definition.project).toBe("minimal");
    expect(definition.apps).toEqual({
      web: {
        name: "web",
        command: { argv: ["node", "server.js"] },
        cwd: join(fixtures, "minimal"),
        ignore: [],
        // The definition, and the secrets files beside it: never an app's content.
        contentExclude: [
          join(fixtures, "minimal", "baton.yaml"),
          join(fixtures, "minimal", "secrets", "default.age.yaml"),
        ],
        contentDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
        env: {},
        replicas: 1,
        protocol: "http",
        listen: "127.0.0.1",
        health: {},
        restart: { backoffMs: 250, maxBackoffMs: 30_000, resetAfterMs: 30_000 },
        stopGraceMs: 10_000,
        logs: { maxBytes: 10 * 1024 * 1024, maxFiles: 5, maxAgeMs: 7 * 24 * 3_600_000 },
        update: {
          strategy: "rolling",
          maxSurge: 1,
          maxUnavailable: 0,
          healthyDeadlineMs: 30_000,
          drainTimeoutMs: 10_000,
        },
        runtime: "process",
      },
    });
  });

  it("has no port, so no proxy, unless one is given", () => {
    expect("port" in onlyApp("apps:\n  web:\n    command: x\n")).toBe(false);
  });

  it("may have no apps at all", () => {
    expect(parseDefinition("project: empty\n", "/srv/empty/baton.yaml").apps).toEqual({});
  });
});

describe("the full example of the definition format", () => {
  const file = join(fixtures, "full-example", "baton.yaml");
  const definition = loadDefinition(file);

  it("is read with every field", () => {
    expect(definition.project).toBe("shop");
    expect(definition.apps.web).toEqual({
      name: "web",
      command: { argv: ["busybox", "httpd", "-f", "-p", "${PORT}"] },
      cwd: join(fixtures, "full-example", "site"),
      ignore: ["*.log", "tmp/"],
      contentExclude: [file, join(fixtures, "full-example", "secrets", "default.age.yaml")],
      contentDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
      env: { GREETING: "hi" },
      replicas: 3,
      port: 8080,
      protocol: "http",
      listen: "127.0.0.1",
      health: {
        readiness: {
          kind: "http",
          path: "/healthz",
          intervalMs: 1000,
          timeoutMs: 1000,
          failureThreshold: 1,
          successThreshold: 1,
          initialDelayMs: 0,
        },
        liveness: {
          kind: "tcp",
          intervalMs: 5000,
          timeoutMs: 1000,
          failureThreshold: 3,
          successThreshold: 1,
          initialDelayMs: 0,
        },
      },
      restart: { backoffMs: 1000, maxBackoffMs: 60_000, resetAfterMs: 60_000 },
      stopGraceMs: 10_000,
      logs: { maxBytes: 10_485_760, maxFiles: 5, maxAgeMs: 604_800_000 },
      update: {
        strategy: "rolling",
        maxSurge: "25%",
        maxUnavailable: 0,
        healthyDeadlineMs: 60_000,
        drainTimeoutMs: 30_000,
      },
      runtime: "process",
    });
  });

  it("runs a string command through the shell", () => {
    expect(definition.apps.worker?.command).toEqual({ shell: "node worker.js >> worker.log" });
  });

  it("keeps the apps in file order", () => {
    expect(Object.keys(definition.apps)).toEqual(["web", "worker"]);
  });

  it("records the absolute file, its text and the sha256 of the text", () => {
    const text = readFileSync(file, "utf8");
    expect(definition.file).toBe(file);
    expect(definition.source).toBe(text);
    expect(definition.hash).toBe(createHash("sha256").update(text).digest("hex"));
  });

  it("is frozen all the way down", () => {
    expect(Object.isFrozen(definition)).toBe(true);
    expect(Object.isFrozen(definition.apps.web?.health.readiness)).toBe(true);
    expect(Object.isFrozen(definition.apps.web?.env)).toBe(true);
  });
});

describe("values", () => {
  it("in env, when numbers or booleans, are kept as strings exactly as written", () => {
    const app = onlyApp(
      "apps:\n  web:\n    command: x\n    env: { VERSION: 1.10, DEBUG: true, N: 0x1F, S: hi }\n",
    );
    expect(app.env).toEqual({ VERSION: "1.10", DEBUG: "true", N: "0x1F", S: "hi" });
  });

  it("in an argv command, when numbers, are kept as written", () => {
    const app = onlyApp('apps:\n  web:\n    command: ["sleep", 1.50]\n');
    expect(app.command).toEqual({ argv: ["sleep", "1.50"] });
  });

  it("of an exec probe become its argv", () => {
    const app = onlyApp(
      "apps:\n  web:\n    command: x\n    health: { liveness: { exec: [./check.sh, 3] } }\n",
    );
    expect(app.health.liveness).toMatchObject({ kind: "exec", argv: ["./check.sh", "3"] });
  });

  it("of probes default by role: readiness checks often and fails at once, liveness is patient", () => {
    const app = onlyApp(
      "apps:\n  web:\n    command: x\n    health: { readiness: { tcp: true }, liveness: { tcp: true } }\n",
    );
    expect(app.health.readiness).toMatchObject({
      intervalMs: 1000,
      timeoutMs: 1000,
      failureThreshold: 1,
    });
    expect(app.health.liveness).toMatchObject({
      intervalMs: 5000,
      timeoutMs: 1000,
      failureThreshold: 3,
    });
  });
});

describe("the project name", () => {
  it("defaults to the folder holding the definition", () => {
    expect(parseDefinition("apps: {}\n", "/srv/my-shop/baton.yaml").project).toBe("my-shop");
  });

  it("is taken from project: when given", () => {
    expect(parseDefinition("project: shop\n", "/srv/my-shop/baton.yaml").project).toBe("shop");
  });
});

describe("paths", () => {
  it("of a relative definition file are resolved from the working directory", () => {
    const definition = parseDefinition("apps:\n  web:\n    command: x\n", "baton.yaml");
    expect(definition.file).toBe(resolve("baton.yaml"));
    expect(definition.apps.web?.cwd).toBe(process.cwd());
  });
});

describe("YAML conveniences", () => {
  it("share settings through anchors kept under an x- key", () => {
    const text = [
      "x-node: &node",
      '  command: ["node", "server.js"]',
      "  env: { NODE_ENV: production }",
      "apps:",
      "  web:",
      "    <<: *node",
      "    port: 8080",
      "  api:",
      "    <<: *node",
      "    replicas: 2",
      "",
    ].join("\n");
    const { apps } = parseDefinition(text, "/srv/shop/baton.yaml");
    expect(apps.web).toMatchObject({ command: { argv: ["node", "server.js"] }, port: 8080 });
    expect(apps.api).toMatchObject({ env: { NODE_ENV: "production" }, replicas: 2 });
  });

  it("still locate errors inside merged settings", () => {
    const text = [
      "x-base: &base",
      "  stopGrace: 10",
      "apps:",
      "  web:",
      "    <<: *base",
      "    command: x",
      "",
    ].join("\n");
    expect(() => parseDefinition(text, "baton.yaml")).toThrow("--> baton.yaml:2:14");
  });
});
