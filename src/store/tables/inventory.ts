/** Tables of the inventory: integrations, resources, history, sync state (owned by store/). */
// biome-ignore lint/suspicious/noEmptyInterface: filled by the inventory schema
export interface InventoryTables {}
