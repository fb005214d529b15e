/** Commands of the remediation area of the REST API (server/api/routes/remediation.ts): `'remediation.<verb>': defineCommand({ … })`. */
export const remediationCommands = {};
