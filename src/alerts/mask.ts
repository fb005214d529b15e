/**
 * Display forms of channel targets that never show a secret: a URL's path and query often
 * are the credential (Slack, Teams Workflows), so only the origin and the last 4 characters
 * are shown.
 */
export function maskUrl(raw: string): string {
  try {
    const url = new URL(raw);
    const rest = `${url.pathname}${url.search}`;
    return rest.length <= 1 ? url.origin : `${url.origin}/…${rest.slice(-4)}`;
  } catch {
    return '(invalid URL)';
  }
}

/** A secret as `whsec_…abcd`: enough to tell two apart, never enough to use. */
export function maskSecret(secret: string): string {
  const prefix = secret.startsWith('whsec_') ? 'whsec_' : '';
  return `${prefix}…${secret.slice(-4)}`;
}
