import { describe, expect, it } from "vitest";
import { appRevision, parseDefinition, SpecError } from "../../../src/definition/index.js";

/** The lines of a definition, joined: each test's YAML keeps its line numbers readable. */
function yaml(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}

/** What the user sees (colour off) when `text` is refused. */
function refusal(text: string): string {
  try {
    parseDefinition(text, "baton.yaml");
  } catch (error) {
    if (error instanceof SpecError) return error.format({ color: false });
    throw error;
  }
  throw new Error("expected the definition to be refused");
}

describe("dependsOn in the definition", () => {
  it("builds the apps each app waits for, once each, and nothing for an app without", () => {
    const definition = parseDefinition(
      yaml(
        "apps:",
        "  web:",
        "    command: node web.js",
        "    dependsOn: [db, cache, db]",
        "  db: { command: node db.js }",
        "  cache: { command: node cache.js }",
      ),
      "/srv/shop/baton.yaml",
    );
    expect(definition.apps.web?.dependsOn).toEqual(["db", "cache"]);
    expect(definition.apps.db && "dependsOn" in definition.apps.db).toBe(false);
  });

  it("is not part of the revision: changing it restarts no replica", () => {
    const revision = (deps: string) =>
      appRevision(
        parseDefinition(
          yaml(
            "apps:",
            "  web:",
            "    command: node web.js",
            deps,
            "  db: { command: node db.js }",
            "  cache: { command: node cache.js }",
          ),
          "/srv/shop/baton.yaml",
        ).apps.web!,
      );
    const without = revision("    env: { A: x }");
    expect(revision("    env: { A: x }\n    dependsOn: [db]")).toBe(without);
    expect(revision("    env: { A: x }\n    dependsOn: [db, cache]")).toBe(without);
    expect(revision("    env: { A: y }\n    dependsOn: [db]")).not.toBe(without);
  });

  it("refuses an app that is not defined, suggesting the closest name, at the entry", () => {
    const text = yaml(
      "apps:",
      "  web:",
      "    command: node web.js",
      "    dependsOn: [cache, dbb]",
      "  db: { command: node db.js }",
      "  cache: { command: node cache.js }",
    );
    expect(refusal(text)).toBe(
      [
        "error[spec.unknown_app] apps.web.dependsOn[1] names dbb, which is not an app of `apps:`",
        " --> baton.yaml:4:24",
        "  |",
        "4 |     dependsOn: [cache, dbb]",
        "  |                        ^^^",
        " hint: did you mean `db`?",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("refuses an app that depends on itself", () => {
    const text = yaml(
      "apps:",
      "  web:",
      "    command: node web.js",
      "    dependsOn:",
      "      - web",
    );
    expect(refusal(text)).toBe(
      [
        "error[spec.self_dependency] apps.web.dependsOn[0]: web depends on itself, so it would wait for its own readiness and never start",
        " --> baton.yaml:5:9",
        "  |",
        "5 |       - web",
        "  |         ^^^",
        " hint: remove `web` from its own dependsOn",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("refuses a cycle at the entry that closes it, naming the whole cycle", () => {
    const text = yaml(
      "apps:",
      "  web:",
      "    command: node web.js",
      "    dependsOn: [api]",
      "  api:",
      "    command: node api.js",
      "    dependsOn: [web]",
    );
    expect(refusal(text)).toBe(
      [
        "error[spec.dependency_cycle] apps.api.dependsOn[0] closes the dependency cycle web → api → web: each of these apps waits for the next to be ready, so none of them could ever start",
        " --> baton.yaml:7:17",
        "  |",
        "7 |     dependsOn: [web]",
        "  |                 ^^^",
        " hint: remove one of these dependencies: `api` from apps.web.dependsOn or `web` from apps.api.dependsOn",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("reports each cycle once, however long, and the apps outside it not at all", () => {
    const text = yaml(
      "apps:",
      "  web: { command: node web.js, dependsOn: [api] }",
      "  api: { command: node api.js, dependsOn: [db] }",
      "  db: { command: node db.js, dependsOn: [web] }",
      "  worker: { command: node worker.js, dependsOn: [queue, db] }",
      "  queue: { command: node queue.js, dependsOn: [worker] }",
    );
    const error = (() => {
      try {
        parseDefinition(text, "baton.yaml");
      } catch (e) {
        if (e instanceof SpecError) return e;
        throw e;
      }
      throw new Error("expected the definition to be refused");
    })();
    expect(
      error.diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.path} ${d.found}`),
    ).toEqual([
      "4:42 spec.dependency_cycle apps.db.dependsOn[0] web → api → db → web",
      "6:48 spec.dependency_cycle apps.queue.dependsOn[0] worker → queue → worker",
    ]);
  });

  it("refuses a bare name, suggesting the list", () => {
    const text = yaml(
      "apps:",
      "  web:",
      "    command: node web.js",
      "    dependsOn: db",
      "  db: { command: node db.js }",
    );
    expect(refusal(text)).toContain('hint: write `dependsOn: ["db"]`');
    expect(refusal(text)).toContain("--> baton.yaml:4:16");
  });

  it("refuses dependsOn on a swarm app and naming a swarm app: Swarm starts services in no order", () => {
    const text = yaml(
      "apps:",
      "  web:",
      "    runtime: swarm",
      "    image: shop/web:1",
      "    dependsOn: [api]",
      "  api:",
      "    command: node api.js",
      "    dependsOn: [web]",
    );
    expect(refusal(text)).toBe(
      [
        "error[spec.invalid_value] apps.web.dependsOn: web runs as a Swarm service, and Swarm starts services in no order",
        " --> baton.yaml:5:5",
        "  |",
        "5 |     dependsOn: [api]",
        "  |     ^^^^^^^^^",
        " hint: remove dependsOn, or run web with runtime: process or docker (in an environment's overrides, `dependsOn: null` removes it)",
        "",
        "error[spec.invalid_value] apps.api.dependsOn[0] names web, a swarm app: Baton waits for the readiness of process and docker apps only",
        " --> baton.yaml:8:17",
        "  |",
        "8 |     dependsOn: [web]",
        "  |                 ^^^",
        " hint: remove web from dependsOn, or run web with runtime: process or docker",
        "",
        "error[spec.dependency_cycle] apps.api.dependsOn[0] closes the dependency cycle web → api → web: each of these apps waits for the next to be ready, so none of them could ever start",
        " --> baton.yaml:8:17",
        "  |",
        "8 |     dependsOn: [web]",
        "  |                 ^^^",
        " hint: remove one of these dependencies: `api` from apps.web.dependsOn or `web` from apps.api.dependsOn",
        "",
        "3 errors in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });
});

describe("dependsOn in environments", () => {
  const base = yaml(
    "apps:",
    "  web:",
    "    command: node web.js",
    "    dependsOn: [api]",
    "  api:",
    "    command: node api.js",
    "environments:",
    "  dev: {}",
    "  prod:",
    "    overrides:",
    "      apps:",
  );

  it("refuses a cycle an override closes, at the override's line, in that environment", () => {
    const text = `${base}        api: { dependsOn: [web] }\n`;
    expect(refusal(text)).toBe(
      [
        "error[spec.dependency_cycle] apps.api.dependsOn[0] closes the dependency cycle web → api → web: each of these apps waits for the next to be ready, so none of them could ever start (in environment prod)",
        "  --> baton.yaml:12:28",
        "   |",
        "12 |         api: { dependsOn: [web] }",
        "   |                            ^^^",
        "  hint: remove one of these dependencies: `api` from apps.web.dependsOn or `web` from apps.api.dependsOn",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("refuses an unknown app an override names, and takes an override that removes the list", () => {
    expect(refusal(`${base}        web: { dependsOn: [apj] }\n`)).toContain(
      "error[spec.unknown_app] apps.web.dependsOn[0] names apj, which is not an app of `apps:` (in environment prod)\n  --> baton.yaml:12:28",
    );
    const prod = parseDefinition(
      `${base}        web: { dependsOn: null }\n`,
      "/srv/shop/baton.yaml",
      {
        environment: "prod",
      },
    );
    expect(prod.apps.web && "dependsOn" in prod.apps.web).toBe(false);
    const dev = parseDefinition(
      `${base}        web: { dependsOn: null }\n`,
      "/srv/shop/baton.yaml",
      {
        environment: "dev",
      },
    );
    expect(dev.apps.web?.dependsOn).toEqual(["api"]);
  });
});
