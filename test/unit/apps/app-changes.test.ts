import { describe, expect, it } from "vitest";
import {
  appChanges,
  compareTrees,
  type FileChanges,
  looksSecret,
  MAX_FILES,
} from "../../../src/apps/app-changes.js";
import { type AppSpec, parseDefinition } from "../../../src/definition/index.js";
import type { TreeEntry } from "../../../src/util/file-tree.js";

/** The one app of a definition; its folder does not exist, so it has no content digest. */
function app(yaml: string): AppSpec {
  const spec = parseDefinition(`apps:\n  web:\n${yaml}`, "/nowhere/shop/baton.yaml").apps.web;
  if (spec === undefined) throw new Error("no app web");
  return spec;
}

const web = (env: string, ready: string, more = "") =>
  app(`    command: ["node", "server.js", "8080"]
    env: { ${env} }
    health: { readiness: { http: ${ready} } }
${more}`);

const noFiles: FileChanges = { added: [], removed: [], modified: [] };
const withDigest = (spec: AppSpec, digest: string): AppSpec => ({ ...spec, contentDigest: digest });

describe("appChanges", () => {
  it("lists an env value, the readiness path and a file of the folder, and nothing else", () => {
    const from = withDigest(web("GREETING: hi, MODE: x", "/healthz"), "a".repeat(64));
    const to = withDigest(web("GREETING: hello, MODE: x", "/ready"), "b".repeat(64));
    expect(appChanges(from, to, { ...noFiles, modified: ["config.txt"] })).toEqual([
      { field: "env.GREETING", from: '"hi"', to: '"hello"' },
      { field: "health.readiness.http", from: '"/healthz"', to: '"/ready"' },
      { field: "file config.txt", from: "modified", to: "modified" },
    ]);
  });

  it("names an argument of the command by its index, a shell command as its string", () => {
    const argv = (port: string) => app(`    command: ["node", "server.js", "${port}"]\n`);
    expect(appChanges(argv("8080"), argv("8081"), undefined)).toEqual([
      { field: "command[2]", from: '"8080"', to: '"8081"' },
    ]);
    const shell = (text: string) => app(`    command: ${JSON.stringify(text)}\n`);
    expect(appChanges(shell("exec a"), shell("exec b"), undefined)).toEqual([
      { field: "command", from: '"exec a"', to: '"exec b"' },
    ]);
  });

  it("shows a probe as the definition writes it, its timings by the model's names", () => {
    const probe = (text: string) => app(`    command: ["x"]\n    health: { liveness: ${text} }\n`);
    expect(
      appChanges(probe("{ http: /live }"), probe("{ exec: [check, -q], interval: 2s }"), undefined),
    ).toEqual([
      { field: "health.liveness.exec", from: null, to: '["check","-q"]' },
      { field: "health.liveness.intervalMs", from: "5000", to: "2000" },
      { field: "health.liveness.http", from: '"/live"', to: null },
    ]);
  });

  it("names the image a container app runs, as pinned to its digest", () => {
    const image = (digest: string) =>
      app(
        `    runtime: docker\n    image: shop/api@sha256:${digest.repeat(64)}\n    command: ["api"]\n`,
      );
    expect(appChanges(image("a"), image("b"), undefined)).toEqual([
      {
        field: "container.image",
        from: JSON.stringify(`shop/api@sha256:${"a".repeat(64)}`),
        to: JSON.stringify(`shop/api@sha256:${"b".repeat(64)}`),
      },
    ]);
  });

  it("leaves out what is changed in place (port, replicas, update) and the folder's path", () => {
    const from = web("A: x", "/r", "    port: 8080\n    replicas: 2\n");
    const to = web("A: x", "/r", "    port: 9090\n    replicas: 5\n    update: { maxSurge: 0 }\n");
    expect(appChanges(from, { ...to, cwd: "/somewhere/else" }, undefined)).toEqual([]);
  });

  it("says a secret changed without its value, and masks that value wherever else it shows", () => {
    const from = app(`    command: ["server", "--token", "s3cr3t-one"]
    env: { API_TOKEN: s3cr3t-one, DB_PASSWORD: pw-long-1 }
`);
    const to = app(`    command: ["server", "--token", "s3cr3t-two"]
    env: { API_TOKEN: s3cr3t-two, SIGNING_KEY: brand-new-key }
`);
    const changes = appChanges(from, to, undefined);
    expect(changes).toEqual([
      { field: "command[2]", from: '"***"', to: '"***"' },
      { field: "env.API_TOKEN", from: "(secret, changed)", to: "(secret, changed)" },
      { field: "env.SIGNING_KEY", from: null, to: "(secret)" },
      { field: "env.DB_PASSWORD", from: "(secret)", to: null },
    ]);
    expect(JSON.stringify(changes)).not.toMatch(/s3cr3t|pw-long|brand-new/);
  });

  it("masks the password of a URL, whatever its variable is called", () => {
    const url = (host: string) =>
      app(`    command: ["x"]\n    env: { DATABASE_URL: "postgres://app:pw-9@${host}/app" }\n`);
    expect(appChanges(url("db1"), url("db2"), undefined)).toEqual([
      {
        field: "env.DATABASE_URL",
        from: '"postgres://app:***@db1/app"',
        to: '"postgres://app:***@db2/app"',
      },
    ]);
  });

  it("masks a secret that JSON escapes where it shows", () => {
    const quoted = (secret: string) =>
      app(`    command: ["server", ${JSON.stringify(secret)}]
    env: { PASSWORD: ${JSON.stringify(secret)}, MODE: ${secret.length} }
`);
    const [change] = appChanges(quoted('pa"ss\\word-1'), quoted('pa"ss\\word-2'), undefined);
    expect(change).toEqual({ field: "command[1]", from: '"***"', to: '"***"' });
  });

  it("names files added, removed and modified, capping a long list", () => {
    const from = withDigest(web("A: x", "/r"), "a".repeat(64));
    const to = withDigest(web("A: x", "/r"), "b".repeat(64));
    const files = {
      added: ["new.txt"],
      removed: ["old.txt"],
      modified: ["app.js"],
    };
    expect(appChanges(from, to, files)).toEqual([
      { field: "file app.js", from: "modified", to: "modified" },
      { field: "file new.txt", from: "added", to: "added" },
      { field: "file old.txt", from: "removed", to: "removed" },
    ]);
    const many = { ...noFiles, added: Array.from({ length: 25 }, (_, i) => `f${i}.js`) };
    const listed = appChanges(from, to, many);
    expect(listed).toHaveLength(MAX_FILES);
    expect(listed.at(-2)).toEqual({ field: "file f8.js", from: "added", to: "added" });
    expect(listed.at(-1)).toEqual({ field: "files", from: "and 16 more", to: "and 16 more" });
  });

  it("names the folder by its digests when its files could not be compared", () => {
    const from = withDigest(web("A: x", "/r"), "a".repeat(64));
    const to = withDigest(web("A: x", "/r"), "b".repeat(64));
    expect(appChanges(from, to, undefined)).toEqual([
      { field: "content", from: "a".repeat(12), to: "b".repeat(12) },
    ]);
    expect(appChanges(from, withDigest(to, "a".repeat(64)), noFiles)).toEqual([]);
  });
});

