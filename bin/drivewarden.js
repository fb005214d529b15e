#!/usr/bin/env node
// Entry point of the `drivewarden` command. The product runs from its TypeScript
// sources through tsx's loader, so there is no build step between `npm ci` and use.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
