import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../../helpers/cli.js";

const BIOME = join(ROOT, "node_modules", ".bin", "biome");
const dir = mkdtempSync(join(tmpdir(), "baton-boundary-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Lints `code` as a file at `path` of a project with Baton's own Biome configuration. */
function lint(path: string, code: string): Promise<{ code: number; output: string }> {
  const project = mkdtempSync(join(dir, "p-"));
  copyFileSync(join(ROOT, "biome.json"), join(project, "biome.json"));
  mkdirSync(join(project, path, ".."), { recursive: true });
  writeFileSync(join(project, path), code);
  return new Promise((done) => {
    execFile(BIOME, ["lint", "--vcs-enabled=false", path], { cwd: project }, (error, out, err) =>
      done({ code: error === null ? 0 : 1, output: `${out}${err}` }),
    );
  });
}

describe("the CLI's boundary", () => {
  it("refuses an import of the controller's side from src/cli", async () => {
    const result = await lint(
      "src/cli/commands/status.ts",
      'import { SqliteStore } from "../../store/index.js";\n\nexport const store = SqliteStore;\n',
    );
    expect(result.code).toBe(1);
    expect(result.output).toContain("the CLI reaches the controller only through src/client");
  });

  it("lets src/cli import the client", async () => {
    const result = await lint(
      "src/cli/commands/status.ts",
      'import { connect } from "../../client/open.js";\n\nexport const open = connect;\n',
    );
    expect(result.output).not.toContain("noRestrictedImports");
  });
});

describe("the drivers' boundary", () => {
  it("refuses an import of the swarm driver's module from src/apps and src/controller", async () => {
    for (const path of ["src/apps/scheduled-apps.ts", "src/controller/controller.ts"]) {
      const result = await lint(
        path,
        'import { SwarmClient } from "../runtime/swarm/index.js";\n\nexport const client = SwarmClient;\n',
      );
      expect(result.code, path).toBe(1);
      expect(result.output).toMatch(/through the registry and the SchedulerDriver contract/);
    }
  });

  it("lets them import the contract and the registry", async () => {
    const result = await lint(
      "src/apps/scheduled-apps.ts",
      'import { localDrivers } from "../runtime/registry.js";\n\nexport const drivers = localDrivers;\n',
    );
    expect(result, result.output).toMatchObject({ code: 0 });
  });
});
