import { execFileSync, spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostSpec, SshHost, SshSettings } from "../../src/definition/host-model.js";
import { gatherFacts } from "../../src/hosts/facts.js";
import { withHosts } from "../../src/hosts/host-pool.js";
import { LocalTransport } from "../../src/hosts/local/local-transport.js";
import { fingerprint } from "../../src/hosts/ssh/known-hosts.js";
import { connectSsh } from "../../src/hosts/ssh/ssh-connect.js";
import { type Transport, TransportError } from "../../src/hosts/transport.js";
import { docker } from "../helpers/docker.js";
import {
  generateKey,
  hostKey,
  rekeyHost,
  sshdLog,
  startHosts,
  stopHost,
  type TestHost,
  type TestHosts,
  writeKnownHosts,
} from "../helpers/hosts.js";
import { eventually } from "../helpers/wait.js";

// Arguments a shell would split, expand or run if they were ever concatenated.
const HOSTILE = [
  "plain",
  "two words",
  "it's",
  '"double"',
  "$HOME",
  "$(touch /tmp/pwned)",
  "`touch /tmp/pwned`",
  "; touch /tmp/pwned",
  "a\nb\n",
  "tab\there",
  "ünïcödé ✓ 日本",
  "*",
  "",
  "-n",
  "\\backslash\\",
];

let test: TestHosts;
let settings: SshSettings;

function inventoryHost(host: TestHost, overrides: Partial<SshHost> = {}): SshHost {
  return {
    name: host.name,
    connection: "ssh",
    address: "127.0.0.1",
    port: host.port,
    user: "root",
    become: false,
    groups: [],
    vars: {},
    ...overrides,
  };
}

async function expectTransportError(
  promise: Promise<unknown>,
  code: TransportError["code"],
): Promise<TransportError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(TransportError);
  expect((error as TransportError).code).toBe(code);
  return error as TransportError;
}

async function logins(host: TestHost): Promise<number> {
  return ((await sshdLog(host)).match(/Accepted publickey/g) ?? []).length;
}

function decodeArgs(stdout: Buffer): string[] {
  return stdout.toString("utf8").split("\0").slice(0, -1);
}

beforeAll(async () => {
  test = await startHosts(3);
  settings = {
    identityFile: test.identityFile,
    knownHosts: test.knownHosts,
    connectTimeoutMs: 30_000,
    commandTimeoutMs: 30_000,
    parallel: 3,
  };
}, 300_000);

afterAll(async () => {
  await test?.stop();
});

