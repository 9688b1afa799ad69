import { describe, expect, it } from "vitest";
import { parseDefinition, SpecError } from "../../../src/definition/index.js";

function refusal(text: string): string {
  try {
    parseDefinition(text, "baton.yaml");
  } catch (error) {
    if (error instanceof SpecError) return error.format({ color: false });
    throw error;
  }
  throw new Error("expected the definition to be refused");
}

const swarmApp = (health: string, extra = "") => `apps:
  web:
    runtime: swarm
    image: shop/web:1
    command: ["node", "server.js"]
    port: 8080
${extra}    health:
${health}`;

describe("a swarm app in the definition", () => {
  it("builds with its container settings and host publishing by default", () => {
    const definition = parseDefinition(
      swarmApp('      readiness: { exec: ["true"] }\n'),
      "/tmp/baton-unit/baton.yaml",
    );
    expect(definition.apps.web).toMatchObject({
      runtime: "swarm",
      publish: "host",
      container: { image: "shop/web:1", containerPort: 8080, readOnlyRootfs: true },
    });
  });

  it("refuses an http readiness check, saying to write it as a command, at its line", () => {
    const text = refusal(swarmApp("      readiness: { http: /healthz }\n"));
    expect(text).toMatch(
      /apps\.web\.health\.readiness\.http: a swarm app's readiness runs as the service's health check/,
    );
    expect(text).toContain("--> baton.yaml:8:20");
    expect(text).toMatch(/hint: write it as a command the image can run/);
  });

  it("refuses a liveness check: Swarm's one health check already restarts", () => {
    const text = refusal(
      swarmApp('      readiness: { exec: ["true"] }\n      liveness: { exec: ["true"] }\n'),
    );
    expect(text).toMatch(/apps\.web\.health\.liveness: a Swarm service has one health check/);
  });

  it("refuses publish on an app that is not a swarm app", () => {
    const text = refusal(`apps:
  web:
    command: ["node", "server.js"]
    publish: mesh
`);
    expect(text).toMatch(/apps\.web\.publish applies to Swarm services/);
    expect(text).toMatch(/hint: add `runtime: swarm`, or remove this key/);
  });

  it("needs an image", () => {
    const text = refusal(`apps:
  web:
    runtime: swarm
    command: ["node", "server.js"]
`);
    expect(text).toMatch(/runs as containers \(runtime: swarm\) but has no `image`/);
  });
});
