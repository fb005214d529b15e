import { SQL_HELPERS } from '../dialect.ts';

/**
 * What a read-only query may compile to on SQLite, as allow-lists over its bytecode
 * (EXPLAIN): anything not listed is refused, so an operation a later SQLite adds is
 * refused until someone looks at it.
 */

/** Opcodes of plain reading, computing and sorting. */
// biome-ignore format: a list
export const SQLITE_OPCODES: ReadonlySet<string> = new Set([
  // control flow
  'Init', 'Goto', 'Gosub', 'Return', 'InitCoroutine', 'EndCoroutine', 'Yield', 'Halt', 'HaltIfNull', 'Once',
  'If', 'IfNot', 'IfPos', 'IfNotZero', 'DecrJumpZero', 'IfNullRow', 'IfNoHope', 'IfNotOpen', 'IfSizeBetween',
  'IfEmpty', 'Jump', 'Noop', 'ElseEq', 'OffsetLimit', 'MustBeInt', 'Explain',
  // comparison and arithmetic
  'Eq', 'Ne', 'Lt', 'Le', 'Gt', 'Ge', 'IsNull', 'NotNull', 'IsTrue', 'IsType', 'ZeroOrNull', 'Compare',
  'Permutation', 'Not', 'BitNot', 'And', 'Or', 'BitAnd', 'BitOr', 'ShiftLeft', 'ShiftRight', 'Add',
  'Subtract', 'Multiply', 'Divide', 'Remainder', 'Concat', 'AddImm', 'RealAffinity', 'Cast', 'Affinity',
  'TypeCheck', 'CollSeq',
  // registers
  'Integer', 'Int64', 'Real', 'String8', 'String', 'Null', 'SoftNull', 'Blob', 'Variable', 'Move', 'Copy',
  'SCopy', 'IntCopy', 'BeginSubrtn', 'ReleaseReg', 'ClrSubtype', 'GetSubtype', 'SetSubtype', 'MemMax',
  'ResultRow',
  // functions (names checked against SQLITE_FUNCTIONS)
  'Function', 'PureFunc', 'AggStep', 'AggStep1', 'AggInverse', 'AggValue', 'AggFinal',
  // reading tables and indexes (OpenRead/ReopenIdx checked against the schema, Column against secrets)
  'OpenRead', 'ReopenIdx', 'Close', 'ColumnsUsed', 'CursorHint', 'Column', 'Rowid', 'NullRow', 'Last',
  'Rewind', 'Next', 'Prev', 'SeekLT', 'SeekLE', 'SeekGE', 'SeekGT', 'SeekScan', 'SeekHit', 'SeekRowid',
  'NotExists', 'Found', 'NotFound', 'NoConflict', 'IdxGE', 'IdxGT', 'IdxLE', 'IdxLT', 'IdxRowid',
  'DeferredSeek', 'FinishSeek', 'Count', 'MakeRecord', 'Sequence', 'SequenceTest',
  // scratch cursors: sorters, ephemeral tables (DISTINCT, IN, CTEs), automatic indexes
  'OpenEphemeral', 'OpenAutoindex', 'OpenDup', 'OpenPseudo', 'SorterOpen', 'SorterInsert', 'SorterSort',
  'Sort', 'SorterNext', 'SorterData', 'SorterCompare', 'RowSetAdd', 'RowSetRead', 'RowSetTest', 'FilterAdd',
  'Filter',
  // writes to scratch cursors only (checked: never a cursor on a stored table)
  'NewRowid', 'Insert', 'IdxInsert', 'Delete', 'IdxDelete', 'ResetSorter', 'RowData',
  // a read transaction (P2 = 0; checked)
  'Transaction',
  // table-valued functions (VOpen checked against SQLITE_VIRTUAL_TABLES)
  'VOpen', 'VFilter', 'VColumn', 'VNext', 'VInitIn',
]);

