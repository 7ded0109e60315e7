/**
 * Where the API may read and write (issue 9, item 9; DESIGN.md §4: "Browser
 * mode is confined"). The engine is given a policy; it holds no global state.
 *
 * - Unconfined (the desktop app, which names files through native dialogs,
 *   and the CLI): any path; a relative one resolves against `base`.
 * - Confined (`painter serve`): a path is read only if, after following every
 *   link, it lies inside the workspace, a model folder named on the command
 *   line or the bundled models; it is written only inside the workspace. A
 *   new file's place is judged by the real path of its nearest existing
 *   ancestor, so a link anywhere on the way cannot lead out. Relative paths
 *   resolve against the workspace, never the server's working folder.
 *
 * The check and the use are separate system calls, so a process that can
 * already write inside the workspace could swap a link in between; the policy
 * guards against a remote client, not against local users of the same account.
 */
import { lstatSync, mkdirSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileError, PainterError, quoteText } from './errors';

export interface ConfinementOptions {
  /** Read and written; created when missing. */
  workspace: string;
  /** Read only (model folders named on the command line, the bundled models). */
  readOnly: readonly string[];
}

function isWithin(root: string, path: string): boolean {
  if (path === root) return true;
  const inside = relative(root, path);
  return inside !== '' && !inside.startsWith(`..${sep}`) && inside !== '..' && !isAbsolute(inside);
}

/**
 * The real path of `path`, or, when it does not exist yet, the real path of
 * its nearest existing ancestor joined with the rest.
 */
export function realPathForNew(path: string): string {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    try {
      const real = realpathSync(current);
      return missing.length === 0 ? real : join(real, ...missing.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A dangling link is not "missing": following it could create a file anywhere.
      if (code === 'ENOENT' && lstatSync(current, { throwIfNoEntry: false })?.isSymbolicLink() === true) {
        throw new PainterError('OUTSIDE_WORKSPACE', `Browser mode does not write through a link to nothing: ${quoteText(current)}.`, { path });
      }
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fileError(path, error);
      const parent = dirname(current);
      if (parent === current) throw fileError(path, error);
      missing.push(basename(current));
      current = parent;
    }
  }
}

export class PathPolicy {
  private constructor(
    /** Relative paths resolve against this folder. */
    readonly base: string,
    private readonly readRoots: readonly string[] | null,
    private readonly writeRoots: readonly string[] | null,
    /** How the roots are named in messages (the paths the user gave). */
    private readonly described: string,
  ) {}

  static unconfined(base: string = process.cwd()): PathPolicy {
    return new PathPolicy(resolve(base), null, null, '');
  }

  static confined(options: ConfinementOptions): PathPolicy {
    const workspace = resolve(options.workspace);
    try {
      mkdirSync(workspace, { recursive: true });
    } catch (error) {
      throw fileError(workspace, error, 'create');
    }
    const real = (folder: string): string => {
      try {
        return realpathSync(folder);
      } catch (error) {
        throw fileError(folder, error);
      }
    };
    const realWorkspace = real(workspace);
    const readOnly = options.readOnly.map((folder) => real(resolve(folder)));
    const described = [workspace, ...options.readOnly.map((folder) => resolve(folder))].map((folder) => quoteText(folder, 120)).join(', ');
    return new PathPolicy(realWorkspace, [realWorkspace, ...readOnly], [realWorkspace], described);
  }

  get confined(): boolean {
    return this.readRoots !== null;
  }

  /** The workspace of a confined policy; null when unconfined. */
  get workspace(): string | null {
    return this.writeRoots?.[0] ?? null;
  }

  private refuse(path: string, action: 'read' | 'write'): never {
    const where = action === 'read' ? `its workspace and model folders (${this.described})` : `its workspace (${quoteText(this.workspace ?? '', 120)})`;
    throw new PainterError('OUTSIDE_WORKSPACE', `Browser mode ${action === 'read' ? 'reads' : 'writes'} only inside ${where}; ${quoteText(path)} is outside.`, { path, action });
  }

  /** `path` made absolute (against `base`); unconfined, nothing else. */
  absolute(path: string): string {
    return resolve(this.base, path);
  }

  /** A path the API will read: absolute, and inside the read roots after links when confined. */
  forRead(path: string): string {
    const absolute = this.absolute(path);
    if (this.readRoots === null) return absolute;
    const real = realPathForNew(absolute);
    if (!this.readRoots.some((root) => isWithin(root, real))) this.refuse(absolute, 'read');
    return real;
  }

  /** A path the API will write (a new or replaced file, or a folder it creates). */
  forWrite(path: string): string {
    const absolute = this.absolute(path);
    if (this.writeRoots === null) return absolute;
    const real = realPathForNew(absolute);
    if (!this.writeRoots.some((root) => isWithin(root, real) && real !== root)) this.refuse(absolute, 'write');
    return real;
  }

  /** Whether `path` could be read (for filtering lists such as recent sessions); never throws. */
  allowsRead(path: string): boolean {
    try {
      this.forRead(path);
      return true;
    } catch {
      return false;
    }
  }
}
