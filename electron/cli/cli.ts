/**
 * `painter`: the command-line face of the engine.
 *
 *   painter models [--json] | models add FOLDER | models remove ID
 *   painter sample --model ID|FOLDER [--class N] [--prompt TEXT] [--negative-prompt TEXT]
 *                  [--width W] [--height H] [--guidance G] [--steps N] [--sampler euler|heun|ddpm]
 *                  [--seed S] --out RUN.safetensors [--png STRIP.png] [--json]
 *   painter serve [--port P] [--workspace DIR] [--models DIR]...
 *
 * Every verb that runs a model takes --provider auto|webgpu|cuda|dml|coreml|cpu.
 *
 * Errors print one line on stderr and exit non-zero; output files are
 * written atomically, so a failure leaves none behind.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { SAMPLER_NAMES, type SamplerName } from '../api/contract';
import { integerFlag, numberFlag, parseFlags, requiredFlag, takeProviderFlag } from './args';
import { Engine } from '../engine/service';
import { PainterError, quoteText, toErrorPayload } from '../engine/errors';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { encodePng, imageToRaster, rasterGrid } from '../engine/png';
import { serializeRun, type RunRecord } from '../engine/runs';
import { writeFileAtomic } from '../engine/safetensors';
import { saveRunFile } from '../engine/service';
import type { ProviderChoice } from '../api/contract';
import { checkOverwrite } from './overwrite';
import { decodedStripPng } from '../engine/diffusers/studio';
import { isDiffusersFolder } from '../engine/diffusers/folder';

const PACKAGE_ROOT = resolve(__dirname, '..', '..');

const USAGE = `painter — watch diffusion models paint

  painter models [--json]
  painter models add FOLDER          (a model folder: manifest.json, or a diffusers ONNX folder)
  painter models remove ID           (forgets an added folder; never touches its files)
  painter sample --model ID|FOLDER [--class N] [--prompt TEXT] [--negative-prompt TEXT]
                 [--width W] [--height H] [--guidance G] [--steps N] [--sampler euler|heun|ddpm]
                 [--seed S] --out RUN.safetensors [--png STRIP.png] [--json] [--force]
  painter serve [--port P] [--workspace DIR] [--models DIR]... [--run-memory MB] [--autosave-disk MB]
                [--engine-memory MB]
  painter evaluate --model ID|FOLDER [--samples N] [--conditional N] [--steps N] [--guidance 1,2,4]
                   [--json OUT.json] [--grid PREFIX] [--force]
  painter analyze trajectory|agreement|emergence|perturbation|teleport|retrieval|manifold|locality
                  --model ID|FOLDER [--seeds N] [--steps N] [--sampler S] [--class N]
                  [--prompt P] [--negative-prompt P] [--guidance G]
                  [--gaussian ID] [--judge FOLDER|none] [options] --json OUT.json [--png OUT.png] [--force]
  painter analyze gan-analogy --gan ID --model ID [--k K] [--class N] [--gan-class N] --json OUT.json [--png OUT.png]
  painter analyze manifold --model ID --step K --mask mask.png [--null-space-rank R] [--support auto|region|free] --json F --png F
                  (local directions of the white region of mask.png, issue 14)
  painter report --model ID|FOLDER --out DIR [--steps N] [--only a,b] [--quick] [--force]
  painter inspect RUN.safetensors|SESSION.painter|MODEL_FOLDER|JUDGE_FOLDER [--json]
  painter calibrate-local --model ID|FOLDER --out CALIBRATION.json [--delta ID] [--training N]
                  [--probes M] [--sigmas a,b] [--sizes 1,3,…] [--shift S] [--force]
  painter stats --model ID|FOLDER --images DIR | --from-samples N [--prompt P] [--negative-prompt P]
                [--guidance G] [--steps N] [--sampler S] [--seed S] [--rank K]
                (Gaussian statistics of a diffusers pipeline's latents, for the ghost and the theory lab)

Every verb that runs a model (models, sample, serve, evaluate, analyze, report, calibrate-local, stats) takes
--provider auto|webgpu|cuda|dml|coreml|cpu: the ONNX Runtime execution provider; auto
tries WebGPU, CUDA, DirectML, CoreML (those this build has), then CPU, and says why it
passed one over. Default: the studio's saved choice, else auto.
--model takes a model id or a model folder's path (registered for that command only;
\`painter models add\` keeps it). A diffusers folder (Optimum's \`optimum-cli export onnx\`
layout) needs no manifest; text-to-image ones take --prompt, and their strips show VAE decodes.

Environment: PAINTER_HOME (settings and autosaved runs; default ~/.config/painter),
PAINTER_PROVIDER (the default for --provider), PAINTER_RUN_MEMORY_MB
(open runs kept in memory, default 1024), PAINTER_AUTOSAVE_DISK_MB (autosaves kept, default 4096).
Output files are never replaced unless Painter wrote them (same kind) or --force is given.`;

export function userDataDir(): string {
  return process.env['PAINTER_HOME'] ?? join(process.env['XDG_CONFIG_HOME'] ?? join(homedir(), '.config'), 'painter');
}

/** Notices (a provider that fell back, …) go to stderr as they happen, one line each. */
function printNotice(message: string): void {
  process.stderr.write(`painter: notice: ${message}\n`);
}

