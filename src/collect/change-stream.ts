import { EventEmitter } from 'node:events';
import type { ResourceType } from '../resources/types.ts';
import type { ChangeRecord, ChangeSource, ChangeType } from '../store/apply.ts';

/** What subscribers (rules engine, realtime path) get after each committed transaction. */
export interface ChangeBatch {
  integrationId: string;
  resourceType: ResourceType;
  source: ChangeSource;
  changes: Array<{
    id: string;
    changeType: ChangeType;
    /** drive_id / item_id / group_id when the resource has them. */
    scope: Record<string, string>;
    fields: string[];
  }>;
}

export interface ChangeStreamEvents {
  changes: [ChangeBatch];
}

/** In-process change stream: one `changes` event per resource type per committed transaction. */
export class ChangeStream extends EventEmitter<ChangeStreamEvents> {
  /** Publishes committed change records, grouped by resource type. Listener errors never reach the collector. */
  publish(integrationId: string, source: ChangeSource, records: ChangeRecord[]): void {
    if (records.length === 0) return;
    const byType = new Map<string, ChangeBatch>();
    for (const r of records) {
      let batch = byType.get(r.resourceType);
      if (!batch) {
        batch = { integrationId, resourceType: r.resourceType, source, changes: [] };
        byType.set(r.resourceType, batch);
      }
      batch.changes.push({ id: r.id, changeType: r.changeType, scope: r.scope, fields: r.fields });
    }
    for (const batch of byType.values()) {
      try {
        this.emit('changes', batch);
      } catch {
        // A failing subscriber must not undo or stop a committed collection.
      }
    }
  }
}

/** The process-wide stream the collector publishes on unless a context names another. */
export const changes = new ChangeStream();
changes.setMaxListeners(50);