describe("the SSH transport on real Debian hosts", () => {
  it("runs argv unchanged, with stdin, and reports exit codes and signals", async () => {
    const transport = await connectSsh(inventoryHost(test.hosts[0] as TestHost), settings);
    try {
      const echoed = await transport.exec(["printf", "%s\\0", ...HOSTILE]);
      expect(echoed.code).toBe(0);
      expect(decodeArgs(echoed.stdout)).toEqual(HOSTILE);
      expect((await transport.exec(["test", "-e", "/tmp/pwned"])).code).toBe(1);

      const piped = await transport.exec(["cat"], { stdin: "line 1\n$HOME\n" });
      expect(piped.stdout.toString()).toBe("line 1\n$HOME\n");
      const failed = await transport.exec(["sh", "-c", "echo oops >&2; exit 7"]);
      expect(failed.code).toBe(7);
      expect(failed.stderr.toString()).toBe("oops\n");
      expect((await transport.exec(["sh", "-c", 'kill -TERM "$$"'])).code).toBe(128 + 15);
      expect((await transport.exec(["no-such-command"])).code).toBe(127);
    } finally {
      await transport.close();
    }
  });

  it("runs commands through sudo with become: true", async () => {
    const host = test.hosts[0] as TestHost;
    const transport = await connectSsh(
      inventoryHost(host, { user: "deploy", become: true }),
      settings,
    );
    try {
      expect((await transport.exec(["id", "-u"])).stdout.toString().trim()).toBe("0");
      expect(decodeArgs((await transport.exec(["printf", "%s\\0", ...HOSTILE])).stdout)).toEqual(
        HOSTILE,
      );
      await transport.writeFile("/etc/baton-become.conf", "root's\n", { mode: 0o600 });
      expect(await transport.stat("/etc/baton-become.conf")).toMatchObject({ uid: 0, mode: 0o600 });
    } finally {
      await transport.close();
    }
  });

  it("times out a command, kills it on the host, and keeps the connection usable", async () => {
    const host = test.hosts[0] as TestHost;
    const transport = await connectSsh(inventoryHost(host), settings);
    try {
      const started = Date.now();
      const error = await expectTransportError(
        transport.exec(["sleep", "321"], { timeoutMs: 500 }),
        "transport.timeout",
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(error.message).toContain("sleep 321");
      await eventually(
        "the timed-out sleep is gone from the host",
        () => docker(["exec", host.container, "ps", "-eo", "args"]),
        (ps) => !ps.includes("sleep 321"),
        20_000,
      );
      expect((await transport.exec(["true"])).code).toBe(0);
    } finally {
      await transport.close();
    }
  });

  it("writes files atomically with mode, owner and group, and reads and stats them", async () => {
    const transport = await connectSsh(inventoryHost(test.hosts[1] as TestHost), settings);
    try {
      await transport.exec(["mkdir", "-p", "/srv/conf"]);
      await transport.writeFile("/srv/conf/app.conf", "first\n");
      const inode1 = (await transport.exec(["stat", "-c", "%i", "/srv/conf/app.conf"])).stdout;
      await transport.writeFile("/srv/conf/app.conf", "key = 'value' $x\n", {
        mode: 0o640,
        owner: "deploy",
        group: "nogroup",
      });
      const inode2 = (await transport.exec(["stat", "-c", "%i", "/srv/conf/app.conf"])).stdout;
      // Replaced by a rename, not rewritten in place.
      expect(inode2.toString()).not.toBe(inode1.toString());
      expect((await transport.readFile("/srv/conf/app.conf"))?.toString()).toBe(
        "key = 'value' $x\n",
      );
      const deployUid = Number((await transport.exec(["id", "-u", "deploy"])).stdout.toString());
      expect(await transport.stat("/srv/conf/app.conf")).toEqual({
        type: "file",
        mode: 0o640,
        uid: deployUid,
        gid: 65534,
        size: 17,
      });
      const binary = Buffer.from([0, 1, 2, 255, 10, 13]);
      await transport.writeFile("/srv/conf/blob", binary);
      expect(await transport.readFile("/srv/conf/blob")).toEqual(binary);
      expect((await transport.exec(["ls", "-A", "/srv/conf"])).stdout.toString()).toBe(
        "app.conf\nblob\n",
      );

      await transport.exec(["ln", "-sfn", "/srv/conf/app.conf", "/srv/conf/link"]);
      expect((await transport.stat("/srv/conf/link"))?.type).toBe("symlink");
      expect((await transport.stat("/srv/conf"))?.type).toBe("directory");
      expect(await transport.stat("/srv/none")).toBeUndefined();
      expect(await transport.readFile("/srv/none")).toBeUndefined();
      await expect(transport.writeFile("/srv/none/x", "x")).rejects.toThrow(/cannot write/);
      await expect(
        transport.writeFile("/srv/conf/x", "x", { owner: "nobody-here" }),
      ).rejects.toThrow(/nobody-here/);
      expect((await transport.exec(["ls", "-A", "/srv/conf"])).stdout.toString()).toBe(
        "app.conf\nblob\nlink\n",
      );
    } finally {
      await transport.close();
    }
  });

  it("uses one connection for everything, channels in parallel", async () => {
    const host = test.hosts[1] as TestHost;
    const before = await logins(host);
    const transport = await connectSsh(inventoryHost(host), settings);
    try {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => transport.exec(["echo", String(i)])),
      );
      expect(results.map((result) => result.stdout.toString().trim())).toEqual(
        Array.from({ length: 40 }, (_, i) => String(i)),
      );
      await transport.writeFile("/tmp/one-connection", "x");
      await transport.readFile("/tmp/one-connection");
      await transport.stat("/tmp/one-connection");
      await gatherFacts(transport);
    } finally {
      await transport.close();
    }
    expect((await logins(host)) - before).toBe(1);
  });

  it("gathers a host's facts in one command", async () => {
    const transport = await connectSsh(inventoryHost(test.hosts[1] as TestHost), settings);
    try {
      const facts = await gatherFacts(transport);
      expect(facts.os).toMatchObject({ id: "debian", version: "12" });
      expect(facts.packages["openssh-server"]).toMatch(/^1:9\./);
      expect(facts.users).toContainEqual(expect.objectContaining({ name: "root", uid: 0 }));
      expect(facts.listening).toContainEqual({ protocol: "tcp", address: "0.0.0.0", port: 22 });
      expect(facts.cpus).toBeGreaterThan(0);
      expect(facts.libraries["libc.so.6"]?.length).toBeGreaterThan(0);
      expect(facts.sysctl["kernel.randomize_va_space"]).toMatch(/^[0-2]$/);
    } finally {
      await transport.close();
    }
  });

  it("refuses an unknown host key with its fingerprint and the command to trust it, running nothing", async () => {
    const host = test.hosts[0] as TestHost;
    const empty = join(test.dir, "known_hosts.empty");
    writeFileSync(empty, "");
    const before = await logins(host);
    const error = await expectTransportError(
      connectSsh(inventoryHost(host), { ...settings, knownHosts: empty }),
      "ssh.unknown_host_key",
    );
    const key = Buffer.from((await hostKey(host)).split(" ")[1] ?? "", "base64");
    expect(error.message).toContain(fingerprint(key));
    expect(error.hint).toContain(`ssh-keyscan -p ${host.port} -t ed25519 127.0.0.1 >> ${empty}`);
    expect(await logins(host)).toBe(before);
  });

  it("refuses a wrong client key naming the user and the key", async () => {
    const wrongKey = await generateKey(test.dir, "id_wrong");
    const error = await expectTransportError(
      connectSsh(
        inventoryHost(test.hosts[0] as TestHost),
        {
          ...settings,
          identityFile: wrongKey,
        },
        { agent: "" },
      ),
      "ssh.auth_failed",
    );
    expect(error.message).toContain("root");
    expect(error.message).toContain(wrongKey);
  });

  it("refuses a passphrase-protected key without an agent, saying how to use it", async () => {
    const locked = await generateKey(test.dir, "id_locked", "secret phrase");
    const error = await expectTransportError(
      connectSsh(
        inventoryHost(test.hosts[0] as TestHost),
        { ...settings, identityFile: locked },
        { agent: "" },
      ),
      "ssh.no_identity",
    );
    expect(error.hint).toContain(`ssh-add ${locked}`);
  });

  it("logs in with the agent's key when no identity file is set", async () => {
    const socket = join(test.dir, "agent.sock");
    const agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
    try {
      await eventually("ssh-agent listens", () => existsSync(socket), Boolean, 20_000);
      execFileSync("ssh-add", ["-q", test.identityFile], {
        env: { ...process.env, SSH_AUTH_SOCK: socket },
        stdio: "ignore",
      });
      const { identityFile: _unused, ...withoutKey } = settings;
      const transport = await connectSsh(inventoryHost(test.hosts[0] as TestHost), withoutKey, {
        agent: socket,
      });
      try {
        expect((await transport.exec(["id", "-un"])).stdout.toString().trim()).toBe("root");
      } finally {
        await transport.close();
      }
    } finally {
      if (agent.pid !== undefined) process.kill(agent.pid, "SIGTERM");
    }
  });

  it("reaches a host through a jump host", async () => {
    const [jump, target] = test.hosts as [TestHost, TestHost];
    const inventory: HostSpec[] = [
      inventoryHost(jump),
      // The target's own address, which only the jump host (another container) talks to.
      inventoryHost(target, {
        address: target.internalAddress,
        port: 22,
        jump: jump.name,
        name: "behind",
      }),
    ];
    const transport = await connectSsh(inventory[1] as SshHost, settings, { inventory });
    try {
      expect((await transport.exec(["uname", "-n"])).stdout.toString().trim()).toBe(target.name);
    } finally {
      await transport.close();
    }
    const missing = await expectTransportError(
      connectSsh({ ...(inventory[1] as SshHost), jump: "nowhere" }, settings, { inventory }),
      "ssh.jump_failed",
    );
    expect(missing.message).toContain("nowhere");
  });

  it("refuses a changed host key loudly", async () => {
    const host = test.hosts[2] as TestHost;
    const recorded = join(test.dir, "known_hosts.before");
    copyFileSync(test.knownHosts, recorded);
    const oldKey = Buffer.from((await hostKey(host)).split(" ")[1] ?? "", "base64");
    const newKey = Buffer.from((await rekeyHost(host)).split(" ")[1] ?? "", "base64");
    const error = await expectTransportError(
      connectSsh(inventoryHost(host), { ...settings, knownHosts: recorded }),
      "ssh.changed_host_key",
    );
    expect(error.message).toContain(fingerprint(oldKey));
    expect(error.message).toContain(fingerprint(newKey));
    await writeKnownHosts(test.knownHosts, test.hosts);
    const transport = await connectSsh(inventoryHost(host), settings);
    await transport.close();
  });

  it("fails an unreachable host alone while the others go on", async () => {
    const stopped = test.hosts[2] as TestHost;
    await stopHost(stopped);
    const inventory = test.hosts.map((host) => inventoryHost(host));
    const outcomes = await withHosts(inventory, settings, 2, async (transport: Transport) => {
      return (await transport.exec(["uname", "-n"])).stdout.toString().trim();
    });
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true, false]);
    expect(outcomes[0]).toMatchObject({ ok: true, value: test.hosts[0]?.name });
    const failure = outcomes[2];
    expect(failure?.ok).toBe(false);
    if (failure?.ok === false) {
      expect(failure.error).toBeInstanceOf(TransportError);
      expect((failure.error as TransportError).code).toBe("ssh.unreachable");
      expect(failure.error.message).toContain(`127.0.0.1:${stopped.port}`);
    }
  });
});

