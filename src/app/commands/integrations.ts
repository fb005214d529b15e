/** Commands of the integrations area of the REST API (server/api/routes/integrations.ts): `'integrations.<verb>': defineCommand({ … })`. */
export const integrationsCommands = {};
