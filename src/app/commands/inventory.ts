/** Commands of the inventory area of the REST API (server/api/routes/inventory.ts): `'inventory.<verb>': defineCommand({ … })`. */
export const inventoryCommands = {};
