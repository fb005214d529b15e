/** Tables of the query console (src/query/), created by migration 0340-saved-queries. */

/** A query saved under a name (`drivewarden query save`), run with `drivewarden query run <name>`. */
export interface SavedQueriesTable {
  /** Lower-case name people run it by (unique; built-in example names are taken). */
  name: string;
  /** What the query answers. */
  description: string;
  /** The SQL, with `:name` parameters. */
  sql: string;
  created_at: string;
  updated_at: string;
  /** Who saved it (the OS user of the CLI), when known. */
  created_by: string | null;
}

export interface QueryTables {
  saved_queries: SavedQueriesTable;
}
