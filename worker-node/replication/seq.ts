/** Stream ids are computed once, in shared/stream-id.ts, for the edge and the node alike. */
export * from '../../shared/stream-id.ts';
