import { describe, expect, it } from "vitest";
import { type Diagnostic, parseDefinition, SpecError } from "../../../src/definition/index.js";

function yaml(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}

function refused(text: string): readonly Diagnostic[] {
  try {
    parseDefinition(text, "baton.yaml");
  } catch (error) {
    if (error instanceof SpecError) return error.diagnostics;
    throw error;
  }
  throw new Error("expected the definition to be refused");
}

function only(diagnostics: readonly Diagnostic[], code: string): Diagnostic {
  const found = diagnostics.filter((d) => d.code === code);
  expect(found, JSON.stringify(diagnostics, null, 2)).toHaveLength(1);
  return found[0] as Diagnostic;
}

const NOTIFIERS = ["notifiers:", "  ops: { webhook: https://example.invalid/hook/s3cret }"];

describe("alerts in a definition", () => {
  it("reads the issue's alert, notifier and alerting with defaults in ms", () => {
    const d = parseDefinition(
      yaml(
        "alerts:",
        "  - name: api-errors",
        '    expr: http_error_ratio{app="api"} > 0.05',
        "    for: 2m",
        "    severity: page",
        "    notify: [ops]",
        ...NOTIFIERS,
        "  mail: { email: { smtp: '127.0.0.1:25', from: b@x.invalid, to: o@x.invalid } }",
        "alerting: { notify: [mail], groupWait: 10s, disable: [drift] }",
      ),
      "baton.yaml",
    );
    expect(d.alerting?.rules).toEqual([
      {
        name: "api-errors",
        expr: 'http_error_ratio{app="api"} > 0.05',
        forMs: 120_000,
        severity: "page",
        notify: ["ops"],
        labels: {},
      },
    ]);
    expect(d.alerting?.notifiers.mail).toEqual({
      email: { smtp: "127.0.0.1:25", from: "b@x.invalid", to: ["o@x.invalid"] },
    });
    expect(d.alerting).toMatchObject({
      notify: ["mail"],
      groupWaitMs: 10_000,
      groupIntervalMs: 300_000,
      repeatIntervalMs: 4 * 3_600_000,
      evaluationIntervalMs: 15_000,
      builtIn: true,
      disable: ["drift"],
    });
  });

  it("places an expression's error at its column inside a plain scalar", () => {
    const d = only(
      refused(yaml("alerts:", "  - name: a", '    expr: http_error_ratio{app="api"} >> 0.05')),
      "spec.invalid_expr",
    );
    // `    expr: ` is 10 characters; the second `>` is the expression's 30th.
    expect([d.line, d.col, d.path]).toEqual([3, 40, "alerts[0].expr"]);
  });

  it("places it after the quote of a quoted scalar", () => {
    const d = only(
      refused(yaml("alerts:", "  - name: a", "    expr: 'rate(x[5m) > 1'")),
      "spec.invalid_expr",
    );
    expect([d.line, d.col]).toEqual([3, 25]);
    expect(d.hint).toMatch(/duration/);
  });

  it("shows a block scalar's expression as a whole", () => {
    const d = only(
      refused(yaml("alerts:", "  - name: a", "    expr: |", "      x >", "        > 1")),
      "spec.invalid_expr",
    );
    expect([d.line, d.col]).toEqual([3, 11]);
  });

  it("names an unknown notifier with a did-you-mean, in a rule and in alerting.notify", () => {
    const diagnostics = refused(
      yaml(
        "alerts:",
        "  - name: a",
        "    expr: x > 1",
        "    notify: [opz]",
        ...NOTIFIERS,
        "alerting: { notify: [pager] }",
      ),
    );
    const unknown = diagnostics.filter((d) => d.code === "spec.unknown_notifier");
    expect(unknown.map((d) => [d.path, d.line, d.col, d.hint])).toEqual([
      ["alerts[0].notify[0]", 4, 14, "did you mean ops?"],
      ["alerting.notify[0]", 7, 22, "the notifiers are ops"],
    ]);
  });

  it("refuses two alerts of one name at the second", () => {
    const d = only(
      refused(yaml("alerts:", "  - { name: a, expr: x > 1 }", "  - { name: a, expr: y > 1 }")),
      "spec.duplicate_alert",
    );
    expect([d.line, d.col, d.path]).toEqual([3, 13, "alerts[1].name"]);
  });

  it("refuses a notifier with no kind or two, without printing its URL", () => {
    const diagnostics = refused(
      yaml(
        "notifiers:",
        "  none: { timeout: 5s }",
        "  two: { webhook: https://example.invalid/s3cret, slack: https://hooks.invalid/s3cret }",
      ),
    );
    const kinds = diagnostics.filter((d) => d.code === "spec.notifier_kind");
    expect(kinds.map((d) => [d.path, d.line, d.col])).toEqual([
      ["notifiers.none", 2, 3],
      ["notifiers.two", 3, 3],
    ]);
    expect(JSON.stringify(diagnostics)).not.toContain("s3cret");
  });

  it("refuses a webhook that is not an http(s) URL without repeating it", () => {
    const d = only(
      refused(yaml("notifiers:", "  ops: { webhook: ftp://s3cret }")),
      "spec.invalid_url",
    );
    expect([d.line, d.col]).toEqual([2, 19]);
    expect(JSON.stringify(d)).not.toContain("s3cret");
  });

  it("names an unknown built-in rule in alerting.disable", () => {
    const d = only(refused(yaml("alerting: { disable: [drfit] }")), "spec.unknown_alert");
    expect([d.line, d.col, d.hint]).toEqual([1, 23, "did you mean drift?"]);
  });
});

describe("an email notifier's SMTP password", () => {
  it("is refused written in the definition", () => {
    const diagnostics = refused(
      yaml(
        "notifiers:",
        "  mail:",
        "    email: { smtp: '127.0.0.1:25', from: b@x.invalid, to: o@x.invalid, password: hunter2 }",
      ),
    );
    expect(JSON.stringify(diagnostics)).not.toContain("hunter2");
    expect(diagnostics.map((d) => d.path)).toContain("notifiers.mail.email.password");
  });

  it("needs a username with it", () => {
    const d = only(
      refused(
        yaml(
          "notifiers:",
          "  mail:",
          "    email: { smtp: '127.0.0.1:25', from: b@x.invalid, to: o@x.invalid, username: baton }",
        ),
      ),
      "spec.missing_field",
    );
    expect(d.message).toBe("notifiers.mail.email has username and no password: AUTH needs both");
  });
});
