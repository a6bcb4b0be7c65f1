/**
 * The snapshot of a `Flat` index, written from SQLite instead of from the FAISS thread.
 *
 * A Flat index is nothing but its vectors in label order, and SQLite already holds every live
 * label's vector (the truth the index is a cache of). Asking the FAISS worker to serialise the
 * index paused every search for as long as the copy took (about 50 ms at 100,000 × 100-d, more
 * at 384-d). The same vectors are read from SQLite in pages on the reorganiser thread
 * (metadata/reorganiser.ts), at a lower priority than searches, so neither the FAISS thread nor
 * the event loop does any of it. The file is byte for byte what FAISS's own `write_index`
 * produces for an `IndexFlatIP` (test/integration/flat-snapshot.test.ts checks it against
 * faiss-node's `toBuffer`), so loading stays FAISS's `read_index`.
 *
 * Labels with no live row (tombstones) are written as zero vectors, exactly as `addFromStore`
 * fills them when the index is rebuilt; the label map from SQLite hides them either way.
 *
 * Why no lock on the apply chain: within one generation a label's vector never changes (a new
 * version of a document takes a new label), so labels below the cut-off read at any moment give
 * the same file. A compaction renumbers labels, so the writer gives up (and returns null) as soon
 * as one is under way or has finished since it started.
 */
import { open, rename, rm } from 'node:fs/promises';
import type { PassageLabels } from './metadata/passage-labels.ts';

/** What a snapshot reads: the label pages and the compaction state, on any connection. */
export type SnapshotSource = Pick<PassageLabels, 'vectorBytesAfter' | 'generation' | 'compactionInterrupted'>;

/** `IxFI`: FAISS's fourcc for an IndexFlat with the inner-product metric. */
const FLAT_IP_FOURCC = 0x49467849;
const HEADER_BYTES = 4 + 4 + 8 + 8 + 8 + 1 + 4 + 8;
const PAGE = 1000;

/**
 * FAISS's IndexFlatIP header for `ntotal` vectors of `dimension` floats: fourcc, d (int32),
 * ntotal (int64), two unused int64 fields (1 << 20), is_trained (1 byte), metric (int32,
 * 0 = inner product), then the vector block's length in floats (uint64); the floats follow.
 */
export function flatIpHeader(dimension: number, ntotal: number): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, FLAT_IP_FOURCC, true);
  view.setInt32(4, dimension, true);
  view.setBigInt64(8, BigInt(ntotal), true);
  view.setBigInt64(16, 1n << 20n, true);
  view.setBigInt64(24, 1n << 20n, true);
  view.setUint8(32, 1);
  view.setInt32(33, 0, true);
  view.setBigUint64(37, BigInt(ntotal) * BigInt(dimension), true);
  return bytes;
}

/** The store's labels can be read as one numbering only while no compaction is renumbering them. */
function sameGeneration(store: SnapshotSource, generation: number): boolean {
  return store.generation === generation && !store.compactionInterrupted;
}

/**
 * Writes labels 0..upto-1 of the current generation to `path` atomically (temp file, fsync,
 * rename), a page of rows at a time. Returns the generation written,
 * or null when a compaction got in the way (the caller simply tries again later).
 */
export async function writeFlatSnapshot(
  store: SnapshotSource,
  path: string,
  dimension: number,
  upto: number,
): Promise<{ generation: number } | null> {
  const generation = store.generation;
  if (!sameGeneration(store, generation)) return null;
  const tmp = `${path}.tmp`;
  const file = await open(tmp, 'w');
  let complete = false;
  try {
    await file.write(flatIpHeader(dimension, upto));
    // `next` is the first label not yet written; each page covers labels next..last.
    let next = 0;
    const buffer = new Uint8Array(4 * PAGE * dimension * 4);
    while (next < upto) {
      const rows = store.vectorBytesAfter(next - 1, PAGE);
      if (!sameGeneration(store, generation)) return null;
      const full = rows.length === PAGE;
      const last = Math.min(upto - 1, next + 4 * PAGE - 1, full ? rows[PAGE - 1]!.label : upto - 1);
      // One buffer for every page (zeroed: a tombstone's slot is a zero vector), not 40 MB of
      // garbage per snapshot of 100,000 × 100-d.
      const page = buffer.subarray(0, (last - next + 1) * dimension * 4).fill(0);
      for (const row of rows) {
        if (row.label > last) break;
        page.set(row.vector, (row.label - next) * dimension * 4);
      }
      next = last + 1;
      await file.write(page);
    }
    await file.sync();
    complete = true;
  } finally {
    await file.close();
    if (!complete) await rm(tmp, { force: true });
  }
  await rename(tmp, path);
  return { generation };
}
