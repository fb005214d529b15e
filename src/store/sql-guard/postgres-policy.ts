import { SQL_HELPERS } from '../dialect.ts';

/**
 * What a read-only query's plan (EXPLAIN VERBOSE) may hold on PostgreSQL, as allow-lists:
 * anything not listed is refused.
 */

/** Plan nodes of plain reading, joining, sorting and aggregating. */
// biome-ignore format: a list
export const PG_NODE_TYPES: ReadonlySet<string> = new Set([
  'Result', 'ProjectSet', 'Append', 'Merge Append', 'Recursive Union', 'BitmapAnd', 'BitmapOr',
  'Nested Loop', 'Merge Join', 'Hash Join', 'Seq Scan', 'Sample Scan', 'Gather', 'Gather Merge',
  'Index Scan', 'Index Only Scan', 'Bitmap Index Scan', 'Bitmap Heap Scan', 'Tid Scan', 'Tid Range Scan',
  'Subquery Scan', 'Function Scan', 'Values Scan', 'CTE Scan', 'WorkTable Scan', 'Materialize', 'Memoize',
  'Sort', 'Incremental Sort', 'Group', 'Aggregate', 'WindowAgg', 'Unique', 'SetOp', 'Limit', 'Hash',
]);

/** TABLESAMPLE methods of the core (extensions may add others). */
export const PG_SAMPLING_METHODS: ReadonlySet<string> = new Set(['system', 'bernoulli']);

/**
 * Functions (pg_catalog) by name. Left out on purpose: everything that reads files, large
 * objects, settings, statistics, sessions or the catalog (pg_read_file, pg_ls_dir, lo_*,
 * current_setting, set_config, pg_stat_*, version, inet_*, txid_*, to_reg*, has_*_privilege,
 * query_to_xml and the other *_to_xml that run SQL, dblink, pg_sleep, pg_advisory_*,
 * nextval, …) and the string generators (repeat, lpad, rpad) that only serve to exhaust
 * memory here.
 */
// biome-ignore format: a list
export const PG_FUNCTIONS: ReadonlySet<string> = new Set([
  // strings
  'lower', 'upper', 'initcap', 'length', 'char_length', 'character_length', 'octet_length', 'bit_length',
  'substr', 'substring', 'position', 'strpos', 'replace', 'split_part', 'left', 'right', 'ltrim', 'rtrim',
  'btrim', 'trim', 'concat', 'concat_ws', 'reverse', 'starts_with', 'translate', 'format', 'quote_literal',
  'quote_ident', 'quote_nullable', 'md5', 'ascii', 'chr', 'to_hex', 'overlay', 'normalize', 'textcat',
  'regexp_replace', 'regexp_match', 'regexp_matches', 'regexp_like', 'regexp_count', 'regexp_substr',
  'regexp_instr', 'regexp_split_to_array', 'regexp_split_to_table', 'string_to_array', 'string_to_table',
  'array_to_string', 'like_escape', 'similar_to_escape', 'similar_escape', 'encode', 'decode',
  'convert_from', 'convert_to', 'text', 'to_char', 'to_number', 'to_date', 'to_timestamp',
  // numbers
  'abs', 'ceil', 'ceiling', 'floor', 'round', 'trunc', 'sign', 'mod', 'div', 'power', 'pow', 'sqrt', 'cbrt',
  'exp', 'ln', 'log', 'log10', 'pi', 'degrees', 'radians', 'random', 'width_bucket', 'scale', 'gcd', 'lcm',
  'numeric', 'float8', 'int4', 'int8',
  // dates and times
  'now', 'clock_timestamp', 'statement_timestamp', 'transaction_timestamp', 'date_trunc', 'date_part',
  'date_bin', 'extract', 'age', 'make_date', 'make_time', 'make_timestamp', 'make_timestamptz',
  'make_interval', 'justify_days', 'justify_hours', 'justify_interval', 'isfinite', 'timezone',
  // JSON
  'to_json', 'to_jsonb', 'row_to_json', 'array_to_json', 'json_build_object', 'jsonb_build_object',
  'json_build_array', 'jsonb_build_array', 'json_object', 'jsonb_object', 'json_array_length',
  'jsonb_array_length', 'json_array_elements', 'jsonb_array_elements', 'json_array_elements_text',
  'jsonb_array_elements_text', 'json_each', 'jsonb_each', 'json_each_text', 'jsonb_each_text',
  'json_extract_path', 'jsonb_extract_path', 'json_extract_path_text', 'jsonb_extract_path_text',
  'json_object_keys', 'jsonb_object_keys', 'json_typeof', 'jsonb_typeof', 'json_strip_nulls',
  'jsonb_strip_nulls', 'jsonb_pretty', 'jsonb_set', 'jsonb_insert', 'jsonb_path_exists', 'jsonb_path_match',
  'jsonb_path_query', 'jsonb_path_query_array', 'jsonb_path_query_first', 'jsonb_exists',
  'jsonb_exists_any', 'jsonb_exists_all', 'jsonb_contains', 'jsonb_contained',
  // arrays
  'array_length', 'array_lower', 'array_upper', 'array_ndims', 'array_dims', 'cardinality', 'unnest',
  'array_position', 'array_positions', 'array_remove', 'array_replace', 'array_append', 'array_prepend',
  'array_cat', 'generate_subscripts', 'generate_series',
  // conditionals (also printed as SQL syntax) and comparison
  'coalesce', 'nullif', 'greatest', 'least', 'num_nulls', 'num_nonnulls',
  // aggregates
  'count', 'sum', 'avg', 'min', 'max', 'bool_and', 'bool_or', 'every', 'string_agg', 'array_agg',
  'json_agg', 'jsonb_agg', 'json_object_agg', 'jsonb_object_agg', 'percentile_cont', 'percentile_disc',
  'mode', 'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp', 'bit_and', 'bit_or',
  'corr', 'covar_pop', 'covar_samp',
  // window
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value',
  'last_value', 'nth_value',
]);

