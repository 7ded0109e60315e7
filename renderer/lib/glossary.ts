/**
 * Every term the studio shows, in plain language: the tooltips (Term.svelte)
 * and the Help page (GlossaryDialog.svelte) read from here, so the two never
 * disagree.
 */

export interface GlossaryEntry {
  /** As the studio writes it. */
  term: string;
  /** One or two sentences, for a tooltip. */
  short: string;
  /** More, for the Help page (optional). */
  more?: string;
}

export const GLOSSARY = {
  x0hat: {
    term: 'x̂0 (“x-hat-zero”)',
    short: "The model's current guess of the final image, made from the noisy state at this step.",
    more: 'Early guesses are blurry averages; they sharpen as the noise goes. Watching x̂0 is watching the model decide.',
  },
  xt: {
    term: 'xₜ',
    short: 'The noisy image the sampler holds at step t: part image, part noise. It starts as pure noise and ends as the final image.',
    more: 'Painting on xₜ (or x̂0) adds a change to this state; the run then continues from it as a branch.',
  },
  xT: {
    term: 'x_T (start noise)',
    short: 'The random noise a run starts from, fixed by its seed. Same seed, same start noise.',
  },
  sigma: {
    term: 'σ (sigma, noise level)',
    short: 'How much noise is mixed into the image at this step: large at the start, 0 at the final image.',
  },
  step: {
    term: 'step',
    short: 'One update of the sampler, from one noise level to the next lower one. Step 0 is the start noise; the last step is the final image.',
  },
  decided: {
    term: '% decided',
    short: "How much of this run's final image the Gaussian theory says is already fixed at this noise level. Broad features (outline, layout) are decided first, details last.",
    more: 'Measured along the data\'s principal directions: direction k is a fraction λₖ/(λₖ+σ²) decided at noise level σ, weighted by how much of the final image lies along it.',
  },
  ghost: {
    term: 'Gaussian theory (ghost)',
    short: 'What a Gaussian model of the data predicts from the same start noise: a model that knows only the average image and how pixels vary together. It has an exact formula, so it needs no network.',
    more: 'Where the network matches it (usually early, at high noise) the network behaves like this simple model; where they part, the network is adding what a Gaussian cannot — sharp edges, textures, specific objects.',
  },
  rmsVsModel: {
    term: 'RMS vs model',
    short: "The typical per-pixel difference between the network's x̂0 and the Gaussian theory's x̂0 at this step (root mean square, in data units). Small: the theory describes the network here.",
  },
  contentChange: {
    term: 'content change',
    short: 'How much the final image moved after a brush stroke: the typical change of a blurred copy (so outline and layout count, fine detail little), as a share of black-to-white.',
  },
  pixelChange: {
    term: 'pixels',
    short: 'The same change measured on every pixel, fine detail included.',
  },
  branch: {
    term: 'branch',
    short: 'A re-run of a run from one step on, with a brush stroke (or a variation) added at that step. Everything before the step is shared with its parent.',
  },
  strength: {
    term: 'brush strength',
    short: 'How big the kick is (its length, in the units of a unit-variance xₜ). The same strength is a fair comparison between early and late steps.',
  },
  grain: {
    term: 'grain',
    short: 'How many pixels the noise brush\'s noise is smooth over. Pixel noise mostly changes detail; coarser grain reaches the outline.',
  },
  pc: {
    term: 'principal component (PC)',
    short: 'A direction in image space along which the data vary most; PC1 varies most. Top PCs are broad patterns (overall shape, brightness), low ones fine detail.',
  },
  lambda: {
    term: 'λₖ (lambda)',
    short: 'How much the data vary along principal direction k (its variance). √λₖ is the typical size of that pattern in the data.',
  },
  keepFraction: {
    term: 'λₖ/(λₖ+σ²)',
    short: 'The share of direction k that the Gaussian model keeps at noise level σ: near 1 when the pattern is much bigger than the noise, near 0 when the noise drowns it. That is why outlines (big λ) are decided before details.',
  },
  commitment: {
    term: 'commitment σ',
    short: 'The noise level at which a direction is half decided. The theory says it is √λₖ: big patterns commit early.',
  },
  jacobian: {
    term: 'Jacobian directions (J1, J2, …)',
    short: "Directions in which a small nudge to xₜ now moves the model's x̂0 the most. The number beside each (e.g. J1 · 0.368) says how much of a nudge passes into x̂0: 1 all of it, 0 none.",
  },
  x0pcs: {
    term: 'x̂0-trajectory PCs',
    short: "The directions along which this run's estimate x̂0 actually moved over all its steps; the percentage is the share of that movement.",
  },
  generator: {
    term: 'generator map',
    short: 'The whole run seen as a function from start noise to final image. Its top directions are the changes of the start noise that change the final image most.',
  },
  ev: {
    term: 'EV(σ) (explained variance)',
    short: "How much of the network's denoising a simpler model (the Gaussian, a mixture, the training set) accounts for at noise level σ: 1 means all of it, 0 none.",
  },
  teleport: {
    term: 'Teleport',
    short: 'Skipping the first steps: jump straight to where the Gaussian theory says the sampler would be, then let the network take over. It saves network evaluations if the images stay as good.',
  },
  rotation: {
    term: 'rotation plane',
    short: "The flat plane through the start noise and the final image. The theory says each path stays close to it, turning from noise to image like a hand of a clock.",
  },
  residual: {
    term: 'largest residual',
    short: 'The direction in which the path leaves its rotation plane the most. A small spread along it means the path is nearly flat.',
  },
  evaluations: {
    term: 'network evaluations',
    short: 'How many times the neural network has been run so far. Heun uses two per step; the Gaussian models none.',
  },
  sampler: {
    term: 'sampler',
    short: 'How each step is taken. Euler (DDIM) and Heun follow the deterministic path; DDPM adds fresh noise at each step.',
  },
  guidance: {
    term: 'guidance',
    short: 'Classifier-free guidance: how strongly the class or the prompt is pushed. 1 is plain conditional; larger values make it more pronounced and the images less varied.',
    more: 'With a prompt, guidance steers towards the prompt and away from the negative prompt (Stable Diffusion: about 7.5; SD-Turbo: 0, the prompt alone).',
  },
  negativePrompt: {
    term: 'negative prompt',
    short: 'What guidance steers away from. Empty: away from the model with no prompt at all, as Stable Diffusion does by default.',
  },
  latent: {
    term: 'latent',
    short: "A latent model (Stable Diffusion) paints a small grid of numbers, 8× smaller than the picture; its VAE decoder turns each into the image you see.",
    more:
      'Scrubbing shows each step at once as a preview (a fixed linear map from the latent to colours, drawn smooth), then the full VAE decode of the step on screen when the engine has it. Brushes are painted on the picture and act on the latent under them.',
  },
  seed: {
    term: 'seed',
    short: 'The number the start noise is made from. The same seed and settings make the same run, bit for bit.',
  },
  perturbation: {
    term: 'perturbation sensitivity',
    short: 'How much a random kick of a given strength, given at a given step, changes the final image. The theory: early kicks change more.',
  },
} satisfies Record<string, GlossaryEntry>;

