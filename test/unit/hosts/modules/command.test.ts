import { describe, expect, it } from "vitest";
import type { CommandResource } from "../../../../src/definition/host-model.js";
import { commandModule } from "../../../../src/hosts/modules/command.js";
import { common, results } from "./fixtures.js";

const migrate: CommandResource = {
  ...common,
  module: "command",
  name: "migrate",
  argv: ["/srv/app/migrate", "--to", "latest version"],
  handler: false,
};

describe("command module", () => {
  it("without guards it always runs", () => {
    expect(commandModule.probes(migrate)).toEqual([]);
    const changes = commandModule.diff(migrate, new Map());
    expect(changes).toEqual([
      { field: "run", from: null, to: "/srv/app/migrate --to 'latest version'" },
    ]);
    expect(commandModule.apply(migrate, changes, new Map())).toEqual([{ argv: migrate.argv }]);
  });

  it("its guards are probes, evaluated by the plan", () => {
    const guarded = {
      ...migrate,
      creates: "/srv/app/.migrated",
      unless: ["grep", "-q", "v2", "/srv/app/VERSION"],
      onlyIf: ["test", "-d", "/srv/app"],
    };
    expect(commandModule.probes(guarded)).toEqual([
      { id: "creates", argv: ["test", "-e", "/srv/app/.migrated"] },
      { id: "unless", argv: guarded.unless },
      { id: "onlyIf", argv: guarded.onlyIf },
    ]);
    const run = results({ creates: [1, ""], unless: [1, ""], onlyIf: [0, ""] });
    expect(commandModule.diff(guarded, run)).toHaveLength(1);
    expect(commandModule.note!(guarded, run)).toBeUndefined();

    const created = results({ creates: [0, ""], unless: [1, ""], onlyIf: [0, ""] });
    expect(commandModule.diff(guarded, created)).toEqual([]);
    expect(commandModule.note!(guarded, created)).toBe("skipped: /srv/app/.migrated exists");

    const unless = results({ creates: [1, ""], unless: [0, ""], onlyIf: [0, ""] });
    expect(commandModule.diff(guarded, unless)).toEqual([]);
    expect(commandModule.note!(guarded, unless)).toBe(
      "skipped: unless (grep -q v2 /srv/app/VERSION) succeeded",
    );

    const onlyIf = results({ creates: [1, ""], unless: [1, ""], onlyIf: [1, ""] });
    expect(commandModule.diff(guarded, onlyIf)).toEqual([]);
    expect(commandModule.note!(guarded, onlyIf)).toBe(
      "skipped: onlyIf (test -d /srv/app) failed with exit 1",
    );
  });

  it("a handler never runs by itself", () => {
    const reload = { ...migrate, handler: true, creates: "/x" };
    expect(commandModule.probes(reload)).toEqual([]);
    expect(commandModule.diff(reload, new Map())).toEqual([]);
    expect(commandModule.note!(reload, new Map())).toBe("handler: runs only when notified");
  });

  it("cannot be undone", () => {
    expect(commandModule.removal(migrate)).toBeUndefined();
  });
});
