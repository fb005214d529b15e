// A process that writes through a store with background checkpoints and exits without
// closing it (checkpointer.test.ts): the checkpoint thread must not keep it alive.
import { sql } from 'kysely';
import { openStore } from '../store.ts';

const store = await openStore({ dataDir: process.argv[2]!, backgroundCheckpoints: true });
await sql`create table probe (x text)`.execute(store.db);
await sql`insert into probe values ('written before the exit')`.execute(store.db);
