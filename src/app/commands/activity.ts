/** Commands of the activity area of the REST API (server/api/routes/activity.ts): `'activity.<verb>': defineCommand({ … })`. */
export const activityCommands = {};
