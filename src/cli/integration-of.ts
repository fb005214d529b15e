import type { AppContext } from '../app/context.ts';

/** The integration a command is about: the named one (id or name), else the only one there is. */
export async function integrationOf(app: AppContext, name: string | undefined): Promise<string> {
  if (name) {
    const one = await app.integrations.get(name);
    if (!one) throw new Error(`no integration "${name}"`);
    return one.id;
  }
  const all = await app.integrations.list();
  if (all.length === 1) return all[0].id;
  throw new Error(
    all.length === 0
      ? 'no integration: add one with `drivewarden integrations add`'
      : `${all.length} integrations: name one with --integration`,
  );
}