describe("compareTrees", () => {
  const tree = (entries: Record<string, string>): Map<string, TreeEntry> =>
    new Map(
      Object.entries(entries).map(([path, signature]) => [
        path,
        { kind: signature === "dir" ? "dir" : "file", signature },
      ]),
    );

  it("finds files added, removed and modified", () => {
    expect(
      compareTrees(
        tree({ "a.txt": "1", "b.txt": "2", "c.txt": "3" }),
        tree({ "a.txt": "1", "b.txt": "9", "d.txt": "4" }),
      ),
    ).toEqual({ added: ["d.txt"], removed: ["c.txt"], modified: ["b.txt"] });
  });

  it("names a new or removed folder by its files, an empty one by itself", () => {
    expect(
      compareTrees(
        tree({ old: "dir", "old/x": "1" }),
        tree({ conf: "dir", "conf/a": "1", "conf/b": "2", empty: "dir" }),
      ),
    ).toEqual({ added: ["conf/a", "conf/b", "empty/"], removed: ["old/x"], modified: [] });
  });
});

describe("looksSecret", () => {
  it("tells secret names by their words", () => {
    for (const name of ["DB_PASSWORD", "API_TOKEN", "SECRET", "aws_access_key_id", "AUTH_HEADER"]) {
      expect(looksSecret(name), name).toBe(true);
    }
    for (const name of ["GREETING", "PORT", "MODE", "LOG_LEVEL"]) {
      expect(looksSecret(name), name).toBe(false);
    }
  });
});
