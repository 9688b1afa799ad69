import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { appRevision, parseDefinition } from "../../../src/definition/index.js";
import { BlobStore, readShippedDefinition } from "../../../src/store/index.js";
import { ContentError } from "../../../src/util/content-errors.js";
import {
  blobDigest,
  fileDigests,
  folderManifest,
  manifestBytes,
} from "../../../src/util/content-manifest.js";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "baton-blobs-"));
  made.push(dir);
  return dir;
}

async function rejection(promise: Promise<unknown>): Promise<ContentError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ContentError)) throw new Error(`expected a ContentError, got ${error}`);
  return error;
}

describe("BlobStore", () => {
  it("keeps a blob under the digest of its bytes, private to the controller's user", async () => {
    const state = tempDir();
    const blobs = new BlobStore(state);
    const digest = blobDigest("hello\n");
    expect(blobs.missing([digest])).toEqual([digest]);
    expect(await blobs.put(digest, [Buffer.from("hel"), Buffer.from("lo\n")])).toEqual({
      size: 6,
      created: true,
    });
    expect(await blobs.put(digest, [Buffer.from("hello\n")])).toEqual({ size: 6, created: false });
    expect(blobs.missing([digest])).toEqual([]);
    expect(blobs.read(digest, "greeting.txt").toString()).toBe("hello\n");
    expect(statSync(blobs.path(digest)).mode & 0o777).toBe(0o600);
    for (let dir = dirname(blobs.path(digest)); dir !== state; dir = dirname(dir)) {
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    }
  });

  it("refuses bytes that do not hash to the name, and keeps nothing of them", async () => {
    const blobs = new BlobStore(tempDir());
    const named = blobDigest("what the client read");
    const error = await rejection(blobs.put(named, [Buffer.from("what the file holds now")]));
    expect(error.code).toBe("content.digest_mismatch");
    expect(error.message).toBe(
      `the 23 bytes uploaded as ${named} hash to ${blobDigest("what the file holds now")}`,
    );
    expect(blobs.has(named)).toBe(false);
    expect(readdirSync(join(blobs.root, "tmp"))).toEqual([]);
  });

  it("refuses a blob larger than the limit, and a name that is no digest", async () => {
    const blobs = new BlobStore(tempDir());
    const big = Buffer.alloc(2048, 1);
    const error = await rejection(blobs.put(blobDigest(big), [big], 1024));
    expect(error.code).toBe("content.too_large");
    expect(error.hint).toMatch(/ignore:/);
    expect(readdirSync(join(blobs.root, "tmp"))).toEqual([]);
    expect(() => blobs.path("sha256:../../etc/passwd")).toThrow(/is not a blob digest/);
  });

  it("sweeps old blobs nothing keeps, and leaves the kept and the recent ones", async () => {
    const blobs = new BlobStore(tempDir());
    const [kept, old, fresh, asked] = await Promise.all(
      ["kept", "old", "fresh", "asked"].map(async (text) => {
        await blobs.putBytes(Buffer.from(text));
        return blobDigest(text);
      }),
    );
    const anHourAgo = new Date(Date.now() - 3_600_000);
    for (const digest of [kept!, old!, asked!])
      utimesSync(blobs.path(digest), anHourAgo, anHourAgo);
    // A client asking which blobs are missing is about to apply with those it has.
    expect(blobs.missing([asked!])).toEqual([]);

    expect(await blobs.sweep(new Set([kept!]), 600_000)).toBe(1);
    expect([kept, old, fresh, asked].map((d) => blobs.has(d!))).toEqual([true, false, true, true]);
  });
});

describe("a definition read from uploaded content", () => {
  /** A project on disk, uploaded as a client would, then taken away. */
  async function uploaded() {
    const project = tempDir();
    mkdirSync(join(project, "site", "static"), { recursive: true });
    writeFileSync(join(project, "site", "index.html"), "<h1>hello</h1>\n");
    writeFileSync(join(project, "site", "static", "app.css"), "body {}\n");
    writeFileSync(join(project, "site", "start.sh"), "#!/bin/sh\n");
    chmodSync(join(project, "site", "start.sh"), 0o755);
    writeFileSync(join(project, "motd.tpl"), "hello {{ who }}\n");
    const file = join(project, "baton.yaml");
    const source = `apps:
  web:
    command: ["node", "server.js"]
    cwd: site
hosts:
  box: { connection: local, vars: { who: you } }
configure:
  all:
    - file: { path: /etc/motd, template: motd.tpl }
`;
    writeFileSync(file, source);
    const fromDisk = parseDefinition(source, file);

    const blobs = new BlobStore(tempDir());
    const manifest = folderManifest(join(project, "site"));
    const bytes = manifestBytes(manifest);
    await blobs.putBytes(bytes);
    for (const entry of manifest.entries) {
      if (entry.digest !== undefined) {
        await blobs.putBytes(readFileSync(join(project, "site", entry.path)));
      }
    }
    await blobs.putBytes(readFileSync(join(project, "motd.tpl")));
    const content = {
      folders: { [join(project, "site")]: blobDigest(bytes) },
      files: { [join(project, "motd.tpl")]: blobDigest("hello {{ who }}\n") },
    };
    rmSync(project, { recursive: true, force: true });
    return { blobs, file, source, content, fromDisk, manifest };
  }

  it("has the revision the same files have on disk, and never looks at the disk", async () => {
    const { blobs, file, source, content, fromDisk } = await uploaded();
    const definition = readShippedDefinition({ file, source, content }, blobs, tempDir());
    const web = definition.apps.web!;
    expect(web.contentDigest).toBe(fromDisk.apps.web!.contentDigest);
    expect(appRevision(web)).toBe(appRevision(fromDisk.apps.web!));
    expect(web.contentManifest).toBe(Object.values(content.folders)[0]);
    expect(definition.content).toEqual(content);
    const motd = definition.hosts.resources.box?.[0]?.resource;
    expect(motd).toMatchObject({ module: "file", content: "hello {{ who }}\n" });
  });

  it("names a path the client did not send, instead of reading it from the disk", async () => {
    const { blobs, file, source, content } = await uploaded();
    const withoutTemplate = { ...content, files: {} };
    expect(() =>
      readShippedDefinition({ file, source, content: withoutTemplate }, blobs, tempDir()),
    ).toThrow(
      `the definition reads ${join(dirname(file), "motd.tpl")}, which was not sent with it`,
    );
  });

  it("names the files whose blobs were not uploaded", async () => {
    const { blobs, file, source, content, manifest } = await uploaded();
    const css = manifest.entries.find((e) => e.path === "static/app.css")!;
    rmSync(blobs.path(css.digest!));
    expect(fileDigests(manifest)).toContain(css.digest);
    let error: unknown;
    try {
      readShippedDefinition({ file, source, content }, blobs, tempDir());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ContentError);
    expect((error as ContentError).code).toBe("content.blobs_missing");
    expect((error as ContentError).message).toContain(
      `${join(dirname(file), "site", "static", "app.css")} (${css.digest})`,
    );
    expect(existsSync(dirname(file))).toBe(false);
  });
});
