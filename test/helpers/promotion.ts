/**
 * The project the promotion tests share: one process app `web` (server.cjs, given by the
 * test), environments dev and prod (prod's state in `.baton-prod`, its own port) and a
 * pipeline `web` that is not polled, whose steps the test writes.
 */
export function promotionProject(o: {
  readonly name: string;
  readonly port: number;
  readonly prodPort: number;
  /** The pipeline's steps, as YAML lines indented for `steps:`. */
  readonly steps: readonly string[];
  /** The app's `update:` (a flow mapping), when the test wants one. */
  readonly update?: string;
}): string {
  return `project: ${o.name}
environments:
  dev: {}
  prod: { state: .baton-prod, overrides: { apps: { web: { port: ${o.prodPort} } } } }
apps:
  web:
    command: ["${process.execPath}", server.cjs]
    replicas: 1
    port: ${o.port}
    health:
      readiness: { http: /, interval: 200ms }
${o.update === undefined ? "" : `    update: ${o.update}\n`}pipelines:
  web:
    source: { repo: . }
    triggers: { poll: false }
    steps:
${o.steps.map((line) => `      ${line}`).join("\n")}
`;
}
