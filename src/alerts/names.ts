/** Names of channels and policies: what people type in the CLI. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkName(what: string, name: string): string {
  const trimmed = name.trim();
  if (!NAME.test(trimmed))
    throw new Error(`${what} name "${name}" must be 1-64 letters, digits, dots, dashes or underscores`);
  return trimmed;
}
