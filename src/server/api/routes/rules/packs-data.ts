import { type FrameworkRef, frameworksOf, loadBuiltinPacks, type Pack } from '../../../../rules/packs.ts';

/** The built-in packs are files of the package: read once per process. */
let packs: Pack[] | undefined;

export function loadPacksOnce(): Pack[] {
  packs ??= loadBuiltinPacks();
  return packs;
}

/** The pack controls a rule helps decide. */
export function packsOfRule(ruleId: string): FrameworkRef[] {
  return frameworksOf(ruleId, loadPacksOnce());
}
