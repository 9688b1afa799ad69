import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type AppSpec,
  appRevision,
  type DefinitionFiles,
  diskFiles,
  parseDefinition,
} from "../../../src/definition/index.js";

function webApp(settings: string, command = '["node", "server.js"]'): AppSpec {
  const text = `apps:\n  web:\n    command: ${command}\n${settings}`;
  const app = parseDefinition(text, "/srv/shop/baton.yaml").apps.web;
  if (!app) throw new Error("no web app");
  return app;
}

describe("appRevision", () => {
  const base = appRevision(webApp("    env: { A: x }\n"));

  it("is 12 hex characters", () => {
    expect(base).toMatch(/^[0-9a-f]{12}$/);
  });

  it("does not change between versions of Baton, which would replace every replica on upgrade", () => {
    expect(base).toBe("f16fd4103853");
  });

  it("is the same for the same app", () => {
    expect(appRevision(webApp("    env: { A: x }\n"))).toBe(base);
  });

  it("does not change when replicas change: scaling keeps the replicas", () => {
    expect(appRevision(webApp("    env: { A: x }\n    replicas: 5\n"))).toBe(base);
  });

  it("does not change when the public port or protocol changes: only the proxy is reconfigured", () => {
    expect(appRevision(webApp("    env: { A: x }\n    port: 9090\n    protocol: tcp\n"))).toBe(
      base,
    );
  });

  it("changes when the env changes: replicas must be replaced", () => {
    expect(appRevision(webApp("    env: { A: y }\n"))).not.toBe(base);
  });

  it("changes when the command, health, restart, stop grace or logs change", () => {
    const variants = [
      webApp("    env: { A: x }\n", '["node", "other.js"]'),
      webApp("    env: { A: x }\n", "node server.js"),
      webApp("    env: { A: x }\n    health: { readiness: { http: / } }\n"),
      webApp("    env: { A: x }\n    restart: { backoff: 1s }\n"),
      webApp("    env: { A: x }\n    stopGrace: 20s\n"),
      webApp("    env: { A: x }\n    logs: { maxFiles: 2 }\n"),
    ];
    for (const app of variants) expect(appRevision(app)).not.toBe(base);
  });

  it("does not depend on the order keys are written in", () => {
    const ab = webApp("    env: { A: x, B: y }\n");
    const ba = webApp("    env: { B: y, A: x }\n");
    expect(appRevision(ab)).toBe(appRevision(ba));
  });

  it("does not depend on the app's name", () => {
    const text = 'apps:\n  api:\n    command: ["node", "server.js"]\n    env: { A: x }\n';
    const api = parseDefinition(text, "/srv/shop/baton.yaml").apps.api;
    expect(api && appRevision(api)).toBe(base);
  });
});

describe("an app folder's content in its revision", () => {
  // A folder of every kind of entry: files, an executable, a symlink, an empty directory,
  // what is always left out (.git) and what the app's `ignore` leaves out.
  const made = mkdtempSync(join(tmpdir(), "baton-revision-"));
  afterAll(() => rmSync(made, { recursive: true, force: true }));
  const site = join(made, "site");
  mkdirSync(join(site, "static"), { recursive: true });
  mkdirSync(join(site, "empty"));
  mkdirSync(join(site, ".git"));
  writeFileSync(join(site, ".git", "HEAD"), "ref: refs/heads/main\n");
  writeFileSync(join(site, "index.html"), "<h1>hello</h1>\n");
  writeFileSync(join(site, "static", "app.css"), "body { color: teal }\n");
  writeFileSync(join(site, "start.sh"), "#!/bin/sh\nexec node server.js\n");
  chmodSync(join(site, "start.sh"), 0o755);
  symlinkSync("index.html", join(site, "home.html"));
  writeFileSync(join(site, "debug.log"), "noise\n");

  // The folder read where it is, as if it were /srv/shop/site: the revision holds the path.
  const moved = (path: string): string => path.replace(/^\/srv\/shop/, made);
  const relocated: DefinitionFiles = {
    kind: (path) => diskFiles.kind(moved(path)),
    folder: (dir, options) =>
      diskFiles.folder(moved(dir), { ignore: options.ignore, exclude: options.exclude.map(moved) }),
    readText: (path) => diskFiles.readText(moved(path)),
  };
  const app = (): AppSpec => {
    const text =
      'apps:\n  web:\n    command: ["node", "server.js"]\n    cwd: site\n    ignore: ["*.log"]\n';
    const web = parseDefinition(text, "/srv/shop/baton.yaml", { files: relocated }).apps.web;
    if (!web) throw new Error("no web app");
    return web;
  };

  it("does not change between versions of Baton: the folder's digest and the revision are pinned", () => {
    expect(app().contentDigest).toBe(
      "fe847e4c2bbb93306826900af39d6c11e9ec21581f9e26d48f7b432c88ada3c3",
    );
    expect(appRevision(app())).toBe("3f04c2d05c8b");
  });
});
