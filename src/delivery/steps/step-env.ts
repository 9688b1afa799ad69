/**
 * The controller's own variables that a step must not inherit: Baton's settings (the
 * caller passes the BATON_* a step is meant to see), the SSH agent that reaches the
 * managed hosts, and anything named like a credential. A step gets secrets only through
 * its definition's `env`.
 */
const WITHHELD =
  /^BATON_|^SSH_AUTH_SOCK$|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE_KEY|API_KEY|ACCESS_KEY/i;

/**
 * The environment of a step on this host: ours minus the withheld, then the identity it runs
 * as (HOME, USER, LOGNAME of the step's user), then caller's, then step's.
 */
export function hostStepEnv(
  inherited: NodeJS.ProcessEnv,
  callerEnv: Readonly<Record<string, string>>,
  stepEnv: Readonly<Record<string, string>>,
  identityEnv: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(inherited)) {
    if (value !== undefined && !WITHHELD.test(key)) env[key] = value;
  }
  return { ...env, ...identityEnv, ...callerEnv, ...stepEnv };
}

/** In a container the image's own environment is the base: nothing of ours is inherited. */
export function containerStepEnv(
  callerEnv: Readonly<Record<string, string>>,
  stepEnv: Readonly<Record<string, string>>,
): Record<string, string> {
  return { ...callerEnv, ...stepEnv };
}