export type GlossaryId = keyof typeof GLOSSARY;

/** The keyboard and mouse shortcuts, for the "?" overlay. */
export const SHORTCUTS: Array<{ keys: string; what: string }> = [
  { keys: '← / →', what: 'Previous / next step' },
  { keys: 'Home / End', what: 'Start noise / final image' },
  { keys: 'Space', what: 'Play or pause the steps' },
  { keys: 'Drag on xₜ or x̂0', what: 'Paint a brush stroke (branches the run from this step)' },
  { keys: 'Esc (while dragging)', what: 'Cancel the stroke' },
  { keys: 'Double-click an image', what: 'Enlarge it' },
  { keys: 'Ctrl/⌘ + Enter', what: 'Generate' },
  { keys: 'Ctrl/⌘ + Z', what: 'Undo' },
  { keys: 'Shift + Ctrl/⌘ + Z, Ctrl + Y', what: 'Redo' },
  { keys: 'Ctrl/⌘ + S', what: 'Save the session' },
  { keys: 'Shift + Ctrl/⌘ + S', what: 'Save as…' },
  { keys: 'Ctrl/⌘ + O', what: 'Open a session' },
  { keys: 'Ctrl/⌘ + E', what: 'Export…' },
  { keys: 'Drop a file', what: 'Open a .painter session, a run .safetensors or an image; in the desktop app, add a model folder' },
  { keys: '?', what: 'These shortcuts' },
  { keys: 'F1', what: 'Glossary: every term explained' },
];
