/**
 * Browser mode: files the engine just exported, offered to the browser as a
 * download (the export itself is written on the engine's machine, which may
 * be another computer). Only paths that an export call returned are ever
 * served, each under a random id, for a limited time.
 */
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type { ApiMethod } from '../api/contract';

const EXPORT_METHODS: ReadonlySet<ApiMethod> = new Set(['exportStrip', 'exportAnimation', 'exportTrajectories']);
/** How long a download link works. */
const LIFETIME_MS = 30 * 60 * 1000;
const MAX_ENTRIES = 256;

export class Downloads {
  private readonly entries = new Map<string, { path: string; expires: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether a method's result is an exported file that may be offered. */
  static offers(method: ApiMethod): boolean {
    return EXPORT_METHODS.has(method);
  }

  /** Registers an exported file; returns the link's path (the caller adds the token). */
  register(path: string): string {
    this.prune();
    const id = randomBytes(16).toString('hex');
    this.entries.set(id, { path, expires: this.now() + LIFETIME_MS });
    while (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    return `/download/${id}/${encodeURIComponent(basename(path))}`;
  }

  /** The file behind a link path (`/download/<id>/<name>`), or null when it is unknown or expired. */
  resolve(pathname: string): string | null {
    const match = /^\/download\/([0-9a-f]{32})\/[^/]+$/.exec(pathname);
    if (match === null) return null;
    const entry = this.entries.get(match[1]!);
    if (entry === undefined || entry.expires < this.now()) return null;
    return entry.path;
  }

  private prune(): void {
    const now = this.now();
    for (const [id, entry] of this.entries) if (entry.expires < now) this.entries.delete(id);
  }
}
