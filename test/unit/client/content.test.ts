import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type ContentTarget, shipDefinition } from "../../../src/client/content.js";
import { appRevision, loadDefinition } from "../../../src/definition/index.js";
import { BlobStore, readShippedDefinition } from "../../../src/store/index.js";
import { ContentError } from "../../../src/util/content-errors.js";
import { blobDigest } from "../../../src/util/content-manifest.js";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "baton-ship-"));
  made.push(dir);
  return dir;
}

/** The controller's blob store as a client reaches it, each upload noted. */
function storeTarget(blobs: BlobStore, beforeUpload?: (digest: string) => void) {
  const uploaded: string[] = [];
  const target: ContentTarget = {
    missing: async (digests) => blobs.missing(digests),
    upload: async (digest, source) => {
      beforeUpload?.(digest);
      uploaded.push(digest);
      await blobs.put(digest, "bytes" in source ? [source.bytes] : createReadStream(source.path));
    },
  };
  return { target, uploaded };
}

function project(): string {
  const dir = tempDir();
  const write = (path: string, text: string) => {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write("site/index.html", "<h1>hello</h1>\n");
  write("site/api.key", "do not ship me\n");
  write("site/.git/HEAD", "ref: refs/heads/main\n");
  write("site/state/state.db", "the controller's own\n");
  write("motd.tpl", "hello {{ who }}\n");
  write(
    "baton.yaml",
    `apps:
  web:
    command: ["node", "server.js"]
    cwd: site
    ignore: ["*.key"]
  docs:
    command: ["node", "docs.js"]
    cwd: site
    ignore: ["*.key", "*.html"]
hosts:
  box: { connection: local, vars: { who: you } }
configure:
  all:
    - file: { path: /etc/motd, template: motd.tpl }
`,
  );
  return dir;
}

describe("shipping a definition", () => {
  it("uploads its folders and files so that the controller reads the same definition", async () => {
    const dir = project();
    const stateDir = join(dir, "site", "state");
    const definition = loadDefinition(join(dir, "baton.yaml"), { exclude: [stateDir] });
    const blobs = new BlobStore(tempDir());
    const { target } = storeTarget(blobs);

    const body = await shipDefinition(definition, target, { stateDir, appliedBy: "ann@laptop" });
    expect(body).toMatchObject({ file: join(dir, "baton.yaml"), appliedBy: "ann@laptop" });
    expect(Object.keys(body.folders)).toEqual([join(dir, "site")]);
    expect(body.files).toEqual({ [join(dir, "motd.tpl")]: blobDigest("hello {{ who }}\n") });
    // What every app leaves out, .git/ and the state directory never leave the machine.
    for (const text of ["do not ship me\n", "ref: refs/heads/main\n", "the controller's own\n"]) {
      expect(blobs.has(blobDigest(text))).toBe(false);
    }

    rmSync(dir, { recursive: true, force: true });
    const read = readShippedDefinition(
      { file: body.file, source: body.source, content: body },
      blobs,
      stateDir,
    );
    for (const app of ["web", "docs"]) {
      expect(appRevision(read.apps[app]!)).toBe(appRevision(definition.apps[app]!));
    }
  });

  it("uploads only what the controller lacks", async () => {
    const dir = project();
    const file = join(dir, "baton.yaml");
    const blobs = new BlobStore(tempDir());
    const first = storeTarget(blobs);
    await shipDefinition(loadDefinition(file), first.target);
    // No state directory said: site/state/state.db is one of the app's files, like any other.
    // index.html, state.db, the manifest of site/, the template.
    expect(first.uploaded).toHaveLength(4);

    const again = storeTarget(blobs);
    await shipDefinition(loadDefinition(file), again.target);
    expect(again.uploaded).toEqual([]);

    writeFileSync(join(dir, "site", "index.html"), "<h1>edited</h1>\n");
    const edited = storeTarget(blobs);
    const body = await shipDefinition(loadDefinition(file), edited.target);
    expect(edited.uploaded).toEqual([
      blobDigest("<h1>edited</h1>\n"),
      body.folders[join(dir, "site")],
    ]);
  });

  it("says which file changed while it was uploaded", async () => {
    const dir = project();
    const { target } = storeTarget(new BlobStore(tempDir()), (digest) => {
      if (digest === blobDigest("<h1>hello</h1>\n")) {
        writeFileSync(join(dir, "site", "index.html"), "<h1>saved meanwhile</h1>\n");
      }
    });
    const error = await shipDefinition(loadDefinition(join(dir, "baton.yaml")), target).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ContentError);
    expect(error).toMatchObject({
      code: "content.changed",
      message: `${join(dir, "site", "index.html")} changed while it was uploaded`,
    });
  });
});
