/**
 * openApp overrides for a store served on `port` in a test: Graph sends webhooks to that port,
 * and polling and directory rounds are an hour apart, so only what the test does happens.
 */
export function servedSettings(dataDir: string, port: number): Record<string, unknown> {
  return {
    dataDir,
    logLevel: 'silent',
    'server.port': port,
    'server.publicUrl': `http://127.0.0.1:${port}`,
    'sync.pollIntervalSeconds': 3600,
    'sync.directoryIntervalSeconds': 3600,
  };
}
