/** Groups: All Company, one per department, projects, and two nested security groups. */
import { DEPARTMENTS, PROJECT_WORDS } from '../names.ts';
import type { Prng } from '../prng.ts';
import type { SimGroup, Tenant } from '../tenant.ts';
import { DAY, iso } from '../time.ts';
import type { Population } from './users.ts';

export function generateGroups(t: Tenant, rng: Prng, ref: number, people: Population): void {
  const { members, guests, nManagers } = people;
  const addGroup = (displayName: string, unified: boolean, memberIds: string[]) => {
    const nick = displayName.replace(/[^A-Za-z0-9]/g, '');
    const g: SimGroup = {
      idx: t.groups.length,
      id: rng.guid(),
      displayName,
      description: `${displayName} group`,
      mail: unified || rng.chance(0.3) ? `${nick}@${t.domain}` : null,
      mailNickname: nick,
      mailEnabled: unified,
      securityEnabled: !unified,
      groupTypes: unified ? ['Unified'] : [],
      visibility: unified ? (rng.chance(0.8) ? 'Private' : 'Public') : null,
      createdDateTime: iso(ref - rng.int(60, 2000) * DAY),
      members: memberIds,
      dirSeq: ++t.dirSeq,
      memberLog: [],
    };
    t.groups.push(g);
    t.groupById.set(g.id, g);
    return g;
  };
  addGroup(
    'All Company',
    true,
    members.map((u) => u.id),
  );
  for (const dept of DEPARTMENTS) {
    const ms = members.filter((u) => u.department === dept).map((u) => u.id);
    if (ms.length > 0) addGroup(dept, rng.chance(0.5), ms);
  }
  const nMembers = members.length;
  const nProjects = Math.max(1, Math.round((nMembers + guests.length) / 12));
  for (let k = 0; k < nProjects; k++) {
    const ms = new Set<string>();
    const size = rng.int(2, Math.min(12, Math.max(2, nMembers)));
    for (let j = 0; j < size; j++) ms.add(rng.pick(members).id);
    if (guests.length > 0 && rng.chance(0.5)) ms.add(rng.pick(guests).id);
    addGroup(
      `Project ${PROJECT_WORDS[k % PROJECT_WORDS.length]}${k >= PROJECT_WORDS.length ? ` ${k}` : ''}`,
      true,
      [...ms],
    );
  }
  // nesting: a later group inside an earlier one, never a cycle
  const engineering = t.groups.find((g) => g.displayName === 'Engineering');
  const leads = addGroup(
    'Security Admins',
    false,
    members.filter((u) => u.mfa.isAdmin || u.department === 'IT').map((u) => u.id),
  );
  const allCompany = t.groups[0];
  allCompany.members.push(leads.id);
  if (engineering) {
    const tl = addGroup(
      'Engineering Leads',
      false,
      members.filter((u) => u.managerIdx < 0 || u.idx < nManagers).map((u) => u.id),
    );
    engineering.members.push(tl.id);
  }
}