function makeEngine(provider: ProviderChoice | undefined): Engine {
  return new Engine({
    nativeModelsDir: join(PACKAGE_ROOT, 'native-models'),
    userDataDir: userDataDir(),
    ...(provider ? { provider } : {}),
    onNotice: printNotice,
  });
}

/** Runs one command on an engine of its own, released however the command ends. */
async function withEngine(provider: ProviderChoice | undefined, command: (engine: Engine) => Promise<void>): Promise<0> {
  const engine = makeEngine(provider);
  try {
    await command(engine);
  } finally {
    await engine.dispose();
  }
  return 0;
}

async function commandModels(args: string[], provider: ProviderChoice | undefined): Promise<void> {
  const [action, target, ...more] = args;
  if (action === 'add' || action === 'remove') {
    if (target === undefined || target.startsWith('--') || more.length > 0) {
      throw new PainterError('BAD_ARGUMENT', action === 'add' ? 'Usage: painter models add FOLDER' : 'Usage: painter models remove ID');
    }
    const engine = makeEngine(provider);
    try {
      if (action === 'add') {
        const info = await engine.call('addModelFolder', { folder: resolve(target) });
        const size = info.decoded ? `${info.decoded.image.width}×${info.decoded.image.height}` : `${info.image.width}×${info.image.height}`;
        process.stdout.write(`Added ${info.id} (${info.kind}, ${size}${info.prompt ? ', takes a prompt' : ''}) from ${info.folder}\n`);
      } else {
        const { removed } = await engine.call('removeModel', { modelId: target });
        process.stdout.write(`Removed ${removed} (its folder is untouched)\n`);
      }
    } finally {
      await engine.dispose();
    }
    return;
  }
  const flags = parseFlags(args, { values: [], switches: ['json'] }, 'models');
  const engine = makeEngine(provider);
  try {
    const models = await engine.call('listModels', {});
    if (flags.switches.has('json')) {
      process.stdout.write(`${JSON.stringify(models)}\n`);
      return;
    }
    for (const model of models) {
      const { channels, height, width } = model.image;
      const classes = model.classes ? `${model.classes.length} classes` : 'unconditional';
      process.stdout.write(`${model.id.padEnd(26)} ${model.kind.padEnd(9)} ${`${channels}×${height}×${width}`.padEnd(10)} ${classes.padEnd(14)} ${model.name}\n`);
    }
    for (const problem of engine.registry.scanProblems) process.stderr.write(`warning: ${problem}\n`);
  } finally {
    await engine.dispose();
  }
}

/** x̂0 over x_t, for up to 16 states evenly spread from the first to the last. */
function stripPng(run: RunRecord): Uint8Array {
  const { stepCount } = run.summary;
  const dim = run.image.channels * run.image.height * run.image.width;
  const columns = Math.min(16, stepCount);
  const picks = Array.from({ length: columns }, (_, i) => Math.round((i * (stepCount - 1)) / Math.max(columns - 1, 1)));
  const top = picks.map((s) => imageToRaster(run.x0Hat, s * dim, run.image));
  // σ-form states are drawn as x/√(1+σ²) (the VP state), or early ones would be clipped noise.
  const bottom = picks.map((s) => {
    const gain = run.summary.convention === 'sigma' ? 1 / Math.sqrt(1 + run.summary.sigmas[s]! ** 2) : 1;
    return imageToRaster(run.xt.subarray(s * dim, (s + 1) * dim).map((v) => v * gain), 0, run.image);
  });
  const scale = Math.max(1, Math.floor(96 / run.image.width));
  return encodePng(rasterGrid([...top, ...bottom], columns, scale));
}

