import { describe, expect, it } from "vitest";
import type { GroupResource } from "../../../../src/definition/host-model.js";
import { groupModule } from "../../../../src/hosts/modules/group.js";
import { common, results } from "./fixtures.js";

const web: GroupResource = {
  ...common,
  module: "group",
  name: "web",
  gid: 2001,
  system: false,
  state: "present",
};

describe("group module", () => {
  it("probes getent group", () => {
    expect(groupModule.probes(web)).toEqual([{ id: "entry", argv: ["getent", "group", "web"] }]);
  });

  it("is in state with the gid (or any gid when none is given)", () => {
    expect(groupModule.diff(web, results({ entry: "web:x:2001:alice\n" }))).toEqual([]);
    expect(groupModule.diff({ ...web, gid: undefined }, results({ entry: "web:x:7:\n" }))).toEqual(
      [],
    );
  });

  it("missing: groupadd; another gid: groupmod", () => {
    const missing = groupModule.diff(web, results({ entry: [2, ""] }));
    expect(missing).toEqual([
      { field: "state", from: "absent", to: "present" },
      { field: "gid", from: null, to: "2001" },
    ]);
    expect(groupModule.apply(web, missing, new Map())).toEqual([
      { argv: ["groupadd", "-g", "2001", "--", "web"] },
    ]);
    expect(groupModule.apply({ ...web, system: true, gid: undefined }, missing, new Map())).toEqual(
      [{ argv: ["groupadd", "--system", "--", "web"] }],
    );
    const other = groupModule.diff(web, results({ entry: "web:x:2002:\n" }));
    expect(other).toEqual([{ field: "gid", from: "2002", to: "2001" }]);
    expect(groupModule.apply(web, other, new Map())).toEqual([
      { argv: ["groupmod", "-g", "2001", "--", "web"] },
    ]);
  });

  it("absent: groupdel", () => {
    const gone = groupModule.removal(web) as GroupResource;
    expect(groupModule.diff(gone, results({ entry: [2, ""] }))).toEqual([]);
    const changes = groupModule.diff(gone, results({ entry: "web:x:2001:\n" }));
    const [step] = groupModule.apply(gone, changes, new Map());
    expect(step!.argv[2]).toContain('groupdel -- "$1"');
    expect(step!.argv.slice(3)).toEqual(["sh", "web"]);
  });
});
