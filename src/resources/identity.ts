import { z } from 'zod';

/** identity / sharePointIdentity: {id, displayName, email, loginName, userPrincipalName}. */
export const identitySchema = z
  .object({
    id: z.string().nullish(),
    displayName: z.string().nullish(),
    email: z.string().nullish(),
    loginName: z.string().nullish(),
    userPrincipalName: z.string().nullish(),
  })
  .passthrough();

/** identitySet / sharePointIdentitySet. */
export const identitySetSchema = z
  .object({
    user: identitySchema.nullish(),
    group: identitySchema.nullish(),
    application: identitySchema.nullish(),
    device: identitySchema.nullish(),
    siteUser: identitySchema.nullish(),
    siteGroup: identitySchema.nullish(),
  })
  .passthrough();

export type Identity = z.infer<typeof identitySchema>;
export type IdentitySet = z.infer<typeof identitySetSchema>;

/** The most specific person behind an identity set: user, then siteUser, group, application. */
export function principalOf(set: IdentitySet | null | undefined): {
  kind: 'user' | 'group' | 'siteUser' | 'siteGroup' | 'application' | 'device';
  id: string | null;
  email: string | null;
  name: string | null;
  loginName: string | null;
} | null {
  if (!set) return null;
  for (const kind of ['user', 'siteUser', 'group', 'siteGroup', 'application', 'device'] as const) {
    const who = set[kind];
    if (who) {
      const email = who.email ?? who.userPrincipalName ?? null;
      return {
        kind,
        id: who.id ?? null,
        email: email ? email.toLowerCase() : null,
        name: who.displayName ?? null,
        loginName: who.loginName ?? null,
      };
    }
  }
  return null;
}
