import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { createUser } from './principals.ts';

export interface FirstAdmin {
  username: string;
  /** The generated one-time password: print it once. Absent when the password was given. */
  oneTimePassword?: string;
}

/**
 * The first admin, when the store has no user yet: user `admin` with the given password
 * (`auth.adminPassword`, DW_ADMIN_PASSWORD) or a random one-time password returned for the
 * caller to print once. Either way it must be changed at first sign-in. Null when users exist.
 */
export async function ensureFirstAdmin(
  db: Kysely<Database>,
  options: { password?: string } = {},
): Promise<FirstAdmin | null> {
  const any = await db.selectFrom('app_users').select('id').limit(1).executeTakeFirst();
  if (any) return null;
  // 18 random bytes: 24 base64url characters, 144 bits.
  const oneTimePassword = options.password ? undefined : randomBytes(18).toString('base64url');
  try {
    await createUser(db, {
      username: 'admin',
      password: options.password ?? (oneTimePassword as string),
      role: 'admin',
      mustChangePassword: true,
    });
  } catch (err) {
    // Another process created the first user meanwhile (unique username): nothing to do.
    const again = await db.selectFrom('app_users').select('id').limit(1).executeTakeFirst();
    if (again) return null;
    throw err;
  }
  return { username: 'admin', ...(oneTimePassword ? { oneTimePassword } : {}) };
}
