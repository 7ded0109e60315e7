/**
 * `painter inspect PATH [--json]`: what a file or folder holds, read the way
 * the studio reads it — a run (*.safetensors), a session (*.painter), a model
 * folder (manifest.json) or a judge folder (judge.json). Nothing is written.
 * Every loader the studio has can be reached from here, so a damaged or
 * hostile file shows the same one-line refusal on the command line.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseFlags } from './args';
import { PainterError, quoteText } from '../engine/errors';
import { fileError } from '../engine/files';
import { Judge } from '../engine/judge';
import { ModelRegistry } from '../engine/models';
import { readRun } from '../engine/runs';
import { openSession, SESSION_EXTENSION } from '../engine/session';
import type { RunSummary } from '../api/contract';

function runLine(summary: RunSummary): string {
  const { settings } = summary;
  const label = settings.classLabel === null ? '' : ` class ${settings.classLabel}`;
  const branch = summary.branch === null ? '' : ` — branch of ${summary.branch.parentRunId} at step ${summary.branch.step}`;
  return `run ${summary.runId}: ${quoteText(summary.modelId, 64)}${label}, seed ${settings.seed}, ${summary.stepCount - 1} ${settings.sampler} steps${branch}`;
}

export async function commandInspect(args: string[]): Promise<void> {
  const flags = parseFlags(args, { values: [], switches: ['json'] }, 'inspect');
  if (flags.positional.length !== 1) throw new PainterError('BAD_ARGUMENT', '"painter inspect" needs one path: a run, a session, a model folder or a judge folder.');
  const path = resolve(flags.positional[0]!);
  const json = flags.switches.has('json');
  const print = (value: unknown, lines: string[]): void => {
    process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${lines.join('\n')}\n`);
  };
  let isFolder: boolean;
  try {
    isFolder = statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch (error) {
    throw fileError(path, error);
  }
  if (isFolder) {
    if (existsSync(join(path, 'judge.json')) && !existsSync(join(path, 'manifest.json'))) {
      const judge = await Judge.load(path);
      try {
        print(
          { kind: 'judge', folder: path, classes: judge.classes, featureDim: judge.featureDim, testAccuracy: judge.testAccuracy },
          [`judge ${quoteText(path)}: ${judge.classes.length} classes, ${judge.featureDim} features, test accuracy ${(100 * judge.testAccuracy).toFixed(1)} %`],
        );
      } finally {
        await judge.dispose();
      }
      return;
    }
    // A registry with no bundled folder: only this model, loaded once to prove it works.
    const registry = new ModelRegistry({ bundledFolder: '' });
    try {
      const model = await registry.addFolder(path);
      const info = await registry.info(model.manifest.id);
      const { channels, height, width } = info.image;
      // A diffusers folder: its latent grid, the decoded size and whether it takes a prompt.
      const shape = info.decoded ? `latent ${channels}×${height}×${width} → ${info.decoded.image.width}×${info.decoded.image.height} images` : `${channels}×${height}×${width}`;
      const conditioning = info.prompt ? 'takes a prompt' : info.classes ? `${info.classes.length} classes` : 'unconditional';
      const about = info.kind === 'diffusers' ? `${quoteText(info.name, 120)}, ${quoteText(info.description, 160)}` : quoteText(info.name, 120);
      print({ ...info, kind: 'model', modelKind: info.kind }, [`model ${info.id} (${info.kind}, ${shape}, ${conditioning}): ${about}`]);
    } finally {
      await registry.dispose();
    }
    return;
  }
  if (path.endsWith(SESSION_EXTENSION)) {
    const session = openSession(path);
    print(
      { kind: 'session', path, name: session.name, savedAt: session.savedAt, runs: session.runs.map((run) => run.summary), current: session.current },
      [`session "${quoteText(session.name, 120)}": ${session.runCount} run${session.runCount === 1 ? '' : 's'}`, ...session.runs.map((run) => `  ${runLine(run.summary)}`)],
    );
    return;
  }
  const run = readRun(path);
  print({ kind: 'run', path, ...run.summary, image: run.image }, [runLine(run.summary)]);
}
