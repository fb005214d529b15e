// Bootstrap of the query process (runner.ts forks it): registers tsx, then runs child.ts.
// The process is started without the parent's loader flags, so it loads TypeScript itself.
import { register } from 'tsx/esm/api';

register();
await import('./child.ts');
