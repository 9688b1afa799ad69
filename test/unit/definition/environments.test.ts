import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDefinition, SpecError } from "../../../src/definition/index.js";

function yaml(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}

function refusal(text: string, environment?: string): SpecError {
  try {
    parseDefinition(text, "baton.yaml", environment === undefined ? {} : { environment });
  } catch (error) {
    if (error instanceof SpecError) return error;
    throw error;
  }
  throw new Error("expected the definition to be refused");
}

const SHOP = yaml(
  "apps:",
  "  web:",
  '    command: ["node", "server.js"]',
  "    port: 8080",
  "    image: shop/web:1",
  "    env: { MODE: base, KEEP: yes }",
  "    health: { readiness: { http: /ready, interval: 2s } }",
  "environments:",
  "  dev: { runtime: process }",
  "  prod:",
  "    runtime: docker",
  "    overrides:",
  "      apps:",
  "        web:",
  "          replicas: 4",
  "          env: { MODE: prod }",
  "          health: { readiness: { interval: 5s } }",
);

describe("environments", () => {
  it("lists the environments and builds the base definition when none is chosen", () => {
    const definition = parseDefinition(SHOP, "baton.yaml");
    expect(definition.environments).toEqual(["dev", "prod"]);
    expect(definition.environment).toBeUndefined();
    expect(definition.apps.web?.runtime).toBe("process");
    expect(definition.apps.web?.replicas).toBe(1);
  });

  it("applies an environment's runtime and merges its overrides into the apps", () => {
    const prod = parseDefinition(SHOP, "baton.yaml", { environment: "prod" });
    expect(prod.environment).toBe("prod");
    const web = prod.apps.web;
    expect(web?.runtime).toBe("docker");
    expect(web?.container?.image).toBe("shop/web:1");
    expect(web?.replicas).toBe(4);
    expect(web?.env).toEqual({ MODE: "prod", KEEP: "yes" });
    // A mapping merges: the base's probe kind stays, the override's interval wins.
    expect(web?.health.readiness).toMatchObject({ kind: "http", path: "/ready", intervalMs: 5000 });

    const dev = parseDefinition(SHOP, "baton.yaml", { environment: "dev" });
    expect(dev.apps.web?.runtime).toBe("process");
    expect(dev.apps.web?.replicas).toBe(1);
  });

  it("removes a key that an override sets to null", () => {
    const text = SHOP.replace(
      "          replicas: 4",
      "          replicas: 4\n          port: null",
    );
    expect(parseDefinition(text, "baton.yaml", { environment: "prod" }).apps.web?.port).toBe(
      undefined,
    );
  });

  it("reports an invalid override at the override's line, naming the environment", () => {
    const text = SHOP.replace("replicas: 4", 'replicas: "four"');
    const error = refusal(text);
    expect(error.diagnostics).toHaveLength(1);
    const [problem] = error.diagnostics;
    expect(problem).toMatchObject({ code: "spec.invalid_type", line: 15, col: 21 });
    expect(problem?.message).toContain("(in environment prod)");
    expect(error.format({ color: false })).toContain('15 |           replicas: "four"');
  });

  it("reports an unknown key in an override at its key, with a suggestion", () => {
    const error = refusal(SHOP.replace("replicas: 4", "replicsa: 4"));
    expect(error.diagnostics[0]).toMatchObject({ code: "spec.unknown_key", line: 15, col: 11 });
    expect(error.diagnostics[0]?.hint).toContain("replicas");
  });

  it("reports an override of an app the definition does not have", () => {
    const error = refusal(
      SHOP.replace("        web:\n          replicas", "        wbe:\n          replicas"),
    );
    expect(error.diagnostics[0]).toMatchObject({ code: "spec.unknown_app", line: 14, col: 9 });
    expect(error.diagnostics[0]?.hint).toBe("did you mean `web`?");
  });

  it("reports an environment whose runtime the apps cannot run on, at the runtime's line", () => {
    const error = refusal(SHOP.replace("    image: shop/web:1\n", ""));
    expect(error.diagnostics).toHaveLength(1);
    expect(error.diagnostics[0]).toMatchObject({ code: "spec.missing_field", line: 10, col: 14 });
    expect(error.diagnostics[0]?.message).toContain("(in environment prod)");
  });

  it("refuses an environment that is not declared, suggesting the closest", () => {
    const error = refusal(SHOP, "prd");
    expect(error.diagnostics[0]).toMatchObject({ code: "spec.unknown_environment", line: 8 });
    expect(error.diagnostics[0]?.hint).toBe("did you mean `--env prod`?");
    const none = refusal(yaml("apps:", "  web:", "    command: x"), "prod");
    expect(none.diagnostics[0]?.message).toContain("declares no environments");
  });

  it("still refuses container settings on a process app when no environment runs it in one", () => {
    const error = refusal(yaml("apps:", "  web:", "    command: x", "    image: a:b"));
    expect(error.diagnostics[0]?.code).toBe("spec.invalid_value");
  });
});

describe("environments and built images", () => {
  it("runs a built app from its files where the environment runs processes", () => {
    const text = yaml(
      "registry: 127.0.0.1:5000",
      "apps:",
      "  api:",
      '    command: ["node", "server.js"]',
      "    build: .",
      "environments:",
      "  dev: { runtime: process }",
      "  prod: { runtime: docker }",
    );
    const dir = mkdtempSync(join(tmpdir(), "baton-env-build-"));
    writeFileSync(join(dir, "Dockerfile"), "FROM scratch\n");
    const file = join(dir, "baton.yaml");
    try {
      const dev = parseDefinition(text, file, { environment: "dev" }).apps.api;
      expect(dev?.runtime).toBe("process");
      expect(dev?.build).toBeUndefined();
      const prod = parseDefinition(text, file, { environment: "prod" }).apps.api;
      expect(prod?.runtime).toBe("docker");
      expect(prod?.build?.repository).toMatch(/^127\.0\.0\.1:5000\/.+\/api$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
