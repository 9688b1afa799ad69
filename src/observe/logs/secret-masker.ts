const MASK = "***";

/**
 * Replaces every occurrence of the given secret values in a line. Values shorter than 4
 * characters are not masked: they would mask innocent text everywhere and hide nothing.
 * Longer values go first, so a secret that contains another is masked whole.
 */
export function secretMasker(values: Iterable<string>): (line: string) => string {
  const secrets = [...new Set(values)]
    .filter((v) => v.length >= 4)
    .sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return (line) => line;
  return (line) => {
    let out = line;
    for (const secret of secrets) {
      if (out.includes(secret)) out = out.split(secret).join(MASK);
    }
    return out;
  };
}
