/** Commands of the auth area of the REST API (server/api/routes/auth.ts): `'auth.<verb>': defineCommand({ … })`. */
export const authCommands = {};