describe("the local transport", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "baton-local-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("runs argv directly, with stdin, exit codes and timeouts", async () => {
    const transport = new LocalTransport("local");
    const echoed = await transport.exec(["printf", "%s\\0", ...HOSTILE]);
    expect(decodeArgs(echoed.stdout)).toEqual(HOSTILE);
    expect((await transport.exec(["cat"], { stdin: "in" })).stdout.toString()).toBe("in");
    expect((await transport.exec(["sh", "-c", "exit 3"])).code).toBe(3);
    expect((await transport.exec(["sh", "-c", 'kill -TERM "$$"'])).code).toBe(143);
    expect((await transport.exec(["no-such-command-here"])).code).toBe(127);
    const started = Date.now();
    await expectTransportError(
      transport.exec(["sh", "-c", "sleep 30; echo late"], { timeoutMs: 300 }),
      "transport.timeout",
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("writes files atomically with mode and owner, and reads and stats them", async () => {
    const transport = new LocalTransport("local");
    const file = join(dir, "a.conf");
    await transport.writeFile(file, "one\n");
    await transport.writeFile(file, "two\n", { mode: 0o600, owner: "nobody", group: "nogroup" });
    expect(readFileSync(file, "utf8")).toBe("two\n");
    expect(await transport.stat(file)).toEqual({
      type: "file",
      mode: 0o600,
      uid: 65534,
      gid: 65534,
      size: 4,
    });
    expect((await transport.readFile(file))?.toString()).toBe("two\n");
    expect(await transport.readFile(join(dir, "none"))).toBeUndefined();
    expect(await transport.stat(join(dir, "none"))).toBeUndefined();
    await expect(transport.writeFile(file, "x", { owner: "nobody-here" })).rejects.toThrow(
      /nobody-here/,
    );
    expect(readdirSync(dir)).toEqual(["a.conf"]);
  });
});
