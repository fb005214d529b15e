import type { Command } from 'commander';
import { withApp } from '../../app/context.ts';
import { issueToken, revokeToken, type TokenRow, tokenRows } from '../../auth/api-tokens.ts';
import { createUser, type Role } from '../../auth/principals.ts';
import { deleteUser, listUsers, updateUser, userByName } from '../../auth/users.ts';
import { passwordFrom } from '../secret-input.ts';

/**
 * `drivewarden users …` and `drivewarden tokens …`: the people who sign in to the web app and
 * API, and API tokens for automation. They work on the store directly (like every CLI
 * command), so they also rescue an installation whose admins are all locked out.
 */

function role(value: string): Role {
  if (value !== 'admin' && value !== 'viewer')
    throw new Error(`--role must be admin or viewer, not "${value}"`);
  return value;
}

const when = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

export function registerUsers(program: Command): void {
  const users = program
    .command('users')
    .description('people who sign in to the web app and API (roles admin, viewer)');

  users
    .command('add <username>')
    .description('add a user; the password is typed (not echoed) or read from --password-file')
    .option('--role <role>', 'admin or viewer', 'viewer')
    .option('--password-file <file>', 'file whose first line is the password (- for standard input)')
    .option('--must-change-password', 'the user must change it at first sign-in')
    .action(
      async (
        username: string,
        opts: { role: string; passwordFile?: string; mustChangePassword?: boolean },
      ) => {
        const r = role(opts.role);
        const password = await passwordFrom(opts.passwordFile, `password for ${username}`);
        await withApp(async (app) => {
          const user = await createUser(app.store.db, {
            username,
            password,
            role: r,
            mustChangePassword: opts.mustChangePassword ?? false,
          });
          console.log(`added ${user.role} "${user.username}" (${user.id})`);
        });
      },
    );

  users
    .command('list')
    .description('list users (never their password hashes)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withApp(async (app) => {
        const list = await listUsers(app.store.db);
        if (opts.json) return console.log(JSON.stringify(list, null, 2));
        if (list.length === 0) return console.log('no users: `drivewarden serve` creates the first admin');
        for (const u of list) {
          const flags = [
            u.disabled ? 'disabled' : '',
            u.mustChangePassword ? 'must change password' : '',
            u.sso ? 'sso' : '',
          ]
            .filter(Boolean)
            .join(', ');
          console.log(
            `${u.username}\t${u.role}\tlast sign-in ${when(u.lastSignInAt)}${flags ? `\t${flags}` : ''}`,
          );
        }
      });
    });

  users
    .command('remove <username>')
    .description('remove a user with their sessions and tokens (never the last admin)')
    .action(async (username: string) => {
      await withApp(async (app) => {
        const user = await userByName(app.store.db, username);
        await deleteUser(app.store.db, user.id);
        console.log(`removed user "${user.username}"`);
      });
    });

  users
    .command('set-password <username>')
    .description(
      "set a user's password (ends their sessions; they change it at next sign-in unless --no-must-change)",
    )
    .option('--password-file <file>', 'file whose first line is the password (- for standard input)')
    .option('--no-must-change', 'do not ask the user to change it')
    .action(async (username: string, opts: { passwordFile?: string; mustChange: boolean }) => {
      const password = await passwordFrom(opts.passwordFile, `new password for ${username}`);
      await withApp(async (app) => {
        const user = await userByName(app.store.db, username);
        await updateUser(app.store.db, user.id, { password, mustChangePassword: opts.mustChange });
        console.log(
          `password of "${user.username}" set${opts.mustChange ? ' (to be changed at next sign-in)' : ''}`,
        );
      });
    });

  users
    .command('set-role <username> <role>')
    .description('make a user admin or viewer (never demotes the last admin)')
    .action(async (username: string, value: string) => {
      const r = role(value);
      await withApp(async (app) => {
        const user = await userByName(app.store.db, username);
        await updateUser(app.store.db, user.id, { role: r });
        console.log(`"${user.username}" is now ${r}`);
      });
    });

  users
    .command('enable <username>')
    .description('let a disabled user sign in again')
    .action(async (username: string) => {
      await withApp(async (app) => {
        const user = await userByName(app.store.db, username);
        await updateUser(app.store.db, user.id, { disabled: false });
        console.log(`"${user.username}" enabled`);
      });
    });

  users
    .command('disable <username>')
    .description('stop a user from signing in and end their sessions (never the last admin)')
    .action(async (username: string) => {
      await withApp(async (app) => {
        const user = await userByName(app.store.db, username);
        await updateUser(app.store.db, user.id, { disabled: true });
        console.log(`"${user.username}" disabled`);
      });
    });

  registerTokens(program);
}

function describeToken(t: TokenRow): string {
  return `${t.id}\t${t.name}\t${t.prefix}…\t${t.username}\t${t.role}\tcreated ${when(t.createdAt)}\texpires ${when(t.expiresAt)}`;
}

function registerTokens(program: Command): void {
  const tokens = program
    .command('tokens')
    .description('API tokens for automation (Authorization: Bearer dw_…)');

  tokens
    .command('create')
    .description('create a token for a user; it is printed once and only its hash is kept')
    .requiredOption('--user <username>', 'whose token it is')
    .requiredOption('--name <name>', 'what it is for')
    .option('--role <role>', "admin or viewer (default: the user's role; never above it)")
    .option('--expires-days <days>', 'it stops working after this many days (default: never)')
    .option('--json', 'print JSON')
    .action(
      async (opts: { user: string; name: string; role?: string; expiresDays?: string; json?: boolean }) => {
        const days = opts.expiresDays === undefined ? undefined : Number(opts.expiresDays);
        if (days !== undefined && !(Number.isFinite(days) && days > 0))
          throw new Error(`--expires-days must be a positive number, not "${opts.expiresDays}"`);
        await withApp(async (app) => {
          const user = await userByName(app.store.db, opts.user);
          const issued = await issueToken(app.store.db, {
            userId: user.id,
            name: opts.name,
            ...(opts.role ? { role: role(opts.role) } : {}),
            expiresAt: days ? new Date(Date.now() + days * 86_400_000) : null,
          });
          if (opts.json) return console.log(JSON.stringify(issued, null, 2));
          console.log(`created ${issued.role} token "${issued.name}" for ${issued.username} (${issued.id})`);
          console.log(`token (shown once; send it as "Authorization: Bearer <token>"):\n${issued.token}`);
        });
      },
    );

  tokens
    .command('list')
    .description('list tokens (never the secrets)')
    .option('--user <username>', "only this user's tokens")
    .option('--json', 'print JSON')
    .action(async (opts: { user?: string; json?: boolean }) => {
      await withApp(async (app) => {
        let q = tokenRows(app.store.db).orderBy('t.created_at').orderBy('t.id');
        if (opts.user) q = q.where('t.user_id', '=', (await userByName(app.store.db, opts.user)).id);
        const list = await q.execute();
        if (opts.json) return console.log(JSON.stringify(list, null, 2));
        if (list.length === 0) return console.log('no tokens: create one with `drivewarden tokens create`');
        for (const t of list) console.log(describeToken(t));
      });
    });

  tokens
    .command('revoke <id>')
    .description('revoke a token: it stops working at once')
    .action(async (id: string) => {
      await withApp(async (app) => {
        const t = await revokeToken(app.store.db, id);
        console.log(`revoked token "${t.name}" of ${t.username}`);
      });
    });
}
