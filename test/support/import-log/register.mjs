// `node --import <this file> …` logs every module URL the process resolves, one a line, to the
// file named by DW_IMPORT_LOG (the hooks run on their own thread: ./hooks.mjs). For tests that
// must prove what a process did not load.
import { register } from 'node:module';

register(new URL('./hooks.mjs', import.meta.url));
