/** Commands of the rules area of the REST API (server/api/routes/rules.ts): `'rules.<verb>': defineCommand({ … })`. */
export const rulesCommands = {};
