/** Tables of the real-time path: webhook inbox, Graph subscriptions (owned by server/ + collect/subscriptions). */
// biome-ignore lint/suspicious/noEmptyInterface: filled by the realtime schema
export interface RealtimeTables {}
