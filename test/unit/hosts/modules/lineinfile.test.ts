import { describe, expect, it } from "vitest";
import type { LineInFileResource } from "../../../../src/definition/host-model.js";
import { editLines, lineInFileModule } from "../../../../src/hosts/modules/lineinfile.js";
import { WRITE_SCRIPT } from "../../../../src/hosts/modules/path-state.js";
import { common, results, stat } from "./fixtures.js";

const rootLogin: LineInFileResource = {
  ...common,
  module: "lineinfile",
  path: "/etc/ssh/sshd_config",
  line: "PermitRootLogin no",
  regexp: "^#?PermitRootLogin",
  state: "present",
};

function found(content: string) {
  return results({ state: `${stat("600")}\n${Buffer.from(content).toString("base64")}\n` });
}

describe("editLines", () => {
  it("replaces the last line the regexp matches", () => {
    const text = "#PermitRootLogin yes\nPort 22\nPermitRootLogin yes\n";
    expect(editLines(text, rootLogin)).toBe("#PermitRootLogin yes\nPort 22\nPermitRootLogin no\n");
  });

  it("appends when nothing matches, adding the newline the file lacked", () => {
    expect(editLines("Port 22", rootLogin)).toBe("Port 22\nPermitRootLogin no\n");
    expect(editLines("", rootLogin)).toBe("PermitRootLogin no\n");
  });

  it("without a regexp: the exact line, appended once", () => {
    const exact = { line: "a=1", state: "present" as const };
    expect(editLines("a=1\nb=2\n", exact)).toBe("a=1\nb=2\n");
    expect(editLines("b=2\n", exact)).toBe("b=2\na=1\n");
  });

  it("absent: every matching line goes, the rest stays as it was", () => {
    const gone = { ...rootLogin, state: "absent" as const };
    expect(editLines("PermitRootLogin yes\nPort 22\n#PermitRootLogin no", gone)).toBe("Port 22");
    expect(editLines("PermitRootLogin yes\n", gone)).toBe("");
  });

  it("an invalid regexp is an error that names it", () => {
    expect(() => editLines("x", { ...rootLogin, regexp: "(" })).toThrow(/regexp "\(" is invalid/);
  });
});

describe("lineinfile module", () => {
  it("is in state when the line is there", () => {
    expect(lineInFileModule.diff(rootLogin, found("Port 22\nPermitRootLogin no\n"))).toEqual([]);
  });

  it("plans a unified diff and writes the file back atomically, keeping its mode and owner", () => {
    const host = found("Port 22\n#PermitRootLogin yes\n");
    const changes = lineInFileModule.diff(rootLogin, host);
    expect(changes).toHaveLength(1);
    expect(changes[0]!.diff).toBe(
      "--- /etc/ssh/sshd_config\n+++ /etc/ssh/sshd_config\n@@ -1,2 +1,2 @@\n Port 22\n-#PermitRootLogin yes\n+PermitRootLogin no\n",
    );
    expect(lineInFileModule.apply(rootLogin, changes, host)).toEqual([
      {
        argv: ["sh", "-c", WRITE_SCRIPT, "sh", "/etc/ssh/sshd_config", "0600", "0:0"],
        input: "Port 22\nPermitRootLogin no\n",
      },
    ]);
  });

  it("a missing file is created with the line (0644); absent and missing is in state", () => {
    const none = results({ state: "absent\n" });
    const changes = lineInFileModule.diff(rootLogin, none);
    expect(changes[0]!.from).toBeNull();
    expect(lineInFileModule.apply(rootLogin, changes, none)).toEqual([
      {
        argv: ["sh", "-c", WRITE_SCRIPT, "sh", "/etc/ssh/sshd_config", "0644", ""],
        input: "PermitRootLogin no\n",
      },
    ]);
    expect(lineInFileModule.diff({ ...rootLogin, state: "absent" }, none)).toEqual([]);
  });

  it("removal takes the line out", () => {
    const gone = lineInFileModule.removal(rootLogin) as LineInFileResource;
    expect(gone.state).toBe("absent");
    const host = found("PermitRootLogin no\nPort 22\n");
    const [step] = lineInFileModule.apply(gone, lineInFileModule.diff(gone, host), host);
    expect(step!.input).toBe("Port 22\n");
  });

  it("its identity is the path and what it matches", () => {
    expect(lineInFileModule.id(rootLogin)).toBe("/etc/ssh/sshd_config ^#?PermitRootLogin");
  });
});
