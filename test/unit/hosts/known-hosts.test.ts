import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkHostKey } from "../../../src/hosts/ssh/host-key-check.js";
import {
  fingerprint,
  knownHostName,
  matchesHost,
  parseKnownHosts,
} from "../../../src/hosts/ssh/known-hosts.js";

// Real keys and real hashing, from OpenSSH's own ssh-keygen (openssh-client).
const dir = mkdtempSync(join(tmpdir(), "baton-known-hosts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keygen(args: string[]): string {
  try {
    return execFileSync("ssh-keygen", args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error("ssh-keygen is missing: apt-get install -y openssh-client");
    }
    throw error;
  }
}

function newKey(name: string): { line: string; blob: Buffer } {
  const file = join(dir, name);
  keygen(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
  const line = readFileSync(`${file}.pub`, "utf8").trim();
  const [type = "", base64 = ""] = line.split(" ");
  return { line: `${type} ${base64}`, blob: Buffer.from(base64, "base64") };
}

const a = newKey("a");
const b = newKey("b");

describe("known_hosts", () => {
  it("names a host as OpenSSH records it", () => {
    expect(knownHostName("10.0.0.1", 22)).toBe("10.0.0.1");
    expect(knownHostName("127.0.0.1", 2201)).toBe("[127.0.0.1]:2201");
  });

  it("finds plain, bracketed-port and comma-listed entries", () => {
    const known = parseKnownHosts(
      [
        "# comment",
        `web1.example,10.0.0.1 ${a.line}`,
        `[127.0.0.1]:2201 ${b.line}`,
        "garbage line",
      ].join("\n"),
      "/k",
    );
    expect(known.lookup("10.0.0.1", 22).map((k) => k.key)).toEqual([a.blob]);
    expect(known.lookup("web1.example", 22).map((k) => k.line)).toEqual([2]);
    expect(known.lookup("127.0.0.1", 2201).map((k) => k.key)).toEqual([b.blob]);
    // The port is part of the name: the same address on another port is another host.
    expect(known.lookup("127.0.0.1", 22)).toEqual([]);
    expect(known.lookup("10.0.0.1", 2201)).toEqual([]);
  });

  it("finds hashed entries written by ssh-keygen -H", () => {
    const file = join(dir, "hashed");
    writeFileSync(file, `[127.0.0.1]:2202 ${a.line}\n10.0.0.9 ${b.line}\n`);
    keygen(["-H", "-f", file]);
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(/^\|1\|/m);
    expect(text).not.toContain("127.0.0.1");
    const known = parseKnownHosts(text, file);
    expect(known.lookup("127.0.0.1", 2202).map((k) => k.key)).toEqual([a.blob]);
    expect(known.lookup("10.0.0.9", 22).map((k) => k.key)).toEqual([b.blob]);
    expect(known.lookup("127.0.0.1", 2203)).toEqual([]);
  });

  it("supports wildcards and negation", () => {
    expect(matchesHost("*.example,!bad.example", "web.example")).toBe(true);
    expect(matchesHost("*.example,!bad.example", "bad.example")).toBe(false);
    expect(matchesHost("10.0.0.?", "10.0.0.7")).toBe(true);
  });

  it("prints fingerprints exactly as ssh-keygen -l does", () => {
    const printed = keygen(["-l", "-f", join(dir, "a.pub")]).split(" ")[1];
    expect(fingerprint(a.blob)).toBe(printed);
    expect(fingerprint(a.blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe("checkHostKey", () => {
  const file = "/home/u/.ssh/known_hosts";
  const known = parseKnownHosts(`[127.0.0.1]:2201 ${a.line}\n@revoked * ${b.line}\n`, file);

  it("trusts exactly the recorded key", () => {
    expect(checkHostKey("web1", known, "127.0.0.1", 2201, a.blob)).toBeUndefined();
  });

  it("refuses an unknown key with its fingerprint and the command to trust it", () => {
    const error = checkHostKey("web2", known, "127.0.0.1", 2202, a.blob);
    expect(error?.code).toBe("ssh.unknown_host_key");
    expect(error?.host).toBe("web2");
    expect(error?.message).toContain(fingerprint(a.blob));
    expect(error?.hint).toContain(`ssh-keyscan -p 2202 -t ed25519 127.0.0.1 >> ${file}`);
    expect(error?.hint).toContain(fingerprint(a.blob));
  });

  it("refuses a changed key loudly, with both fingerprints", () => {
    const other = newKey("c");
    const error = checkHostKey("web1", known, "127.0.0.1", 2201, other.blob);
    expect(error?.code).toBe("ssh.changed_host_key");
    expect(error?.message).toContain("CHANGED");
    expect(error?.message).toContain(fingerprint(other.blob));
    expect(error?.message).toContain(fingerprint(a.blob));
    expect(error?.hint).toContain(`ssh-keygen -R '[127.0.0.1]:2201' -f ${file}`);
  });

  it("refuses a revoked key even where it is otherwise recorded", () => {
    const both = parseKnownHosts(`10.0.0.1 ${b.line}\n@revoked * ${b.line}\n`, file);
    expect(checkHostKey("h", both, "10.0.0.1", 22, b.blob)?.message).toContain("REVOKED");
  });
});
