export const DAY = 86_400_000;

/** ISO-8601 with whole seconds, as Graph writes timestamps. */
export const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
