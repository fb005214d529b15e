import type { Command } from 'commander';

/** Every sub-command registers itself on the program; add one line per command file. */
export const commands: Array<(program: Command) => void> = [];
