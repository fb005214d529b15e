import { readFileSync } from 'node:fs';

/**
 * Passwords for the CLI: from a file (first line; `-` reads standard input) or typed at the
 * terminal without echo (asked twice). Never from an argument: those end up in shell history
 * and in the process list.
 */

export function readPasswordFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read password file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (!line) throw new Error(`password file ${path}: the first line is empty`);
  return line;
}

/** One line typed at the terminal, not echoed. */
function promptHidden(question: string): Promise<string> {
  const { stdin, stderr } = process;
  return new Promise((resolve, reject) => {
    let value = '';
    stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** The password of `--password-file`, else typed twice at a terminal; an error naming both ways otherwise. */
export async function passwordFrom(file: string | undefined, what: string): Promise<string> {
  if (file) return readPasswordFile(file);
  if (!process.stdin.isTTY)
    throw new Error(
      `${what}: give --password-file <file> (or - for standard input), or run in a terminal to type it`,
    );
  const first = await promptHidden(`${what}: `);
  const again = await promptHidden(`${what} again: `);
  if (first !== again) throw new Error(`${what}: the two entries differ`);
  return first;
}