/** The drivewarden helpers (store schema; the SQL ones are inlined into the plan, their bodies use the above). */
export const PG_HELPERS: ReadonlySet<string> = new Set(SQL_HELPERS);

/**
 * Upper-case words the plan prints before `(`: SQL syntax (COALESCE(…), SUBSTRING(… FROM …),
 * x = ANY (…), FILTER (WHERE …), OVER (…)), not function names. Anything else upper case
 * before a parenthesis (XMLELEMENT, OPERATOR(schema.op), …) is refused.
 */
// biome-ignore format: a list
export const PG_SYNTAX_WORDS: ReadonlySet<string> = new Set([
  'AND', 'OR', 'NOT', 'IN', 'ANY', 'ALL', 'SOME', 'EXISTS', 'ARRAY', 'ROW', 'CASE', 'WHEN', 'THEN', 'ELSE',
  'END', 'COALESCE', 'GREATEST', 'LEAST', 'NULLIF', 'EXTRACT', 'POSITION', 'SUBSTRING', 'TRIM', 'OVERLAY',
  'NORMALIZE', 'CAST', 'FILTER', 'OVER', 'WITHIN', 'GROUP', 'BY', 'ORDER', 'PARTITION', 'DISTINCT', 'FROM',
  'FOR', 'IS', 'LIKE', 'ILIKE', 'SIMILAR', 'ESCAPE', 'BETWEEN', 'SYMMETRIC', 'PLACING', 'BOTH', 'LEADING',
  'TRAILING', 'LOCALTIMESTAMP', 'LOCALTIME', 'CURRENT_TIMESTAMP', 'CURRENT_TIME', 'AS', 'ROWS', 'RANGE',
  'GROUPS', 'PRECEDING', 'FOLLOWING', 'CURRENT', 'UNBOUNDED', 'AT', 'ZONE', 'TIME', 'NULLS', 'FIRST', 'LAST',
  'ASC', 'DESC', 'USING', 'COLLATE', 'VALUES', 'TRUE', 'FALSE', 'NULL', 'UNKNOWN', 'DEFAULT', 'WHERE',
  'EXCLUDE', 'TIES', 'OTHERS', 'NO',
]);

/** SQL value functions that name the server, database, role or schema: refused wherever they appear. */
export const PG_REVEALING_WORDS: ReadonlySet<string> = new Set([
  'CURRENT_USER',
  'SESSION_USER',
  'USER',
  'CURRENT_ROLE',
  'CURRENT_CATALOG',
  'CURRENT_SCHEMA',
]);

/** Type names that take a modifier and so print as `name(n)` in casts (`::character varying(3)`). */
// biome-ignore format: a list
export const PG_TYPE_WORDS: ReadonlySet<string> = new Set([
  'character', 'varying', 'char', 'varchar', 'bit', 'numeric', 'decimal', 'timestamp', 'time', 'interval',
  'second', 'minute', 'hour', 'day', 'month', 'year', 'with', 'without', 'zone', 'precision', 'double',
]);

/** Plan keys whose values are names or labels, not expressions. */
export const PG_NON_EXPRESSION_KEYS: ReadonlySet<string> = new Set([
  'Node Type',
  'Parent Relationship',
  'Relation Name',
  'Schema',
  'Alias',
  'Join Type',
  'Strategy',
  'Partial Mode',
  'Scan Direction',
  'Index Name',
  'CTE Name',
  'Subplan Name',
  'Command',
  'Operation',
  'Sampling Method',
  'Function Name',
  'Sort Method',
  'Sort Space Type',
]);
