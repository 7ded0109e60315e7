/**
 * Files dropped on the studio: read from the drop (folders included, so a
 * session can be dropped with its `name-runs/` folder) and sorted by what
 * they are. Plain DOM code; the studio decides what to open.
 */
import type { DroppedFile } from '../../electron/api/contract';

export interface SortedDrop {
  sessions: File[];
  /** Run (or results) files: `.safetensors`. */
  tensors: File[];
  images: File[];
  other: File[];
}

export const IMAGE_FILE = /\.(png|jpe?g|webp|gif|bmp)$/i;

export function sortFiles(files: readonly File[]): SortedDrop {
  const sorted: SortedDrop = { sessions: [], tensors: [], images: [], other: [] };
  for (const file of files) {
    const name = file.name.toLowerCase();
    if (name.endsWith('.painter')) sorted.sessions.push(file);
    else if (name.endsWith('.safetensors')) sorted.tensors.push(file);
    else if (IMAGE_FILE.test(name) || file.type.startsWith('image/')) sorted.images.push(file);
    else sorted.other.push(file);
  }
  return sorted;
}

/** Every file of a drop, walking into dropped folders (up to `limit` files). */
export async function filesOfDrop(transfer: DataTransfer, limit = 2000): Promise<File[]> {
  const entries = Array.from(transfer.items ?? [])
    .map((item) => (typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null))
    .filter((entry): entry is FileSystemEntry => entry !== null);
  if (entries.length === 0) return Array.from(transfer.files);
  const files: File[] = [];
  const visit = async (entry: FileSystemEntry): Promise<void> => {
    if (files.length >= limit) return;
    if (entry.isFile) {
      files.push(await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)));
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await visit(child);
      }
    }
  };
  for (const entry of entries) await visit(entry);
  return files;
}

export async function readDropped(file: File): Promise<DroppedFile> {
  return { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
}
