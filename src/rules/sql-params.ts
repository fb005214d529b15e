// The binder lives in store/ since the query console (a sibling of rules/) binds `:name` too.
export * from '../store/sql-params.ts';
