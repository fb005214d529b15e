import type pg from 'pg';

/**
 * The person's SQL on PostgreSQL travels alone: one Parse message of the extended protocol
 * makes it a named prepared statement (the server refuses a second statement in it), the
 * guard reads that statement's plan (EXPLAIN EXECUTE), and the rows come from a portal
 * bound to the same statement, fetched in batches. The text is never spliced into a larger
 * statement (EXPLAIN …, DECLARE … FOR …), so nothing in it can close a wrapper, and what
 * was checked is what runs: the session forces the generic plan, so EXPLAIN EXECUTE shows
 * the cached plan the portal then executes.
 *
 * node-postgres has no Parse-only or portal-reading call; these are its Submittable objects
 * (the interface pg-cursor uses), speaking the protocol messages pg's Connection sends.
 */

/** The prepared statement's name in the session. */
export const STATEMENT_NAME = 'dw_query';

type Connection = {
  parse(config: { name: string; text: string; types: number[] }): void;
  bind(config: {
    portal: string;
    statement: string;
    values: unknown[];
    valueMapper?: (value: unknown) => unknown;
  }): void;
  describe(config: { type: 'P' | 'S'; name: string }): void;
  execute(config: { portal: string; rows: number }): void;
  close(config: { type: 'P' | 'S'; name: string }): void;
  flush(): void;
  sync(): void;
};

interface FieldMessage {
  fields: Array<{ name: string; dataTypeID: number }>;
}

/** Base: settles once the server says ReadyForQuery after our Sync. */
abstract class Exchange implements pg.Submittable {
  protected error: Error | undefined;
  readonly done: Promise<void>;
  private settle!: { resolve: () => void; reject: (err: Error) => void };

  constructor() {
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.done.catch(() => undefined); // read through done by the caller
  }

  abstract submit(connection: pg.Connection): void;

  /** pg hands an error message to the exchange and forgets it: the server's ReadyForQuery goes to no one. */
  handleError(err: Error, connection: Connection): void {
    this.error ??= err;
    this.onError(connection);
    this.settle.reject(this.error);
  }

  handleReadyForQuery(): void {
    if (this.error) this.settle.reject(this.error);
    else this.settle.resolve();
  }

  protected onError(_connection: Connection): void {}
  handleRowDescription(_msg: FieldMessage): void {}
  handleDataRow(_msg: { fields: Array<string | null> }): void {}
  handlePortalSuspended(_connection: Connection): void {}
  handleCommandComplete(_msg: unknown, _connection: Connection): void {}
  handleEmptyQuery(_connection: Connection): void {}
  handleCopyInResponse(_connection: Connection): void {}
  handleCopyData(_msg: unknown, _connection: Connection): void {}
}

/** Parse (and nothing else): the text becomes the named statement, or the server's error. */
class ParseOnly extends Exchange {
  constructor(private readonly text: string) {
    super();
  }

  submit(connection: pg.Connection): void {
    const con = connection as unknown as Connection;
    // Replaces an earlier one of the session (closing an unknown statement is no error).
    con.close({ type: 'S', name: STATEMENT_NAME });
    con.parse({ name: STATEMENT_NAME, text: this.text, types: [] });
    con.sync();
  }
}

/** Makes `text` the session's prepared statement STATEMENT_NAME (one statement: the server's rule). */
export async function prepareStatement(client: pg.Client, text: string): Promise<void> {
  const exchange = new ParseOnly(text);
  client.query(exchange);
  await exchange.done;
}

/** The statement's plan (EXPLAIN VERBOSE, FORMAT JSON) for `parameters` values, not run. */
export async function explainPrepared(
  client: pg.Client,
  parameters: number,
): Promise<Array<Record<string, unknown>>> {
  // The generic plan does not depend on the values: NULLs stand for them.
  const args = parameters > 0 ? `(${new Array(parameters).fill('null').join(', ')})` : '';
  return (await client.query(`explain (verbose, format json) execute ${STATEMENT_NAME}${args}`)).rows;
}

/** Values as text for Bind (the statement's parameter types convert them on the server). */
function toWire(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * Rows of the prepared statement through an unnamed portal, `batch` at a time: the server
 * produces the next batch only when asked (Execute with a row count), so nothing more than
 * one batch is ever held here. Call close() when done reading early.
 */
export class PortalReader extends Exchange {
  columns: string[] = [];
  private parsers: Array<(text: string) => unknown> = [];
  private rows: unknown[][] = [];
  private connection: Connection | undefined;
  private waiting: { resolve: (rows: unknown[][] | null) => void; reject: (err: Error) => void } | undefined;
  private finished = false;
  private suspended = false;

  constructor(
    private readonly values: readonly unknown[],
    private readonly batch: number,
    /** The client's parser of a type (its own type overrides included). */
    private readonly parserOf: (oid: number) => (text: string) => unknown,
  ) {
    super();
  }

  submit(connection: pg.Connection): void {
    const con = connection as unknown as Connection;
    this.connection = con;
    con.bind({ portal: '', statement: STATEMENT_NAME, values: [...this.values], valueMapper: toWire });
    con.describe({ type: 'P', name: '' });
    con.execute({ portal: '', rows: this.batch });
    con.flush();
  }

  override handleRowDescription(msg: FieldMessage): void {
    this.columns = msg.fields.map((f) => f.name);
    this.parsers = msg.fields.map((f) => this.parserOf(f.dataTypeID));
  }

  override handleDataRow(msg: { fields: Array<string | null> }): void {
    this.rows.push(msg.fields.map((v, i) => (v === null ? null : this.parsers[i](v))));
  }

  override handlePortalSuspended(): void {
    this.suspended = true;
    this.hand();
  }

  override handleCommandComplete(_msg: unknown, connection: Connection): void {
    this.finished = true;
    connection.sync();
  }

  override handleEmptyQuery(connection: Connection): void {
    this.finished = true;
    connection.sync();
  }

  protected override onError(connection: Connection): void {
    // Our Sync is still to come when the error arrives before CommandComplete.
    if (!this.finished) connection.sync();
    this.finished = true;
    this.waiting?.reject(this.error as Error);
    this.waiting = undefined;
  }

  override handleReadyForQuery(): void {
    super.handleReadyForQuery();
    if (this.error) this.waiting?.reject(this.error);
    else this.hand();
  }

  /** The next batch of rows, or null when there are no more. */
  async next(): Promise<unknown[][] | null> {
    if (this.error) throw this.error;
    if (this.rows.length > 0 || this.finished) return this.take();
    if (this.suspended) {
      this.suspended = false;
      this.connection?.execute({ portal: '', rows: this.batch });
      this.connection?.flush();
    }
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  /** Stops reading: the portal is closed and the exchange ends. */
  async close(): Promise<void> {
    if (!this.finished && this.connection) {
      this.finished = true;
      this.connection.close({ type: 'P', name: '' });
      this.connection.sync();
    }
    await this.done.catch(() => undefined);
  }

  private hand(): void {
    if (!this.waiting) return;
    const { resolve } = this.waiting;
    this.waiting = undefined;
    resolve(this.take());
  }

  private take(): unknown[][] | null {
    if (this.rows.length === 0) return this.finished ? null : [];
    const rows = this.rows;
    this.rows = [];
    return rows;
  }
}
