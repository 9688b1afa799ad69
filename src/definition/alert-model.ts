/**
 * The alerting part of the definition as the controller uses it: durations in ms, defaults
 * filled in, built-in rules named. Notifier targets are secrets: only the alert service
 * reads them, to build its notifiers.
 */

export interface AlertRuleSpec {
  readonly name: string;
  readonly expr: string;
  readonly forMs: number;
  readonly severity: string;
  /** Absent: `alerting.notify`. */
  readonly notify?: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly summary?: string;
}

/** One receiver; the same shape observe/notify's notifierFromSpec takes. */
export type NotifierDefinition = {
  readonly timeoutMs?: number;
  /**
   * Fields written `{ secret: NAME }` (`webhook`, `slack`, `email.password`) → the secret's
   * name: the field is empty until the controller fills it with the decrypted value
   * (security/secrets).
   */
  readonly secretFields?: Readonly<Record<string, string>>;
} & (
  | { readonly webhook: string }
  | { readonly slack: string }
  | {
      readonly email: {
        readonly smtp: string;
        readonly from: string;
        readonly to: readonly string[];
        readonly username?: string;
        /** Filled in by the controller from `secretFields["email.password"]`. */
        readonly password?: string;
      };
    }
  | { readonly command: readonly string[] }
);

export interface AlertingSpec {
  readonly rules: readonly AlertRuleSpec[];
  readonly notifiers: Readonly<Record<string, NotifierDefinition>>;
  readonly notify: readonly string[];
  readonly groupWaitMs: number;
  readonly groupIntervalMs: number;
  readonly repeatIntervalMs: number;
  readonly evaluationIntervalMs: number;
  /** Built-in rules switched off (all of them when `builtIn: false`). */
  readonly builtIn: boolean;
  readonly disable: readonly string[];
}
