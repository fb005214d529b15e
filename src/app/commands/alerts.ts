/** Commands of the alerts area of the REST API (server/api/routes/alerts.ts): `'alerts.<verb>': defineCommand({ … })`. */
export const alertsCommands = {};
