import { afterEach, describe, expect, it } from "vitest";
import {
  Access,
  AccessError,
  createToken,
  onBehalfOf,
  parseExpiry,
  revokeToken,
} from "../../../src/security/tokens/index.js";
import { SqliteStore } from "../../../src/store/index.js";
import { tempStateDirs } from "../store/helpers.js";

const dirs = tempStateDirs();
const opened: SqliteStore[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  dirs.cleanup();
});

const BOOTSTRAP = "b".repeat(64);

function setup(clock: { now: number }) {
  const store = SqliteStore.open(dirs.make(), { create: true, now: () => clock.now });
  opened.push(store);
  return { store, access: new Access(store, BOOTSTRAP, () => clock.now) };
}

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof AccessError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("a request's token", () => {
  it("names the caller: the state directory's own is bootstrap, an admin", () => {
    const { access, store } = setup({ now: 1_000 });
    expect(access.identify(`Bearer ${BOOTSTRAP}`)).toEqual({
      name: "bootstrap",
      role: "admin",
      apps: null,
    });
    const { secret } = createToken(store, { name: "ann", role: "approver" }, "me", 1_000);
    expect(access.identify(`Bearer ${secret}`)).toMatchObject({ name: "ann", role: "approver" });
    expect(store.tokens.find("ann")?.lastUsed).toBe(1_000);
    // Only its hash is kept.
    expect(JSON.stringify(store.tokens.list())).not.toContain(secret);
  });

  it("is refused with 401 when missing, unknown, revoked or expired", () => {
    const clock = { now: 1_000 };
    const { access, store } = setup(clock);
    const { secret } = createToken(store, { name: "ann", role: "viewer" }, "me", clock.now);
    const brief = createToken(
      store,
      { name: "tmp", role: "viewer", expires: "1h" },
      "me",
      clock.now,
    ).secret;
    expect(refusal(() => access.identify(undefined)).code).toBe("api.unauthorized");
    expect(refusal(() => access.identify(`Bearer ${"c".repeat(64)}`)).message).toBe(
      "the bearer token is not one of this controller's tokens",
    );
    revokeToken(store, "ann");
    expect(refusal(() => access.identify(`Bearer ${secret}`)).message).toMatch(
      /^token ann was revoked at /,
    );
    clock.now += 3_600_000;
    expect(refusal(() => access.identify(`Bearer ${brief}`)).message).toBe(
      `token tmp expired at ${new Date(clock.now).toISOString()}`,
    );
  });

  it("is refused with 403 naming the role needed and the one it has", () => {
    const { access } = setup({ now: 1 });
    const vera = { name: "vera", role: "viewer", apps: null } as const;
    expect(access.authorize(vera, "GET", "/api/v1/status").rule?.role).toBe("viewer");
    const refused = refusal(() => access.authorize(vera, "POST", "/api/v1/apps/web/scale"));
    expect(refused).toEqual({
      code: "api.forbidden",
      message:
        "POST /api/v1/apps/web/scale needs the role deployer; token vera has the role viewer",
    });
    const promoter = { name: "p", role: "promoter", apps: ["web"] } as const;
    expect(access.authorize(promoter, "POST", "/api/v1/apps/web/deploy").app).toBe("web");
    expect(
      refusal(() => access.authorize(promoter, "POST", "/api/v1/apps/api/deploy")).message,
    ).toBe("token p may promote web, not api");
    expect(refusal(() => access.authorize(promoter, "GET", "/api/v1/secrets")).message).toContain(
      "needs the role admin; token p has the role promoter",
    );
  });

  it("records a promoter's account of whom it acts for after its name, anyone else's not at all", () => {
    const promoter = { name: "p", role: "promoter", apps: ["web"] } as const;
    expect(onBehalfOf(promoter, "pipeline web #2, approved by bob")).toBe(
      "p (pipeline web #2, approved by bob)",
    );
    expect(onBehalfOf({ name: "dan", role: "deployer", apps: null }, "mallory")).toBe("dan");
  });

  it("takes expiries in whole units", () => {
    expect(parseExpiry("90d")).toBe(90 * 86_400_000);
    expect(parseExpiry("30s")).toBe(30_000);
    expect(parseExpiry("0d")).toBeUndefined();
    expect(parseExpiry("1.5h")).toBeUndefined();
  });
});
