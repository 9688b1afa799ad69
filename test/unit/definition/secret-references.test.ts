import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseDefinition, SpecError } from "../../../src/definition/index.js";
import {
  encryptTo,
  formatSecretsFile,
  generateKeyPair,
} from "../../../src/security/secrets/index.js";

const dir = mkdtempSync(join(tmpdir(), "baton-secret-refs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function secretsFile(env: string, names: string[]): Promise<void> {
  const { recipient } = await generateKeyPair();
  const secrets: Record<string, { value: string; changedBy: string; changedAt: string }> = {};
  for (const name of names) {
    secrets[name] = { value: await encryptTo(recipient, "x"), changedBy: "t", changedAt: "t" };
  }
  mkdirSync(join(dir, "secrets"), { recursive: true });
  writeFileSync(
    join(dir, "secrets", `${env}.age.yaml`),
    formatSecretsFile({ recipient, secrets }, env),
  );
}

const TEXT = `apps:
  api:
    command: ["node", "server.js"]
    env: { DB_PASSWORD: { secret: db-password }, MODE: plain }
environments:
  dev: {}
  prod: {}
`;

function problems(environment?: string): string[] {
  try {
    parseDefinition(
      TEXT,
      join(dir, "baton.yaml"),
      environment === undefined ? {} : { environment },
    );
    return [];
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    return error.diagnostics.map((d) => `${d.code} ${d.line}:${d.col} ${d.message} | ${d.hint}`);
  }
}

describe("{ secret: NAME } references", () => {
  it("are checked against each environment's own secrets file, naming how to set them", async () => {
    await secretsFile("dev", ["db-password"]);
    await secretsFile("prod", ["db-pasword"]);
    expect(problems()).toEqual([
      `spec.unknown_secret 4:35 apps.api.env.DB_PASSWORD.secret names secret "db-password", which ${join(dir, "secrets", "prod.age.yaml")} does not hold (in environment prod) | did you mean \`db-pasword\`? Or set it: \`baton secret set db-password --env prod\` (the value is read from stdin)`,
    ]);
  });

  it("keep names in the model, never values, and the secrets' digest out of the definition", async () => {
    await secretsFile("prod", ["db-password"]);
    const definition = parseDefinition(TEXT, join(dir, "baton.yaml"), { environment: "prod" });
    const api = definition.apps.api!;
    expect(api.env).toEqual({ MODE: "plain" });
    expect(api.secretEnv).toEqual({ DB_PASSWORD: "db-password" });
    expect(api.secretDigests).toBeUndefined();
    expect(definition.secrets?.environment).toBe("prod");
    expect(Object.keys(definition.secrets?.content.secrets ?? {})).toEqual(["db-password"]);
  });
});