async function commandSample(args: string[], provider: ProviderChoice | undefined): Promise<void> {
  const flags = parseFlags(
    args,
    { values: ['model', 'class', 'guidance', 'steps', 'sampler', 'seed', 'out', 'png', 'prompt', 'negative-prompt', 'width', 'height'], switches: ['json', 'force'] },
    'sample',
  );
  const force = flags.switches.has('force');
  const modelArgument = requiredFlag(flags, 'model', 'sample');
  const out = resolve(requiredFlag(flags, 'out', 'sample'));
  if (!out.endsWith('.safetensors')) throw new PainterError('BAD_ARGUMENT', `--out must end in .safetensors; got "${out}".`);
  const png = flags.values.get('png');
  if (png !== undefined) checkOverwrite(resolve(png), 'png', '--png', force);
  const sampler = flags.values.get('sampler') ?? 'euler';
  if (!(SAMPLER_NAMES as readonly string[]).includes(sampler)) {
    throw new PainterError('BAD_ARGUMENT', `--sampler must be one of ${SAMPLER_NAMES.join(', ')}; got "${sampler}".`);
  }
  const engine = makeEngine(provider);
  try {
    const modelId = await engine.registry.resolveId(modelArgument);
    const info = await engine.registry.info(modelId);
    const classText = flags.values.get('class');
    const prompt = flags.values.get('prompt');
    const negativePrompt = flags.values.get('negative-prompt');
    const summary = await engine.generate({
      modelId,
      seed: integerFlag(flags, 'seed', 0, 0, 2 ** 32 - 1),
      steps: integerFlag(flags, 'steps', info.defaultSteps, 1, 1000),
      sampler: sampler as SamplerName,
      classLabel: classText === undefined ? null : integerFlag(flags, 'class', 0, 0, 1_000_000),
      guidance: numberFlag(flags, 'guidance', info.defaultGuidance, 0, 50),
      ...(prompt !== undefined ? { prompt } : {}),
      ...(negativePrompt !== undefined ? { negativePrompt } : {}),
      ...(flags.values.has('width') ? { width: integerFlag(flags, 'width', 0, 8, 4096) } : {}),
      ...(flags.values.has('height') ? { height: integerFlag(flags, 'height', 0, 8, 4096) } : {}),
    });
    const run = engine.getRunRecord(summary.runId);
    const pipeline = info.kind === 'diffusers' && info.space === 'latent' ? await engine.registry.loadPipeline(modelId) : null;
    // Latent runs: the strip shows the VAE's decodes of x̂0 over x_t.
    const pngBytes = png === undefined ? null : pipeline !== null ? await decodedStripPng(pipeline, run, 'both', Math.min(8, summary.stepCount)) : stripPng(run);
    serializeRun(run); // validate serialisation before touching any output path
    saveRunFile(out, run, { force });
    if (pngBytes !== null) writeFileAtomic(resolve(png!), pngBytes);
    if (flags.switches.has('json')) {
      const line = {
        model: modelId,
        ...(prompt !== undefined ? { prompt } : {}),
        steps: summary.settings.steps,
        sampler: summary.settings.sampler,
        seed: summary.settings.seed,
        evaluations: summary.evaluations[summary.evaluations.length - 1],
        seconds: Number(summary.seconds.toFixed(4)),
        provider: summary.provider,
        out,
        ...(png === undefined ? {} : { png: resolve(png) }),
        ...(summary.warnings === undefined ? {} : { warnings: summary.warnings }),
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    } else {
      process.stdout.write(`Wrote ${out} (${summary.stepCount} states, ${summary.seconds.toFixed(2)} s on ${summary.provider})\n`);
    }
    for (const warning of summary.warnings ?? []) process.stderr.write(`warning: ${warning}\n`);
  } finally {
    await engine.dispose();
  }
}

async function commandServe(args: string[], provider: ProviderChoice | undefined): Promise<void> {
  const flags = parseFlags(args, { values: ['port', 'workspace', 'run-memory', 'autosave-disk', 'engine-memory'], switches: [], lists: ['models'] }, 'serve');
  const engineMemory = flags.values.get('engine-memory');
  const runMemory = flags.values.get('run-memory');
  const autosaveDisk = flags.values.get('autosave-disk');
  const { startServer } = await import('../serve/server');
  // Browser mode reads and writes only in its workspace and the model folders named here (issue 9, item 9).
  const workspace = resolve(flags.values.get('workspace') ?? join(userDataDir(), 'workspace'));
  const modelFolders = modelFoldersOf(flags.lists.get('models') ?? []);
  const server = await startServer({
    confine: { workspace, readOnly: flags.lists.get('models')?.map((folder) => resolve(folder)) ?? [] },
    modelFolders,
    ...(engineMemory !== undefined ? { engineMemoryMB: integerFlag(flags, 'engine-memory', 0, 64, 1_048_576) } : {}),
    storage: {
      ...(runMemory !== undefined ? { runMemoryMB: integerFlag(flags, 'run-memory', 0, 16, 1_048_576) } : {}),
      ...(autosaveDisk !== undefined ? { autosaveDiskMB: integerFlag(flags, 'autosave-disk', 0, 16, 1_048_576) } : {}),
    },
    port: integerFlag(flags, 'port', 0, 0, 65535),
    rendererDir: join(PACKAGE_ROOT, 'out', 'renderer'),
    workerPath: join(__dirname, 'engine-worker.cjs'),
    nativeModelsDir: join(PACKAGE_ROOT, 'native-models'),
    userDataDir: userDataDir(),
    ...(provider ? { provider } : {}),
  });
  process.stdout.write(`Painter is serving the studio at\n  ${server.url}\n(127.0.0.1 only; the token in the URL is required; Ctrl+C stops)\n`);
  process.stdout.write(`Workspace: ${workspace} — the studio reads and writes files only there${modelFolders.length > 0 ? ` and reads the model folders ${modelFolders.join(', ')}` : ''}.\n`);
  // Ctrl+C / SIGTERM always stop serve, even with a hung engine (issue 9, item 10): the engine gets
  // two seconds to exit cleanly, then is killed; a second signal, or five seconds, end it at once.
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stdout.write('Stopping…\n');
    setTimeout(() => process.exit(1), 5000).unref();
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** `--model PATH` → `--model ID` (the folder registered for this command), for verbs that take an id. */
async function modelPathsToIds(args: string[], engine: Engine): Promise<string[]> {
  const out = [...args];
  for (let i = 0; i + 1 < out.length; i++) if (out[i] === '--model') out[i + 1] = await engine.registry.resolveId(out[i + 1]!);
  return out;
}

/** The verbs that run (or list) models, and so take --provider. */
const MODEL_VERBS = new Set(['models', 'sample', 'serve', 'evaluate', 'analyze', 'report', 'calibrate-local', 'stats']);

/**
 * `--models DIR`: a model folder (it has manifest.json, or is a diffusers
 * folder with model_index.json) or a folder of model folders; each becomes a
 * model of this launch.
 */
function modelFoldersOf(folders: readonly string[]): string[] {
  const models: string[] = [];
  for (const given of folders) {
    const folder = resolve(given);
    if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory()) {
      throw new PainterError('BAD_ARGUMENT', `--models: ${quoteText(folder)} is not a folder.`, { path: folder });
    }
    const isModel = (path: string): boolean => existsSync(join(path, 'manifest.json')) || isDiffusersFolder(path);
    if (isModel(folder)) {
      models.push(folder);
      continue;
    }
    const inside = readdirSync(folder, { withFileTypes: true }).filter((entry) => entry.isDirectory() && isModel(join(folder, entry.name)));
    if (inside.length === 0) throw new PainterError('BAD_ARGUMENT', `--models: ${quoteText(folder)} holds no manifest.json or model_index.json, nor folders that do.`, { path: folder });
    models.push(...inside.map((entry) => join(folder, entry.name)));
  }
  return models;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    const { provider, rest } = command !== undefined && MODEL_VERBS.has(command) ? takeProviderFlag(args) : { provider: undefined, rest: args };
    switch (command) {
      case 'models':
        await commandModels(rest, provider);
        return 0;
      case 'sample':
        await commandSample(rest, provider);
        return 0;
      case 'serve':
        await commandServe(rest, provider);
        return 0;
      case 'inspect':
        await (await import('./inspect')).commandInspect(rest);
        return 0;
      case 'evaluate': {
        return await withEngine(provider, async (engine) => (await import('./evaluate')).commandEvaluate(await modelPathsToIds(rest, engine), engine));
      }
      case 'analyze':
      case 'report': {
        return await withEngine(provider, async (engine) => {
          const lab = await import('./analyze');
          await (command === 'analyze' ? lab.commandAnalyze(rest, engine) : lab.commandReport(rest, engine));
        });
      }
      case 'calibrate-local': {
        return await withEngine(provider, async (engine) => (await import('./calibrate')).commandCalibrateLocal(rest, engine));
      }
      case 'stats': {
        return await withEngine(provider, async (engine) => (await import('./stats')).commandStats(rest, engine));
      }
      case undefined:
      case '--help':
      case 'help':
        process.stdout.write(`${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new PainterError('BAD_ARGUMENT', `Unknown command "${command}"; commands: models, sample, serve, analyze, report, evaluate, inspect, calibrate-local, stats (painter --help).`);
    }
  } catch (error) {
    const payload = toErrorPayload(error);
    process.stderr.write(`painter: ${payload.message}\n`);
    return payload.code === 'BAD_ARGUMENT' ? 2 : 1;
  }
}
