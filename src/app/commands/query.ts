/** Commands of the query area of the REST API (server/api/routes/query.ts): `'query.<verb>': defineCommand({ … })`. */
export const queryCommands = {};
