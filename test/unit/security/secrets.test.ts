import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadDefinition } from "../../../src/definition/index.js";
import {
  decryptWith,
  encryptTo,
  ensureKeyPair,
  formatSecretsFile,
  parseSecretsFile,
  readKeyPair,
  readSecrets,
  rotateKey,
  setSecret,
} from "../../../src/security/secrets/index.js";
import { unsealSecrets, withSecretValues } from "../../../src/security/secrets/unsealed.js";

const dir = mkdtempSync(join(tmpdir(), "baton-secrets-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("age keys and files, as the age CLI reads and writes them", () => {
  it("a key pair Baton makes decrypts with `age -d -i`, and Baton reads what `age -r` wrote", async () => {
    const env = { HOME: join(dir, "home") };
    const { pair, created } = await ensureKeyPair("prod", env);
    const keyFile = join(dir, "home", ".config", "baton", "keys", "prod.age");
    expect(created).toBe(keyFile);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "home", ".config", "baton", "keys")).mode & 0o777).toBe(0o700);

    const armored = await encryptTo(pair.recipient, "from baton ✓");
    const ciphertext = join(dir, "by-baton.age");
    writeFileSync(ciphertext, armored);
    expect(execFileSync("age", ["-d", "-i", keyFile, ciphertext], { encoding: "utf8" })).toBe(
      "from baton ✓",
    );

    const byAge = execFileSync("age", ["-a", "-r", pair.recipient], {
      input: "from age ✓",
      encoding: "utf8",
    });
    expect(await decryptWith(pair.identity, byAge)).toBe("from age ✓");
  });

  it("reads a key `age-keygen` wrote, from BATON_AGE_KEY_FILE or BATON_AGE_KEY", async () => {
    const keyFile = join(dir, "keygen.txt");
    execFileSync("age-keygen", ["-o", keyFile], { stdio: "ignore" });
    const recipient = execFileSync("age-keygen", ["-y", keyFile], { encoding: "utf8" }).trim();
    expect((await readKeyPair("any", { BATON_AGE_KEY_FILE: keyFile }))?.recipient).toBe(recipient);
    const text = readFileSync(keyFile, "utf8");
    expect((await readKeyPair("any", { BATON_AGE_KEY: text }))?.recipient).toBe(recipient);
    await expect(readKeyPair("any", { BATON_AGE_KEY: "not a key" })).rejects.toThrow(
      "$BATON_AGE_KEY holds no X25519 age key",
    );
  });

  it("sets one entry per name with who and when; rotating keeps every value and the old key", async () => {
    const env = { BATON_AGE_KEY_FILE: join(dir, "rotate", "key.age") };
    const place = {
      environment: "prod",
      file: join(dir, "secrets", "prod.age.yaml"),
      shown: "secrets/prod.age.yaml",
    };
    const at = new Date("2026-12-08T04:00:00Z");
    await setSecret(place, "db-password", "hunter2-long", "Ann <ann@example.invalid>", at, env);
    await setSecret(place, "api-key", "k-123456", "Bob", at, env);
    const text = readFileSync(place.file, "utf8");
    expect(text).not.toContain("hunter2-long");
    expect(text.indexOf("api-key:")).toBeLessThan(text.indexOf("db-password:"));
    const file = parseSecretsFile(text, place.shown);
    expect(file.secrets["db-password"]).toMatchObject({
      changedBy: "Ann <ann@example.invalid>",
      changedAt: "2026-12-08T04:00:00.000Z",
    });
    expect(formatSecretsFile(file, "prod")).toBe(text);

    const before = await readKeyPair("prod", env);
    const rotated = await rotateKey(place, new Date("2026-12-08T05:00:00Z"), env);
    expect(rotated.count).toBe(2);
    expect(rotated.kept).toBe(`${env.BATON_AGE_KEY_FILE}.old-20261208T050000Z`);
    const after = await readKeyPair("prod", env);
    expect(after?.recipient).not.toBe(before?.recipient);
    const now = readSecrets(place);
    expect(now?.recipient).toBe(after?.recipient);
    expect(await decryptWith(after!.identity, now!.secrets["db-password"]!.value)).toBe(
      "hunter2-long",
    );
    // The old key still opens what was committed before the rotation.
    expect(await decryptWith(before!.identity, file.secrets["api-key"]!.value)).toBe("k-123456");
  });
});

describe("an email notifier's SMTP password from the secrets", () => {
  it("is empty in the definition's model and filled from the decrypted secret", async () => {
    const project = join(dir, "smtp");
    const env = { BATON_AGE_KEY_FILE: join(dir, "smtp-key.age") };
    const place = {
      environment: "default",
      file: join(project, "secrets", "default.age.yaml"),
      shown: "secrets/default.age.yaml",
    };
    await setSecret(place, "smtp-password", "pw-smtp-1", "Ann", new Date(), env);
    writeFileSync(
      join(project, "baton.yaml"),
      [
        "notifiers:",
        "  mail:",
        "    email:",
        "      smtp: '127.0.0.1:25'",
        "      from: b@x.invalid",
        "      to: o@x.invalid",
        "      username: baton",
        "      password: { secret: smtp-password }",
        "",
      ].join("\n"),
    );
    const definition = loadDefinition(join(project, "baton.yaml"));
    expect(definition.alerting?.notifiers.mail).toEqual({
      email: { smtp: "127.0.0.1:25", from: "b@x.invalid", to: ["o@x.invalid"], username: "baton" },
      secretFields: { "email.password": "smtp-password" },
    });
    const filled = withSecretValues(definition, await unsealSecrets(definition, env));
    const mail = filled.alerting?.notifiers.mail;
    expect(mail !== undefined && "email" in mail ? mail.email.password : undefined).toBe(
      "pw-smtp-1",
    );
  });
});