/** Opcodes that act on a cursor (P1) and are allowed on scratch cursors only. */
export const SQLITE_SCRATCH_ONLY: ReadonlySet<string> = new Set([
  'NewRowid',
  'Insert',
  'IdxInsert',
  'Delete',
  'IdxDelete',
  'ResetSorter',
  'RowData',
]);

/** Opcodes that open a scratch cursor (P1). */
export const SQLITE_SCRATCH_OPENERS: ReadonlySet<string> = new Set([
  'OpenEphemeral',
  'OpenAutoindex',
  'OpenDup',
  'OpenPseudo',
  'SorterOpen',
]);

/** Opcodes that mean the statement writes, for the message. */
// biome-ignore format: a list
export const SQLITE_WRITE_OPCODES: ReadonlySet<string> = new Set([
  'OpenWrite', 'Insert', 'IdxInsert', 'Delete', 'IdxDelete', 'NewRowid', 'Clear', 'Destroy', 'CreateBtree',
  'DropTable', 'DropIndex', 'DropTrigger', 'ParseSchema', 'SqlExec', 'SetCookie', 'Vacuum', 'IncrVacuum',
  'VUpdate', 'VCreate', 'VDestroy', 'VBegin', 'VRename', 'JournalMode', 'Checkpoint', 'AutoCommit',
  'Savepoint', 'FkCounter', 'LoadAnalysis', 'Expire',
]);

/** Table-valued functions a query may use (both only read the JSON they are given). */
export const SQLITE_VIRTUAL_TABLES = ['json_each', 'json_tree'] as const;

/**
 * Functions by name: core scalar, date, JSON, math, aggregate and window functions, and
 * the drivewarden helpers. Left out: anything that reveals the build, the files or the
 * connection (sqlite_version, sqlite_compileoption_*, sqlite_source_id, changes,
 * last_insert_rowid, load_extension, …) and the blob generators (randomblob, zeroblob),
 * which only serve to exhaust memory here.
 */
// biome-ignore format: a list
export const SQLITE_FUNCTIONS: ReadonlySet<string> = new Set([
  // scalar
  'abs', 'char', 'coalesce', 'concat', 'concat_ws', 'format', 'glob', 'hex', 'ifnull', 'iif', 'if', 'instr',
  'length', 'like', 'likelihood', 'likely', 'lower', 'ltrim', 'max', 'min', 'nullif', 'octet_length',
  'printf', 'quote', 'random', 'replace', 'round', 'rtrim', 'sign', 'soundex', 'substr', 'substring', 'trim',
  'typeof', 'unhex', 'unicode', 'unlikely', 'upper', 'unistr', 'unistr_quote',
  // date and time
  'date', 'time', 'datetime', 'julianday', 'unixepoch', 'strftime', 'timediff', 'current_date',
  'current_time', 'current_timestamp',
  // JSON
  'json', 'jsonb', 'json_array', 'jsonb_array', 'json_array_length', 'json_error_position', 'json_extract',
  'jsonb_extract', 'json_insert', 'jsonb_insert', 'json_object', 'jsonb_object', 'json_patch', 'jsonb_patch',
  'json_pretty', 'json_quote', 'json_remove', 'jsonb_remove', 'json_replace', 'jsonb_replace', 'json_set',
  'jsonb_set', 'json_type', 'json_valid', 'json_group_array', 'jsonb_group_array', 'json_group_object',
  'jsonb_group_object', '->', '->>',
  // math
  'acos', 'acosh', 'asin', 'asinh', 'atan', 'atan2', 'atanh', 'ceil', 'ceiling', 'cos', 'cosh', 'degrees',
  'exp', 'floor', 'ln', 'log', 'log10', 'log2', 'mod', 'pi', 'pow', 'power', 'radians', 'sin', 'sinh',
  'sqrt', 'tan', 'tanh', 'trunc',
  // aggregate
  'avg', 'count', 'group_concat', 'string_agg', 'sum', 'total', 'median', 'percentile', 'percentile_cont',
  'percentile_disc',
  // window
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value',
  'last_value', 'nth_value',
  ...SQL_HELPERS,
]);
