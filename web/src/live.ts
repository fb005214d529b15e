import { useEffect, useRef } from 'react';

/**
 * Live updates from the server (server-sent events on /api/v1/events): one EventSource shared
 * by every component that listens, opened on the first listener and closed after the last.
 */
export type LiveKind = 'finding' | 'change' | 'changes' | 'sync' | 'alert';
export interface LiveMessage {
  type: LiveKind;
  // biome-ignore lint/suspicious/noExplicitAny: each event kind has its own JSON shape
  data: any;
}

const KINDS: LiveKind[] = ['finding', 'change', 'changes', 'sync', 'alert'];
const listeners = new Set<(message: LiveMessage) => void>();
let source: EventSource | null = null;
const stateListeners = new Set<(connected: boolean) => void>();

function open(): void {
  if (source || typeof EventSource === 'undefined') return;
  source = new EventSource('/api/v1/events');
  for (const kind of KINDS)
    source.addEventListener(kind, (event) => {
      let data: unknown = null;
      try {
        data = JSON.parse((event as MessageEvent<string>).data);
      } catch {
        return;
      }
      for (const listener of listeners) listener({ type: kind, data });
    });
  source.onopen = () => {
    for (const l of stateListeners) l(true);
  };
  source.onerror = () => {
    for (const l of stateListeners) l(false);
  };
}

function closeIfIdle(): void {
  if (listeners.size === 0 && source) {
    source.close();
    source = null;
  }
}

/** Calls `handler` for every live event while the component is mounted. */
export function useLiveEvents(
  handler: (message: LiveMessage) => void,
  onState?: (connected: boolean) => void,
): void {
  const ref = useRef(handler);
  ref.current = handler;
  const stateRef = useRef(onState);
  stateRef.current = onState;
  useEffect(() => {
    const listener = (message: LiveMessage) => ref.current(message);
    const stateListener = (connected: boolean) => stateRef.current?.(connected);
    listeners.add(listener);
    stateListeners.add(stateListener);
    open();
    return () => {
      listeners.delete(listener);
      stateListeners.delete(stateListener);
      closeIfIdle();
    };
  }, []);
}

/** Closes the stream (sign-out). */
export function closeLiveEvents(): void {
  source?.close();
  source = null;
}
