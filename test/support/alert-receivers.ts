/**
 * Real local receivers for alert deliveries: an HTTP server (Slack, Teams, webhooks) whose
 * answers a test scripts (status, Retry-After, a hang), optionally deduplicating by
 * `webhook-id` like an idempotent receiver; and an SMTP server (smtp-server) with STARTTLS
 * and authentication.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed JSON body (undefined when not JSON). */
  json: unknown;
}

/** How the receiver answers one request. */
export type Answer =
  | { status: number; headers?: Record<string, string>; body?: string }
  /** Never answers (the client must time out); the socket is closed when the receiver closes. */
  | { hang: true };

export interface HttpReceiver {
  /** http://127.0.0.1:<port>/hook */
  url: string;
  requests: ReceivedRequest[];
  /** With `dedupe`: webhook-id → the first body processed under it. */
  processed: Map<string, string>;
  /** Queues answers for the next requests; afterwards the default answer. */
  script(...answers: Answer[]): void;
  /** Called on every request before it is answered. */
  onRequest?: (req: ReceivedRequest) => void | Promise<void>;
  close(): Promise<void>;
}

export async function startHttpReceiver(
  options: { dedupe?: boolean; answer?: Answer; path?: string } = {},
): Promise<HttpReceiver> {
  const scripted: Answer[] = [];
  const hanging = new Set<ServerResponse>();
  const receiver: HttpReceiver = {
    url: '',
    requests: [],
    processed: new Map(),
    script: (...answers) => scripted.push(...answers),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const received: ReceivedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body,
      json,
    };
    receiver.requests.push(received);
    await receiver.onRequest?.(received);
    const answer = scripted.shift() ?? options.answer ?? { status: 200, body: 'ok' };
    if ('hang' in answer) {
      hanging.add(res);
      return;
    }
    const id = req.headers['webhook-id'];
    if (options.dedupe && answer.status < 300 && typeof id === 'string' && !receiver.processed.has(id))
      receiver.processed.set(id, body);
    res.writeHead(answer.status, answer.headers ?? {});
    res.end(answer.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${options.path ?? '/hook'}`;
  return receiver;
}

export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw message as received. */
  raw: string;
  user: string | null;
  secure: boolean;
}

export interface SmtpReceiver {
  port: number;
  mails: ReceivedMail[];
  close(): Promise<void>;
}

/** An SMTP server on 127.0.0.1: STARTTLS with the given certificate, AUTH required when `auth` is given. */
export async function startSmtpReceiver(options: {
  tls?: { key: string; cert: string };
  auth?: { user: string; pass: string };
}): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : { disabledCommands: ['STARTTLS'] }),
    authOptional: !options.auth,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass)
        return callback(null, { user: auth.username });
      return callback(new Error('invalid credentials'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          user: (session.user as string | undefined) ?? null,
          secure: session.secure,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The decoded text of each MIME part of a raw message, by content type (quoted-printable and base64). */
export function mimeParts(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(raw)?.[1];
  const parts = boundary ? raw.split(`--${boundary}`) : [raw];
  for (const part of parts) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const head = part.slice(0, split);
    const type = /content-type:\s*([^;\r\n]+)/i.exec(head)?.[1]?.toLowerCase();
    if (!type || type.startsWith('multipart/')) continue;
    const encoding = /content-transfer-encoding:\s*(\S+)/i.exec(head)?.[1]?.toLowerCase();
    let body = part.slice(split + 4).replace(/\r\n$/, '');
    if (encoding === 'quoted-printable')
      body = Buffer.from(
        body
          .replace(/=\r\n/g, '')
          .replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
        'latin1',
      ).toString('utf8');
    else if (encoding === 'base64') body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    out[type] = body;
  }
  return out;
}

/** A header of a raw message, unfolded, its RFC 2047 encoded words decoded. */
export function mailHeader(raw: string, name: string): string | undefined {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (!line) return undefined;
  return line
    .slice(name.length + 1)
    .trim()
    .replace(/\?= =\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=/gi, (_, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text
              .replace(/_/g, ' ')
              .replace(/=([0-9A-F]{2})/gi, (_m: string, h: string) =>
                String.fromCharCode(Number.parseInt(h, 16)),
              ),
            'latin1',
          ).toString('utf8'),
    );
}
