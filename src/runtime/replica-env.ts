/**
 * What a process replica gets of the controller's environment: PATH, HOME, LANG and TZ, and
 * only what its app asks for besides (`inheritEnv:`). The rest — SSH_AUTH_SOCK, which reaches
 * every managed host, API tokens, cloud keys — stays the controller's. Containers get none
 * of it (docker-driver.ts).
 */

/** Variables every process replica gets from the controller, as a login session would. */
export const ALWAYS_INHERITED = ["PATH", "HOME", "LANG", "TZ"] as const;

export function inheritedEnv(
  controller: Readonly<Record<string, string>>,
  inherit: true | readonly string[] | undefined,
): Record<string, string> {
  if (inherit === true) return { ...controller };
  const env: Record<string, string> = {};
  for (const name of [...ALWAYS_INHERITED, ...(inherit ?? [])]) {
    const value = controller[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
