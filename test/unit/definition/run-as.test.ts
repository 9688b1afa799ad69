import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { appRevision, parseDefinition, SpecError } from "../../../src/definition/index.js";

const dir = mkdtempSync(join(tmpdir(), "baton-run-as-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const parse = (text: string) => parseDefinition(text, join(dir, "baton.yaml"));
const refusal = (text: string): string => {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof SpecError) return error.message;
    throw error;
  }
  throw new Error("the definition was accepted");
};
const app = (settings: string) =>
  parse(`apps:\n  db:\n    command: ["sleep", "1"]\n${settings}`).apps.db;

describe("user:, group:, inheritEnv: and envFile: in the model", () => {
  it("keeps user and group of a process app, and rolls it out when they change", () => {
    const plain = app("");
    const postgres = app("    user: postgres\n");
    expect(postgres?.runAs).toEqual({ user: "postgres" });
    expect(app("    user: postgres\n    group: ssl-cert\n")?.runAs).toEqual({
      user: "postgres",
      group: "ssl-cert",
    });
    expect(plain?.runAs).toBeUndefined();
    expect(appRevision(postgres!)).not.toBe(appRevision(plain!));
  });

  it("keeps the revisions of apps that say nothing of them", () => {
    expect(appRevision(app("    inheritEnv: false\n")!)).toBe(appRevision(app("")!));
    expect(appRevision(app("    inheritEnv: [AWS_REGION]\n")!)).not.toBe(appRevision(app("")!));
  });

  it("gives a container's group to its user", () => {
    const api = parse(`apps:
  api:
    runtime: docker
    image: shop/api:1
    user: "1000"
    group: "2000"
`).apps.api;
    expect(api?.container?.user).toBe("1000:2000");
    expect(api?.runAs).toBeUndefined();
  });

  it("puts the env file under env:, and changes the revision with the file's content", () => {
    writeFileSync(join(dir, ".env"), "A=1\nB=from-file\n");
    const first = app("    envFile: .env\n    env: { B: declared }\n");
    expect(first?.env).toEqual({ A: "1", B: "declared" });
    writeFileSync(join(dir, ".env"), "A=2\nB=from-file\n");
    const second = app("    envFile: .env\n    env: { B: declared }\n");
    expect(appRevision(second!)).not.toBe(appRevision(first!));
  });
});

describe("their errors", () => {
  it("refuses a user that is neither NAME nor UID[:GID]", () => {
    expect(refusal('apps:\n  db:\n    command: ["x"]\n    user: "a b"\n')).toMatch(
      /apps\.db\.user must be NAME, UID, NAME:GROUP or UID:GID, found "a b"[\s\S]*baton\.yaml:4:11/,
    );
  });

  it("refuses a group named twice", () => {
    expect(refusal('apps:\n  db:\n    command: ["x"]\n    user: "1:1"\n    group: "2"\n')).toMatch(
      /apps\.db names its group twice/,
    );
  });

  it("refuses inheritEnv on containers", () => {
    expect(
      refusal("apps:\n  api:\n    runtime: docker\n    image: a:1\n    inheritEnv: true\n"),
    ).toMatch(/apps\.api\.inheritEnv applies to processes, but apps\.api runs as containers/);
  });

  it("names a missing env file at its key, and a bad line of it at the file's own line", () => {
    expect(refusal('apps:\n  db:\n    command: ["x"]\n    envFile: missing.env\n')).toMatch(
      /apps\.db\.envFile `missing\.env` does not exist[\s\S]*baton\.yaml:4:14/,
    );
    writeFileSync(join(dir, "bad.env"), "A=1\nB='open\n");
    expect(refusal('apps:\n  db:\n    command: ["x"]\n    envFile: bad.env\n')).toMatch(
      /bad\.env:2:3: the value of B opens a single quote that is never closed \(apps\.db\.envFile\)/,
    );
  });
});
