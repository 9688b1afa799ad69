/**
 * A definition reaches the controller with its files as content-addressed blobs: the blob
 * doors refuse what does not hash to its name, and an apply naming a folder it did not send
 * is refused, naming the folder, instead of the controller reading it from its own disk.
 */

import { readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { blobDigest } from "../../src/util/content-manifest.js";
import { freePort, Project, TEST_APP } from "../helpers/cli.js";

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

interface Api {
  readonly url: string;
  readonly token: string;
}

/** A call on the controller's API as a script with the token makes it. */
async function call(
  api: Api,
  method: string,
  path: string,
  body?: string | Buffer,
  type = "application/json",
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${api.token}`, "content-type": type },
    ...(body === undefined ? {} : { body }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("the controller's blob doors", () => {
  it("take blobs by the digest of their bytes, and an apply only with what it names", async () => {
    const port = await freePort();
    project = new Project(`apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    port: ${port}
`);
    const p = project;
    await p.ok("up", "--detach");
    await p.ok("wait");
    const before = await p.status();
    const api = {
      url: before.controller.api,
      token: readFileSync(join(p.stateDir, "api-token"), "utf8").trim(),
    };

    const hello = blobDigest("hello\n");
    expect(
      (await call(api, "POST", "/api/v1/blobs/missing", JSON.stringify({ digests: [hello] }))).body,
    ).toEqual({ missing: [hello] });
    const wrong = await call(
      api,
      "PUT",
      `/api/v1/blobs/${hello}`,
      "goodbye\n",
      "application/octet-stream",
    );
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({
      code: "content.digest_mismatch",
      message: `the 8 bytes uploaded as ${hello} hash to ${blobDigest("goodbye\n")}`,
    });
    const right = await call(
      api,
      "PUT",
      `/api/v1/blobs/${hello}`,
      "hello\n",
      "application/octet-stream",
    );
    expect(right).toEqual({ status: 201, body: { digest: hello, size: 6, created: true } });
    expect(
      (await call(api, "POST", "/api/v1/blobs/missing", JSON.stringify({ digests: [hello] }))).body,
    ).toEqual({ missing: [] });

    // Too large is said before a byte of the body is read.
    const tooLarge = await new Promise<{ status: number; code: string }>((done, fail) => {
      const req = request(`${api.url}/api/v1/blobs/${hello}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${api.token}`, "content-length": String(4 * 1024 ** 3) },
      });
      req.on("response", (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on("end", () => {
          req.destroy();
          const body = JSON.parse(text) as { error: { code: string } };
          done({ status: res.statusCode ?? 0, code: body.error.code });
        });
      });
      req.on("error", fail);
      req.flushHeaders();
    });
    expect(tooLarge).toEqual({ status: 413, code: "content.too_large" });

    // The app's folder (the project) not sent: refused, naming it; nothing changes.
    const applied = await call(
      api,
      "POST",
      "/api/v1/apply",
      JSON.stringify({
        file: p.path("baton.yaml"),
        source: readFileSync(p.path("baton.yaml"), "utf8").replace(
          "port:",
          "replicas: 3\n    port:",
        ),
      }),
    );
    expect(applied.status).toBe(400);
    expect(applied.body.error).toMatchObject({
      code: "content.not_sent",
      message: `the definition reads ${p.dir}, which was not sent with it`,
    });
    expect((await p.status()).controller.definition).toEqual(before.controller.definition);
  });
});
