/**
 * Resource patterns of suppressions: `*` any run of characters except `/`, `**` any run
 * including `/`, `?` one character except `/`; everything else literal. Case-insensitive
 * (OneDrive paths are). `/Finance/**` = everything under /Finance.
 */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      out += '.*';
      i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 'i');
}

/** Whether any of the values matches the pattern. */
export function globMatchesAny(pattern: string, values: ReadonlyArray<string | null | undefined>): boolean {
  const re = globToRegExp(pattern);
  return values.some((v) => typeof v === 'string' && re.test(v));
}
