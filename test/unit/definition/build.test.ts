import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { appRevision, parseDefinition, SpecError } from "../../../src/definition/index.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A project folder with api/Dockerfile; returns the path of its (unwritten) baton.yaml. */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "baton-build-spec-"));
  dirs.push(dir);
  mkdirSync(join(dir, "api"));
  writeFileSync(join(dir, "api", "Dockerfile"), "FROM scratch\n");
  return join(dir, "baton.yaml");
}

function refusal(text: string, file: string): string {
  try {
    parseDefinition(text, file);
  } catch (error) {
    if (error instanceof SpecError) return error.format({ color: false });
    throw error;
  }
  throw new Error("expected the definition to be refused");
}

describe("an app with build:", () => {
  it("becomes a container app whose image is its repository, to be pinned to a release", () => {
    const file = project();
    const definition = parseDefinition(
      [
        "project: My Shop",
        "registry: 127.0.0.1:5000",
        "apps:",
        "  api:",
        "    build:",
        "      context: ./api",
        "      args: { NODE: 20, DEBUG: true }",
        '    command: ["node", "server.js"]',
        "  web:",
        "    build: ./api",
        '    command: ["node", "web.js"]',
        "",
      ].join("\n"),
      file,
    );
    const api = definition.apps.api!;
    expect(definition.registry).toBe("127.0.0.1:5000");
    expect(api.runtime).toBe("docker");
    expect(api.build).toEqual({
      context: join(file, "..", "api"),
      dockerfile: "Dockerfile",
      args: { NODE: "20", DEBUG: "true" },
      labels: {},
      repository: "127.0.0.1:5000/my-shop/api",
    });
    expect(api.container?.image).toBe("127.0.0.1:5000/my-shop/api");
    expect(definition.apps.web?.build?.context).toBe(join(file, "..", "api"));
    // Its files reach replicas through the image: an edit rolls out once built, not before.
    expect(api.contentDigest).toBe("");
    writeFileSync(join(file, "..", "api", "server.js"), "edited");
    const again = parseDefinition(
      [
        "project: My Shop",
        "registry: 127.0.0.1:5000",
        "apps:",
        "  api:",
        "    build:",
        "      context: ./api",
        "      args: { NODE: 20, DEBUG: true }",
        '    command: ["node", "server.js"]',
        "",
      ].join("\n"),
      file,
    );
    expect(appRevision(again.apps.api!)).toBe(appRevision(api));
  });

  it("needs a registry, an existing context and Dockerfile, and no image beside it", () => {
    const file = project();
    const text = [
      "apps:",
      "  api:",
      "    build: { context: ./nope }",
      "    image: shop/api:1",
      '    command: ["node", "server.js"]',
      "  web:",
      "    runtime: process",
      "    build: { context: ./api, dockerfile: Web.Dockerfile }",
      '    command: ["node", "web.js"]',
      "",
    ].join("\n");
    const shown = refusal(text, file);
    expect(shown).toMatch(
      /error\[spec\.conflicting_fields\] apps\.api has both `build` and `image`/,
    );
    expect(shown).toMatch(/baton\.yaml:4:5/);
    expect(shown).toMatch(/error\[spec\.missing_field\] apps\.api\.build needs a registry/);
    expect(shown).toMatch(/hint: add a top-level `registry: 127\.0\.0\.1:5000`/);
    expect(shown).toMatch(
      /error\[spec\.context_missing\] the build context `\.\/nope` of apps\.api does not exist/,
    );
    expect(shown).toMatch(/baton\.yaml:3:23/);
    expect(shown).toMatch(/error\[spec\.conflicting_fields\] apps\.web builds an image/);
    expect(shown).toMatch(
      /error\[spec\.dockerfile_missing\] apps\.web builds from .*Web\.Dockerfile, which does not exist/,
    );
  });

  it("lists the keys of build: and suggests the closest one to a typo", () => {
    const file = project();
    const shown = refusal(
      [
        "registry: 127.0.0.1:5000",
        "apps:",
        "  api:",
        "    build: { contxt: ./api }",
        '    command: ["x"]',
        "",
      ].join("\n"),
      file,
    );
    expect(shown).toMatch(
      /apps\.api\.build\.contxt is not a valid key; valid keys in apps\.api\.build are context, dockerfile, args and labels/,
    );
    expect(shown).toMatch(/hint: did you mean `context`\?/);
  });

  it("refuses a registry that is not an address", () => {
    const file = project();
    const shown = refusal(
      [
        "registry: http://127.0.0.1:5000",
        "apps:",
        "  api:",
        "    build: ./api",
        '    command: ["x"]',
        "",
      ].join("\n"),
      file,
    );
    expect(shown).toMatch(/registry must be a registry address such as 127\.0\.0\.1:5000/);
    expect(shown).toMatch(/baton\.yaml:1:11/);
  });
});

describe("registry: with a login", () => {
  it("takes the password only as a secret, and never repeats one written inline", () => {
    const file = project();
    const app = ["apps:", "  api:", "    build: ./api", '    command: ["node", "server.js"]', ""];
    const shown = refusal(
      ["registry: { url: 127.0.0.1:5000, username: ci, password: hunter2-inline }", ...app].join(
        "\n",
      ),
      file,
    );
    expect(shown).toMatch(/registry/);
    expect(shown).not.toContain("hunter2-inline");
  });
});
