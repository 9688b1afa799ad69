// biome-ignore-all lint/suspicious/noTemplateCurlyInString: definitions under test contain literal `${NAME}` text
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadDefinition, parseDefinition, SpecError } from "../../../src/definition/index.js";

const fixtures = fileURLToPath(new URL("../../fixtures/definition/", import.meta.url));

/** The lines of a definition, joined: keeps each test's YAML readable with its line numbers. */
function yaml(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}

/** What the user sees (colour off) when `text` is refused. */
function refusal(text: string, file = "baton.yaml"): string {
  return specError(() => parseDefinition(text, file)).format({ color: false });
}

function specError(load: () => unknown): SpecError {
  try {
    load();
  } catch (error) {
    if (error instanceof SpecError) return error;
    throw error;
  }
  throw new Error("expected the definition to be refused");
}

describe("a definition with a wrong type", () => {
  it("names the field, what it must be and what was found, underlines it and hints the fix", () => {
    const text = yaml(
      "# The shop: a web front and an API.",
      "project: shop",
      "",
      "apps:",
      "  api:",
      '    command: ["node", "api.js"]',
      "    port: 8081",
      "",
      "  web:",
      "    # Served by busybox in development.",
      '    command: ["busybox", "httpd", "-f", "-p", "${PORT}"]',
      "    port: 8080",
      "    protocol: http",
      '    replicas: "three"',
    );
    expect(refusal(text)).toBe(
      [
        'error[spec.invalid_type] apps.web.replicas must be a whole number ≥ 0, found the string "three"',
        "  --> baton.yaml:14:15",
        "   |",
        '14 |     replicas: "three"',
        "   |               ^^^^^^^",
        "  hint: write `replicas: 3`",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("suggests the number without quotes when a number was quoted", () => {
    const text = yaml("apps:", "  web:", "    command: node server.js", '    port: "8080"');
    expect(refusal(text)).toBe(
      [
        'error[spec.invalid_type] apps.web.port must be a port number from 1 to 65535, found the string "8080"',
        " --> baton.yaml:4:11",
        "  |",
        '4 |     port: "8080"',
        "  |           ^^^^^^",
        " hint: write `port: 8080`",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("points at the item of a list that has the wrong type", () => {
    const text = yaml("apps:", "  web:", '    command: ["node", null]');
    expect(refusal(text)).toBe(
      [
        "error[spec.invalid_type] apps.web.command[1] must be a string, found no value",
        " --> baton.yaml:3:23",
        "  |",
        '3 |     command: ["node", null]',
        "  |                       ^^^^",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("says what a whole file that is not a mapping must hold", () => {
    expect(refusal(yaml("- web", "- api"))).toBe(
      [
        "error[spec.invalid_type] baton.yaml must hold a mapping with keys such as `project` and `apps`, found a list",
        " --> baton.yaml:1:1",
        "  |",
        "1 | - web",
        "  | ^^^^^",
        " hint: start the file with `apps:` and the apps indented below it",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });
});

describe("a definition with an unknown key", () => {
  it("lists the valid keys and suggests the closest one", () => {
    const text = yaml("apps:", "  web:", "    command: node server.js", "    replica: 3");
    expect(refusal(text)).toBe(
      [
        "error[spec.unknown_key] apps.web.replica is not a valid key; valid keys in apps.web are command, entrypoint, cwd, ignore, env, replicas, dependsOn, port, listen, protocol, health, restart, stopGrace, logs, update, runtime, image, containerPort, resources, user, group, envFile, inheritEnv, writableRootfs, capabilities, volumes, publish, build, allowPrivileged and files",
        " --> baton.yaml:4:5",
        "  |",
        "4 |     replica: 3",
        "  |     ^^^^^^^",
        " hint: did you mean `replicas`?",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("finds the key meant despite a different case or separator", () => {
    const text = yaml("apps:", "  web:", "    command: x", "    restart: { max_backoff: 1m }");
    expect(refusal(text)).toContain("hint: did you mean `maxBackoff`?");
  });

  it("at the top level, mentions that x- keys are free for anchors when nothing is close", () => {
    const text = yaml("servers:", "  - db1", "apps: {}");
    expect(refusal(text)).toBe(
      [
        "error[spec.unknown_key] servers is not a valid key; valid keys at the top level are project, apps, environments, hosts, ssh, configure, roles, parity, pipelines, alerts, notifiers, alerting, metrics and registry",
        " --> baton.yaml:1:1",
        "  |",
        "1 | servers:",
        "  | ^^^^^^^",
        " hint: top-level keys starting with `x-` are ignored (for YAML anchors)",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });
});

describe("a definition with a missing field", () => {
  it("points at the app that lacks a command and shows one", () => {
    const text = yaml("apps:", "  web:", "    replicas: 2");
    expect(refusal(text)).toBe(
      [
        "error[spec.missing_field] apps.web.command is required",
        " --> baton.yaml:2:3",
        "  |",
        "2 |   web:",
        "  |   ^^^",
        ' hint: add `command: ["node", "server.js"]` under `web:`',
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("refuses an empty command", () => {
    const text = yaml("apps:", "  web:", "    command: []");
    expect(refusal(text)).toBe(
      [
        "error[spec.invalid_value] apps.web.command must be a non-empty list of arguments, found an empty list",
        " --> baton.yaml:3:14",
        "  |",
        "3 |     command: []",
        "  |              ^^",
        ' hint: write `command: ["node", "server.js"]`',
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("refuses an app with no settings at all", () => {
    const text = yaml("apps:", "  web:");
    expect(refusal(text)).toBe(
      [
        "error[spec.invalid_type] apps.web must be a mapping of app settings, found no value",
        " --> baton.yaml:2:3",
        "  |",
        "2 |   web:",
        "  |   ^^^",
        ' hint: write `web: { command: ["node", "server.js"] }`',
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });
});

describe("a definition with a bad duration", () => {
  it("refuses a bare number and suggests the unit", () => {
    const text = yaml("apps:", "  web:", "    command: x", "    stopGrace: 10");
    expect(refusal(text)).toBe(
      [
        "error[spec.invalid_type] apps.web.stopGrace must be a duration such as 500ms, 10s or 1m30s, found the number 10",
        " --> baton.yaml:4:16",
        "  |",
        "4 |     stopGrace: 10",
        "  |                ^^",
        " hint: write `stopGrace: 10s`",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("rewrites a spelled-out unit", () => {
    const text = yaml("apps:", "  web:", "    command: x", "    restart: { backoff: 2 seconds }");
    expect(refusal(text)).toBe(
      [
        'error[spec.invalid_value] apps.web.restart.backoff must be a duration such as 500ms, 10s or 1m30s, found the string "2 seconds"',
        " --> baton.yaml:4:25",
        "  |",
        "4 |     restart: { backoff: 2 seconds }",
        "  |                         ^^^^^^^^^",
        " hint: write `backoff: 2s`",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("refuses a maxBackoff shorter than the backoff", () => {
    const text = yaml(
      "apps:",
      "  web:",
      "    command: x",
      "    restart: { backoff: 5s, maxBackoff: 1s }",
    );
    expect(refusal(text)).toBe(
      [
        'error[spec.invalid_value] apps.web.restart.maxBackoff must be at least backoff (5s), found the string "1s"',
        " --> baton.yaml:4:41",
        "  |",
        "4 |     restart: { backoff: 5s, maxBackoff: 1s }",
        "  |                                         ^^",
        " hint: maxBackoff caps a delay that starts at backoff and grows; raise it or lower backoff",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("refuses a backoff longer than the default maxBackoff", () => {
    const text = yaml("apps:", "  web:", "    command: x", "    restart: { backoff: 1m }");
    expect(refusal(text)).toContain(
      'error[spec.invalid_value] apps.web.restart.backoff must be at most maxBackoff (30s by default), found the string "1m"',
    );
  });
});

describe("a definition with a bad size", () => {
  it("says what a size looks like and rewrites the unit", () => {
    const text = yaml("apps:", "  web:", "    command: x", "    logs: { maxSize: 10 mb }");
    expect(refusal(text)).toBe(
      [
        'error[spec.invalid_value] apps.web.logs.maxSize must be a size such as 512k, 10Mi or 1G, found the string "10 mb"',
        " --> baton.yaml:4:22",
        "  |",
        "4 |     logs: { maxSize: 10 mb }",
        "  |                      ^^^^^",
        " hint: write `maxSize: 10M`",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });
});

describe("a definition where two apps share a port", () => {
  it("reports the second app and names the first", () => {
    const text = yaml(
      "apps:",
      "  web:",
      "    command: x",
      "    port: 8080",
      "  admin:",
      "    command: y",
      "    port: 8080",
    );
    expect(refusal(text)).toBe(
      [
        "error[spec.port_conflict] apps.admin.port 8080 is already the port of app `web` (line 4)",
        " --> baton.yaml:7:11",
        "  |",
        "7 |     port: 8080",
        "  |           ^^^^",
        " hint: the proxy serves one app per port; give this app another port",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });
});

describe("a definition whose cwd is not a directory", () => {
  it("reports a cwd that does not exist, with where it was looked for", () => {
    const file = join(fixtures, "missing-cwd", "baton.yaml");
    const shown = relative(process.cwd(), file);
    expect(specError(() => loadDefinition(file)).format({ color: false })).toBe(
      [
        "error[spec.cwd_missing] apps.web.cwd `./site` does not exist",
        ` --> ${shown}:4:10`,
        "  |",
        "4 |     cwd: ./site",
        "  |          ^^^^^^",
        ` hint: create the directory or fix the path; it resolves to ${join(fixtures, "missing-cwd", "site")} (relative to the folder of baton.yaml)`,
        "",
        `1 error in ${shown}; nothing was applied`,
      ].join("\n"),
    );
  });

  it("reports a cwd that is a file", () => {
    const file = join(fixtures, "cwd-not-directory", "baton.yaml");
    const error = specError(() => loadDefinition(file));
    expect(error.diagnostics.map((d) => [d.code, d.message, d.line, d.col])).toEqual([
      ["spec.cwd_not_directory", "apps.web.cwd `./server.js` is not a directory", 4, 10],
    ]);
  });
});

describe("a definition with YAML syntax errors", () => {
  it("explains a tab used for indentation", () => {
    const text = yaml("apps:", "  web:", '\tcommand: ["node", "server.js"]');
    expect(refusal(text)).toBe(
      [
        "error[spec.tab_indent] line 3 is indented with a tab",
        " --> baton.yaml:3:1",
        "  |",
        // Tabs are shown as 4 spaces, so that the caret stays under what it marks.
        '3 |     command: ["node", "server.js"]',
        "  | ^^^^",
        " hint: YAML forbids tabs for indentation; indent with spaces",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("points an unclosed quote at where the string opens, not at the end of the file", () => {
    const text = yaml("apps:", "  web:", '    command: "node server.js', "    replicas: 2");
    expect(refusal(text)).toBe(
      [
        "error[spec.yaml_syntax] this double-quoted string is never closed",
        " --> baton.yaml:3:14",
        "  |",
        '3 |     command: "node server.js',
        "  |              ^^^^^^^^^^^^^^^",
        ' hint: add the closing `"`; without it YAML reads the rest of the file as part of the string',
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("names a duplicate key and the line where it was first set", () => {
    const text = yaml("apps:", "  web:", "    command: x", "    replicas: 1", "    replicas: 2");
    expect(refusal(text)).toBe(
      [
        "error[spec.duplicate_key] apps.web.replicas is set twice; it was first set on line 4",
        " --> baton.yaml:5:5",
        "  |",
        "5 |     replicas: 2",
        "  |     ^^^^^^^^",
        " hint: YAML keys must be unique in a mapping; keep only one",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("points at a key that is out of line with the keys above it", () => {
    const text = yaml("apps:", "  web:", "    command: x", "   replicas: 2");
    expect(refusal(text)).toBe(
      [
        "error[spec.yaml_syntax] `replicas` is not aligned with the keys above it",
        " --> baton.yaml:4:4",
        "  |",
        "4 |    replicas: 2",
        "  |    ^^^^^^^^",
        " hint: keys of one mapping must start at the same column; indent with spaces to match them",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("names a key indented deeper than the keys above it", () => {
    const text = yaml("apps:", "  web:", "    command: x", "      replicas: 2");
    expect(refusal(text)).toBe(
      [
        "error[spec.yaml_syntax] `replicas` is indented more than the keys above it",
        " --> baton.yaml:4:7",
        "  |",
        "4 |       replicas: 2",
        "  |       ^^^^^^^^",
        " hint: keys of one mapping must start at the same column; YAML reads this line as part of the value above",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("points an unclosed [ at where it opens", () => {
    const text = yaml("apps:", "  web:", "    command: [node, server.js", "    replicas: 2");
    expect(refusal(text)).toBe(
      [
        "error[spec.yaml_syntax] this `[` is never closed with `]`",
        " --> baton.yaml:3:14",
        "  |",
        "3 |     command: [node, server.js",
        "  |              ^^^^^^^^^^^^^^^^",
        " hint: add the `]`; a `[…]` that continues on the next line must be indented more than its key",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("refuses a second YAML document", () => {
    expect(refusal(yaml("apps: {}", "---", "project: x"))).toContain(
      "error[spec.yaml_syntax] the file holds more than one YAML document (a `---` line starts another)",
    );
  });

  it("reports an alias to an anchor that does not exist", () => {
    const text = yaml("apps:", "  web: *base");
    expect(refusal(text)).toContain(
      "error[spec.yaml_syntax] `*base` refers to an anchor that is not defined above it",
    );
  });
});

describe("an empty definition", () => {
  it("is refused with a hint to write a starter", () => {
    expect(refusal("")).toBe(
      [
        "error[spec.empty_file] baton.yaml is empty",
        "  --> baton.yaml",
        "  hint: declare your apps under `apps:`, or run `baton init` to write a starter definition",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("is refused when it holds only comments", () => {
    expect(refusal("# nothing yet\n\n")).toContain(
      "error[spec.empty_file] baton.yaml defines nothing",
    );
  });
});

describe("a missing definition file", () => {
  it("is refused with a hint to run baton init", () => {
    const file = join(fixtures, "no-such-project", "baton.yaml");
    const shown = relative(process.cwd(), file);
    const error = specError(() => loadDefinition(file));
    expect(error.format({ color: false })).toBe(
      [
        `error[spec.file_not_found] ${shown} does not exist`,
        `  --> ${shown}`,
        "  hint: `baton init` writes a starter definition",
        "",
        `1 error in ${shown}; nothing was applied`,
      ].join("\n"),
    );
  });
});

describe("a definition with several errors", () => {
  it("reports them all, in file order, with their line numbers", () => {
    const text = yaml(
      "apps:",
      "  web:",
      "    command: node server.js",
      "    replicas: -1",
      "    stopGrace: 10",
      "  api:",
      "    comand: node api.js",
      "    protocol: udp",
    );
    expect(refusal(text)).toBe(
      [
        "error[spec.invalid_value] apps.web.replicas must be a whole number ≥ 0, found the number -1",
        " --> baton.yaml:4:15",
        "  |",
        "4 |     replicas: -1",
        "  |               ^^",
        " hint: write `replicas: 3`",
        "",
        "error[spec.invalid_type] apps.web.stopGrace must be a duration such as 500ms, 10s or 1m30s, found the number 10",
        " --> baton.yaml:5:16",
        "  |",
        "5 |     stopGrace: 10",
        "  |                ^^",
        " hint: write `stopGrace: 10s`",
        "",
        "error[spec.missing_field] apps.api.command is required",
        " --> baton.yaml:6:3",
        "  |",
        "6 |   api:",
        "  |   ^^^",
        ' hint: add `command: ["node", "server.js"]` under `api:`',
        "",
        "error[spec.unknown_key] apps.api.comand is not a valid key; valid keys in apps.api are command, entrypoint, cwd, ignore, env, replicas, dependsOn, port, listen, protocol, health, restart, stopGrace, logs, update, runtime, image, containerPort, resources, user, group, envFile, inheritEnv, writableRootfs, capabilities, volumes, publish, build, allowPrivileged and files",
        " --> baton.yaml:7:5",
        "  |",
        "7 |     comand: node api.js",
        "  |     ^^^^^^",
        " hint: did you mean `command`?",
        "",
        'error[spec.invalid_value] apps.api.protocol must be `http` or `tcp`, found the string "udp"',
        " --> baton.yaml:8:15",
        "  |",
        "8 |     protocol: udp",
        "  |               ^^^",
        " hint: write `protocol: http`",
        "",
        "5 errors in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("reports every tab-indented line, not only the first", () => {
    const error = specError(() => parseDefinition("apps:\n\tweb:\n\t\tcommand: x\n", "baton.yaml"));
    expect(error.diagnostics.map((d) => [d.code, d.line])).toEqual([
      ["spec.tab_indent", 2],
      ["spec.tab_indent", 3],
    ]);
  });

  it("keeps checking other apps when one app has a schema error", () => {
    const text = yaml(
      "apps:",
      "  web:",
      "    replicas: x",
      "  api:",
      "    command: y",
      "    cwd: ./nowhere",
    );
    const error = specError(() => parseDefinition(text, "baton.yaml"));
    expect(error.diagnostics.map((d) => d.code)).toEqual([
      "spec.missing_field",
      "spec.invalid_type",
      "spec.cwd_missing",
    ]);
  });
});

describe("a probe", () => {
  it("with two kinds is refused at the second", () => {
    const text = yaml(
      "apps:",
      "  web:",
      "    command: x",
      "    health:",
      "      readiness: { http: /healthz, tcp: true }",
    );
    expect(refusal(text)).toBe(
      [
        "error[spec.conflicting_keys] apps.web.health.readiness has both `http` and `tcp`; a probe checks one way",
        " --> baton.yaml:5:36",
        "  |",
        "5 |       readiness: { http: /healthz, tcp: true }",
        "  |                                    ^^^",
        " hint: keep only one of `http` or `tcp`",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("with no kind is refused at its key", () => {
    const text = yaml(
      "apps:",
      "  web:",
      "    command: x",
      "    health:",
      "      liveness: { interval: 5s }",
    );
    expect(refusal(text)).toBe(
      [
        "error[spec.missing_field] apps.web.health.liveness needs one of `http`, `tcp` or `exec`",
        " --> baton.yaml:5:7",
        "  |",
        "5 |       liveness: { interval: 5s }",
        "  |       ^^^^^^^^",
        " hint: add how to check, e.g. `liveness: { http: /healthz }`",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("with an http path lacking its slash gets the path with one", () => {
    const text = yaml(
      "apps:",
      "  web:",
      "    command: x",
      "    health: { readiness: { http: healthz } }",
    );
    expect(refusal(text)).toContain(" hint: write `http: /healthz`");
  });
});

describe("names", () => {
  it("of apps must be DNS-like, with a suggested rename", () => {
    const text = yaml("apps:", "  Web_Front:", "    command: x");
    expect(refusal(text)).toBe(
      [
        "error[spec.invalid_name] apps.Web_Front is not a valid app name: use lowercase letters, digits and -, starting with a letter, at most 63 characters",
        " --> baton.yaml:2:3",
        "  |",
        "2 |   Web_Front:",
        "  |   ^^^^^^^^^",
        " hint: rename it `web-front`; app names become process and DNS names",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("of environment variables must be shell names", () => {
    const text = yaml("apps:", "  web:", "    command: x", "    env: { 1DAY: x }");
    expect(refusal(text)).toContain(
      'error[spec.invalid_name] apps.web.env["1DAY"] is not a valid variable name',
    );
  });
});

describe("variables in an argv command", () => {
  it("must be well-formed ${NAME}", () => {
    const text = yaml("apps:", "  web:", '    command: ["httpd", "-p", "${PORT"]');
    expect(refusal(text)).toBe(
      [
        "error[spec.invalid_variable] apps.web.command[2]: `${PORT` opens `${` without a closing `}`",
        " --> baton.yaml:3:30",
        "  |",
        '3 |     command: ["httpd", "-p", "${PORT"]',
        "  |                              ^^^^^^^^",
        " hint: write `${NAME}`; `$$` is a literal $",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("leave a bare $NAME to the shell or program that reads it", () => {
    const text = yaml("apps:", "  web:", '    command: ["sh", "-c", "exec httpd -f -p $PORT"]');
    expect(parseDefinition(text, "baton.yaml").apps.web?.command).toEqual({
      argv: ["sh", "-c", "exec httpd -f -p $PORT"],
    });
  });

  it("may not use shell syntax in ${…}, which Baton would otherwise misread", () => {
    const text = yaml("apps:", "  web:", '    command: ["sh", "-c", "echo ${PORT%%0}"]');
    expect(refusal(text)).toContain(
      "error[spec.invalid_variable] apps.web.command[2]: `${PORT%%0}` is shell syntax that Baton does not expand",
    );
    expect(refusal(text)).toContain("write `$${PORT%%0}` to leave it to a shell");
  });

  it("are not checked in a shell command, where the shell expands them", () => {
    const text = yaml("apps:", "  web:", '    command: "httpd -p $PORT"');
    expect(parseDefinition(text, "baton.yaml").apps.web?.command).toEqual({
      shell: "httpd -p $PORT",
    });
  });
});

describe("the error", () => {
  const text = yaml("apps:", "  web:", "    command: x", "    replicas: -1");

  it("is coloured only when asked", () => {
    const error = specError(() => parseDefinition(text, "baton.yaml"));
    expect(error.format({ color: false })).not.toContain("\u001b[");
    const coloured = error.format({ color: true });
    expect(coloured).toContain("\u001b[1;31merror[spec.invalid_value]\u001b[0m");
    expect(coloured).toContain("\u001b[1;36m-->\u001b[0m baton.yaml:4:15");
  });

  it("shows no excerpt when the source is not known, and the given source when passed", () => {
    const error = new SpecError(specError(() => parseDefinition(text, "baton.yaml")).diagnostics);
    expect(error.format({ color: false })).not.toContain("4 |");
    expect(error.format({ color: false, source: text })).toContain("4 |     replicas: -1");
  });

  it("serialises to the API's error body, with stable codes and positions", () => {
    const error = specError(() => parseDefinition(text, "baton.yaml"));
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: "spec.invalid",
      message: error.format({ color: false }),
      diagnostics: [
        {
          code: "spec.invalid_value",
          message: "apps.web.replicas must be a whole number ≥ 0, found the number -1",
          file: "baton.yaml",
          line: 4,
          col: 15,
          length: 2,
          path: "apps.web.replicas",
          expected: "a whole number ≥ 0",
          found: "the number -1",
          hint: "write `replicas: 3`",
        },
      ],
    });
  });

  it("carries the whole report as its message, for when it is not caught", () => {
    const error = specError(() => parseDefinition(text, "baton.yaml"));
    expect(error.message).toBe(error.format({ color: false }));
  });
});

describe("a rollout policy", () => {
  it("with no room to move (maxSurge and maxUnavailable both 0) is refused", () => {
    const text = yaml(
      "apps:",
      "  web:",
      "    command: x",
      "    update: { maxSurge: 0, maxUnavailable: 0% }",
    );
    expect(refusal(text)).toBe(
      [
        "error[spec.invalid_value] apps.web.update: maxSurge and maxUnavailable are both 0, so a rollout could neither add a new replica nor take an old one away",
        " --> baton.yaml:4:44",
        "  |",
        "4 |     update: { maxSurge: 0, maxUnavailable: 0% }",
        "  |                                            ^^",
        " hint: allow one extra replica during rollouts with `maxSurge: 1` (or let one be unavailable with `maxUnavailable: 1`)",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("with a budget that is neither a count nor a percentage is refused", () => {
    const text = yaml("apps:", "  web:", "    command: x", "    update: { maxSurge: lots }");
    expect(refusal(text)).toMatch(
      /apps\.web\.update\.maxSurge must be a whole number ≥ 0 or a percentage such as 25%, found the string "lots"/,
    );
  });

  it("with `strategy: recreate` and a rolling budget is refused: the budget would do nothing", () => {
    const text = yaml(
      "apps:",
      "  db:",
      "    command: x",
      "    update: { strategy: recreate, maxSurge: 1 }",
    );
    expect(refusal(text)).toBe(
      [
        "error[spec.invalid_value] apps.db.update.maxSurge applies to rolling updates, but apps.db.update.strategy is recreate",
        " --> baton.yaml:4:35",
        "  |",
        "4 |     update: { strategy: recreate, maxSurge: 1 }",
        "  |                                   ^^^^^^^^",
        " hint: remove `maxSurge`: recreate stops every old replica before it starts a new one (in an environment's overrides, `maxSurge: null` removes it)",
        "",
        "1 error in baton.yaml; nothing was applied",
      ].join("\n"),
    );
  });

  it("with an unknown strategy is refused, naming both", () => {
    const text = yaml("apps:", "  db:", "    command: x", "    update: { strategy: stop-first }");
    expect(refusal(text)).toMatch(
      /apps\.db\.update\.strategy must be `rolling` or `recreate`, found the string "stop-first"/,
    );
  });

  it("with a negated ignore pattern is refused", () => {
    const text = yaml("apps:", "  web:", "    command: x", '    ignore: ["*.log", "!keep.log"]');
    expect(refusal(text)).toMatch(
      /apps\.web\.ignore\[1\]: negated patterns \(`!keep\.log`\) are not supported/,
    );
  });
});

describe("a container app", () => {
  it("without an image is refused", () => {
    const text = yaml("apps:", "  web:", "    command: x", "    runtime: docker");
    expect(refusal(text)).toMatch(
      /apps\.web runs as containers \(runtime: docker\) but has no `image`[\s\S]*hint: add `image: NAME:TAG`/,
    );
  });

  it("settings on a process app are refused, with the key that would make them count", () => {
    const text = yaml("apps:", "  web:", "    command: x", "    volumes: [data:/data]");
    expect(refusal(text)).toMatch(
      /apps\.web\.volumes applies to containers, but apps\.web runs as processes[\s\S]*hint: add `runtime: docker`/,
    );
  });
});
