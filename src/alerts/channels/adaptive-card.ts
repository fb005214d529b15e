import { createRequire } from 'node:module';
import type * as ACTypes from 'adaptivecards';

// The package's ES modules import each other without file extensions, which Node's own
// loader refuses (tsx accepts them, the build runs without tsx); its UMD bundle loads anywhere.
const AC = createRequire(import.meta.url)('adaptivecards/dist/adaptivecards.js') as typeof ACTypes;

/**
 * Validates an Adaptive Card with the Adaptive Cards SDK (adaptivecards): the problems it
 * reports while parsing (unknown element or action types, bad values) and its property
 * validation (missing required properties, empty collections, duplicate ids). Hints and
 * deprecations are not problems.
 */
export function adaptiveCardProblems(card: unknown): string[] {
  const problems: string[] = [];
  const parsed = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  parsed.parse(card as ACTypes.PropertyBag, context);
  const events: ACTypes.IValidationEvent[] = [];
  for (let i = 0; i < context.eventCount; i++) events.push(context.getEventAt(i));
  events.push(...parsed.validateProperties().validationEvents);
  for (const e of events) {
    if (e.event === AC.ValidationEvent.Hint || e.event === AC.ValidationEvent.Deprecated) continue;
    problems.push(`${AC.ValidationEvent[e.event]}: ${e.message}`);
  }
  const raw = card as { type?: unknown; version?: unknown };
  if (raw?.type !== 'AdaptiveCard') problems.push('type must be AdaptiveCard');
  if (typeof raw?.version !== 'string') problems.push('version is required');
  return problems;
}
