import { describe, expect, it } from "vitest";
import type { UserResource } from "../../../../src/definition/host-model.js";
import { userModule } from "../../../../src/hosts/modules/user.js";
import { common, results } from "./fixtures.js";

const deploy: UserResource = {
  ...common,
  module: "user",
  name: "deploy",
  uid: 1500,
  group: "deploy",
  groups: ["sudo", "adm"],
  shell: "/bin/bash",
  home: "/home/deploy",
  system: false,
  state: "present",
};

const existing = "deploy:x:1500:1500::/home/deploy:/bin/bash\ndeploy\ndeploy adm sudo\n";

describe("user module", () => {
  it("is in state when every field given agrees (supplementary groups in any order)", () => {
    expect(userModule.diff(deploy, results({ account: existing }))).toEqual([]);
    const bare = {
      ...common,
      module: "user" as const,
      name: "deploy",
      system: false,
      state: "present" as const,
    };
    expect(userModule.diff(bare, results({ account: existing }))).toEqual([]);
  });

  it("missing: useradd with every field and a home", () => {
    const found = results({ account: [2, ""] });
    const changes = userModule.diff(deploy, found);
    expect(changes.map((change) => change.field)).toEqual([
      "state",
      "uid",
      "group",
      "groups",
      "shell",
      "home",
    ]);
    expect(userModule.apply(deploy, changes, found)).toEqual([
      {
        argv: [
          "useradd",
          "--create-home",
          "-u",
          "1500",
          "-g",
          "deploy",
          "-G",
          "sudo,adm",
          "-s",
          "/bin/bash",
          "-d",
          "/home/deploy",
          "--",
          "deploy",
        ],
      },
    ]);
    const system = { ...deploy, system: true, uid: undefined, groups: undefined, home: undefined };
    expect(userModule.apply(system, userModule.diff(system, found), found)[0]!.argv).toEqual([
      "useradd",
      "--system",
      "-g",
      "deploy",
      "-s",
      "/bin/bash",
      "--",
      "deploy",
    ]);
  });

  it("each field that differs, and only it, goes to usermod", () => {
    const cases: [string, string, string[]][] = [
      [
        "deploy:x:1400:1500::/home/deploy:/bin/bash\ndeploy\ndeploy adm sudo\n",
        "uid",
        ["-u", "1500"],
      ],
      [
        "deploy:x:1500:100::/home/deploy:/bin/bash\nusers\nusers adm sudo\n",
        "group",
        ["-g", "deploy"],
      ],
      [
        "deploy:x:1500:1500::/home/deploy:/bin/bash\ndeploy\ndeploy adm\n",
        "groups",
        ["-G", "sudo,adm"],
      ],
      [
        "deploy:x:1500:1500::/home/deploy:/bin/sh\ndeploy\ndeploy adm sudo\n",
        "shell",
        ["-s", "/bin/bash"],
      ],
      [
        "deploy:x:1500:1500::/srv/deploy:/bin/bash\ndeploy\ndeploy adm sudo\n",
        "home",
        ["-d", "/home/deploy"],
      ],
    ];
    for (const [account, field, options] of cases) {
      const found = results({ account });
      const changes = userModule.diff(deploy, found);
      expect(changes.map((change) => change.field)).toEqual([field]);
      expect(userModule.apply(deploy, changes, found)).toEqual([
        { argv: ["usermod", ...options, "--", "deploy"] },
      ]);
    }
  });

  it("no supplementary groups at all: usermod -G ''", () => {
    const none = { ...deploy, groups: [] };
    const changes = userModule.diff(none, results({ account: existing }));
    expect(changes).toEqual([{ field: "groups", from: "adm,sudo", to: "" }]);
    expect(userModule.apply(none, changes, new Map())[0]!.argv).toEqual([
      "usermod",
      "-G",
      "",
      "--",
      "deploy",
    ]);
  });

  it("a numeric primary group is compared with the gid", () => {
    expect(userModule.diff({ ...deploy, group: "1500" }, results({ account: existing }))).toEqual(
      [],
    );
  });

  it("absent: userdel (the home stays)", () => {
    const gone = userModule.removal(deploy) as UserResource;
    expect(userModule.diff(gone, results({ account: [2, ""] }))).toEqual([]);
    const changes = userModule.diff(gone, results({ account: existing }));
    expect(changes).toEqual([{ field: "state", from: "present", to: "absent" }]);
    expect(userModule.apply(gone, changes, new Map())).toEqual([
      { argv: ["userdel", "--", "deploy"] },
    ]);
  });
});
