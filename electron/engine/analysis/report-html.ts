/**
 * The report as one self-contained HTML page: inline SVG charts, PNG figures
 * as data URIs, and the claims table — no scripts, no external resources.
 */
import type { ImageSpec } from '../manifest';
import { encodePng } from '../png';
import { formatMeanSd } from './claims';
import { analysisPicture, type AnalysisResult } from './figures';
import type { ReportData } from './report';
import { escapeHtml, lineChart, type Series } from './report-svg';
import { ganAnalogyPicture } from './gan-analogy';

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ddd; padding: 4px 8px; vertical-align: top; text-align: left; }
.yes { color: #176a32; font-weight: 600; } .no { color: #a3261b; font-weight: 600; } .na { color: #777; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; } svg text { font-size: 11px; fill: #333; } svg .title { font-size: 12px; font-weight: 600; }
img.figure { image-rendering: pixelated; max-width: 100%; border: 1px solid #ccc; margin: 6px 0; }
.muted { color: #666; } code { background: #f4f4f4; padding: 0 3px; }
`;

function png(result: AnalysisResult | undefined, image: ImageSpec, caption: string): string {
  if (!result) return '';
  const raster = analysisPicture(result, image);
  if (raster === null) return '';
  const data = Buffer.from(encodePng(raster)).toString('base64');
  return `<figure><img class="figure" alt="${escapeHtml(caption)}" src="data:image/png;base64,${data}"><figcaption class="muted">${escapeHtml(caption)}</figcaption></figure>`;
}

function verdict(holds: boolean | null): string {
  return holds === null ? '<span class="na">not measured</span>' : holds ? '<span class="yes">holds</span>' : '<span class="no">does not hold</span>';
}

function fixed(value: number | null | undefined, digits = 3): string {
  return value == null || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);
}

function trajectorySection(data: ReportData, image: ImageSpec): string {
  const t = data.results.trajectory;
  if (!t) return '';
  const steps = t.sigmas.map((_, j) => j);
  return `<h2>1 · Trajectory geometry</h2>
<p>PCA of each x_t trajectory (VP view, ${t.settings.seeds.length} seeds): PCs 1–5 explain ${t.explained.map((e) => `${(100 * e.mean).toFixed(2)} %`).join(', ')}; top two ${formatMeanSd(t.top2, 2, 100)} %.
x̂0 trajectory: top two ${formatMeanSd(t.x0Hat.top2, 2, 100)} %.</p>
<div class="charts">${lineChart(
    [
      { name: 'x_t', x: [1, 2, 3, 4, 5], y: t.explained.map((e) => e.mean), sd: t.explained.map((e) => e.sd), points: true },
      { name: 'x̂0', x: [1, 2, 3, 4, 5], y: t.x0Hat.explained.map((e) => e.mean), points: true },
    ],
    { title: 'Share of variance per principal component', xLabel: 'PC', yLabel: 'share', yMin: 0, yMax: 1 },
  )}${lineChart(
    [
      { name: 'outside span{x_T, x0}', x: steps, y: t.spanResidual.map((v) => v.mean), sd: t.spanResidual.map((v) => v.sd) },
      { name: 'x_t − (α x̂0 + σ x_T)', x: steps, y: t.rotationError.map((v) => v.mean), dashed: true },
      { name: 'x̂0 outside its plane', x: steps, y: t.x0Hat.spanResidual.map((v) => v.mean) },
    ],
    { title: 'Relative residuals along the run', xLabel: 'step', yLabel: 'relative residual', yMin: 0 },
  )}</div>
${png(t, image, 'Seed 0: x̂0 (top) and x_t in the VP view (bottom) from the first to the last step.')}`;
}

function agreementSection(data: ReportData, image: ImageSpec): string {
  const a = data.results.agreement;
  if (!a) return '';
  const series: Series[] = a.ev.references.map((r) => ({ name: r.name, x: a.ev.sigmas, y: r.ev.map((v) => v.mean), sd: r.ev.map((v) => v.sd) }));
  const r2Series: Series[] = a.ev.references.map((r) => ({ name: r.name, x: a.ev.sigmas, y: r.r2.map((v) => Math.max(0, v.mean)), sd: r.r2.map((v) => v.sd) }));
  const steps = a.trajectory.sigmas;
  return `<h2>2 · Gaussian–network agreement, and where a local model takes over</h2>
<p>Probe points: ${escapeHtml(a.settings.probeSource)} + σ·noise (${a.settings.seeds.length} noise draws). EV(σ) = 1 − E‖D_nn − D_ref‖²/E‖D_nn − x‖²;
r²(σ) = the median over probe images of 1 − ‖x̂0_nn − x̂0_ref‖²/‖x̂0_nn − mean‖² (Kamb &amp; Ganguli 2025 report a median r² ≈ 0.94 for their local patch model on Fashion-MNIST convolutional networks, ≈ 0.77 for a UNet with attention on CIFAR-10).</p>
<div class="charts">${lineChart(series, { title: 'Explained variance EV(σ)', xLabel: 'σ', yLabel: 'EV', xLog: true, yMax: 1 })}${lineChart(r2Series, {
    title: 'Median r²(σ) of x̂0',
    xLabel: 'σ',
    yLabel: 'r²',
    xLog: true,
    yMin: 0,
    yMax: 1,
  })}${lineChart(
    [
      { name: 'x_t (VP view), relative', x: steps, y: a.trajectory.stateRelative.map((v) => v.mean) },
      { name: 'x̂0 RMS per pixel', x: steps, y: a.trajectory.x0Distance.map((v) => v.mean), dashed: true },
    ],
    { title: 'Network vs closed-form Gaussian trajectory', xLabel: 'σ', yLabel: 'distance', xLog: true, xReverse: true, yMin: 0 },
  )}</div>
<table><tr><th>σ</th>${a.ev.references.map((r) => `<th>EV ${escapeHtml(r.name)}</th>`).join('')}${a.ev.references.map((r) => `<th>r² ${escapeHtml(r.name)}</th>`).join('')}</tr>${a.ev.sigmas
    .map(
      (s, i) =>
        `<tr><td>${s.toPrecision(3)}</td>${a.ev.references.map((r) => `<td>${formatMeanSd(r.ev[i], 4)}</td>`).join('')}${a.ev.references.map((r) => `<td>${formatMeanSd(r.r2[i], 3)}</td>`).join('')}</tr>`,
    )
    .join('')}</table>
${png(a, image, `One probe image at σ = ${a.probeExample.sigmas.map((s) => s.toPrecision(2)).join(', ')} (columns). Rows: ${a.probeExample.rows.map((r) => escapeHtml(r.name)).join(', ')}.`)}`;
}

function emergenceSection(data: ReportData, image: ImageSpec): string {
  const e = data.results.emergence;
  if (!e) return '';
  const n = e.directions.length;
  const shown = [0, Math.floor(n / 3), Math.floor((2 * n) / 3), n - 1].filter((k, i, all) => all.indexOf(k) === i);
  const series: Series[] = shown.flatMap((k, i) => {
    const d = e.directions[k]!;
    const color = ['#2f6fdf', '#e0702a', '#2a9d5c', '#b23a8f'][i]!;
    return [
      { name: `PC ${d.index + 1} measured`, x: e.sigmas, y: d.curve, color },
      { name: `PC ${d.index + 1} theory`, x: e.sigmas, y: d.theory, dashed: true, color },
    ];
  });
  const sqrtLambda = e.directions.map((d) => d.sqrtLambda);
  return `<h2>3 · Feature emergence</h2>
<p>Spearman ρ(commitment σ_k, sqrt λ_k) = ${formatMeanSd(e.rankCorrelation, 3)} per seed (pooled ${e.pooledRankCorrelation.toFixed(3)}), ${e.directions.length} data PCs (${e.settings.spacing === 'log' ? 'log-spaced' : 'leading'}: ${e.settings.indices.map((k) => k + 1).join(', ')}), ${e.settings.seeds.length} seeds.</p>
<div class="charts">${lineChart(series, { title: 'x̂0 along u_k relative to its final value', xLabel: 'σ', yLabel: 'fraction', xLog: true, xReverse: true, yMin: -0.2, yMax: 1.2 })}${lineChart(
    [
      { name: 'commitment σ_k', x: sqrtLambda, y: e.directions.map((d) => d.pooledCommitment), points: true },
      { name: 'σ_k = sqrt λ_k', x: sqrtLambda, y: sqrtLambda, dashed: true },
    ],
    { title: 'Commitment σ vs sqrt(λ_k)', xLabel: 'sqrt λ_k', yLabel: 'commitment σ', xLog: true, yLog: true },
  )}</div>
${png(e, image, 'Seed 0: x̂0 from the first to the last step — outline first, details later.')}`;
}

function perturbationSection(data: ReportData, image: ImageSpec): string {
  const p = data.results.perturbation;
  if (!p) return '';
  const max = Math.max(...p.table.flat().map((c) => c.change.mean));
  const rows = p.table
    .map((row, r) => {
      const cells = row
        .map((c) => {
          const shade = Math.round(255 - 150 * (c.change.mean / (max || 1)));
          const extra = c.flipRate !== null ? `<br>flips ${(100 * c.flipRate).toFixed(0)} %, feat ${fixed(c.featureDistance?.mean, 2)}` : '';
          return `<td style="background: rgb(255, ${shade}, ${shade})">${formatMeanSd(c.change, 2)}<br><span class="muted">theory ${fixed(c.theory.mean, 2)}</span><br>content ${fixed(c.contentChange.mean, 2)} <span class="muted">(theory ${fixed(c.contentTheory.mean, 2)})</span>${extra}</td>`;
        })
        .join('');
      return `<tr><th>step ${p.settings.injectSteps[r]} (σ = ${p.injectSigmas[r]!.toPrecision(3)})</th>${cells}</tr>`;
    })
    .join('');
  return `<h2>4 · Perturbation sensitivity</h2>
<p>${escapeHtml(p.settings.direction.kind)} unit kicks of norm a in the ${p.settings.convention} view of x_t; cells: ‖Δx0‖ (mean ± sd over ${p.settings.seeds.length} seeds), the Gaussian theory for the same kicks, the content change ‖U_Kᵀ Δx0‖ along the data's ${p.settings.contentDimensions} leading PCs${p.settings.judge ? ', judge label flips and feature distance' : ''}.
Trend (Spearman over steps): L2 ${fixed(p.trend.changeWithStep, 2)}, theory ${fixed(p.trend.theoryWithStep, 2)}, content ${fixed(p.trend.contentWithStep, 2)}${p.trend.featureWithStep !== null ? `, features ${fixed(p.trend.featureWithStep, 2)}, flips ${fixed(p.trend.flipWithStep, 2)}` : ''}; over strengths ${fixed(p.trend.changeWithStrength, 2)}.</p>
<table><tr><th>injection step \\ strength a</th>${p.settings.strengths.map((a) => `<th>${a}</th>`).join('')}</tr>${rows}</table>
${png(p, image, 'Seed 0: each row an injection step — the unperturbed final image, then the final image after each kick strength.')}`;
}

function teleportSection(data: ReportData, image: ImageSpec): string {
  const t = data.results.teleport;
  if (!t) return '';
  const rows = t.rows
    .map(
      (r) =>
        `<tr><td>${(100 * r.skip).toFixed(0)} %</td><td>${r.sigmaSkip.toPrecision(3)}</td><td>${r.evaluations}</td><td>${r.saved}</td><td>${formatMeanSd(r.difference, 4)}</td><td>${fixed(r.quality.pcFrechet, 3)}</td><td>${fixed(r.quality.judgeFrechet, 3)}</td><td>${fixed(r.quality.judgeScore, 2)}</td><td>${fixed(r.quality.judgeAccuracy, 2)}</td><td>${r.withinNoise ? 'yes' : 'no'}</td></tr>`,
    )
    .join('');
  return `<h2>5 · Analytical teleportation</h2>
<p>${t.settings.seeds.length} seeds${t.settings.classCycle ? ', class b mod C for seed b' : ''}; the closed-form start uses ${t.settings.classGaussians ? "each sample's class Gaussian (the mixture's component)" : 'the all-data Gaussian'}. Noise (bootstrap sd of the full run): PC Fréchet ${fixed(t.noise.pcFrechet, 3)}${t.noise.judgeFrechet !== null ? `, judge Fréchet ${fixed(t.noise.judgeFrechet, 3)}, judge score ${fixed(t.noise.judgeScore, 3)}` : ''}. Largest skip within noise: <b>${(100 * t.largestSafe.skip).toFixed(0)} %</b> (${t.largestSafe.saved} evaluations saved per sample).</p>
<table><tr><th>skip</th><th>σ_skip</th><th>evaluations</th><th>saved</th><th>RMS Δ vs full</th><th>PC Fréchet</th><th>judge Fréchet</th><th>judge score</th><th>accuracy</th><th>within noise</th></tr>${rows}</table>
${png(t, image, 'Seed 0: the final image for each skip, from the full run (left) to the largest skip (right).')}`;
}

function retrievalSection(data: ReportData, image: ImageSpec): string {
  const r = data.results.retrieval;
  if (!r) return '';
  const entropySigmas = r.sigmas.slice(0, -1);
  return `<h2>6 · Retrieval and the delta mixture</h2>
<p>${r.settings.trainingImages} training images (ln N = ${r.maxEntropy.toFixed(2)}), ${r.settings.seeds.length} seeds, same x_T for the network and the exact delta mixture.</p>
<div class="charts">${lineChart(
    [
      { name: 'network', x: entropySigmas, y: r.network.entropy.map((v) => v.mean), sd: r.network.entropy.map((v) => v.sd) },
      { name: 'delta mixture', x: entropySigmas, y: r.delta.entropy.map((v) => v.mean), dashed: true },
    ],
    { title: 'Training-set posterior entropy', xLabel: 'σ', yLabel: 'entropy (nats)', xLog: true, xReverse: true, yMin: 0 },
  )}${lineChart(
    [
      { name: 'network x̂0', x: r.sigmas, y: r.network.nearest.map((v) => v.mean) },
      { name: 'delta x̂0', x: r.sigmas, y: r.delta.nearest.map((v) => v.mean), dashed: true },
    ],
    { title: 'Distance to the nearest training image', xLabel: 'σ', yLabel: 'RMS per pixel', xLog: true, xReverse: true, yMin: 0 },
  )}</div>
${png(r, image, 'Seed 0: the network’s sample and its nearest training image; the delta mixture’s sample and its nearest training image.')}`;
}

function manifoldSection(data: ReportData, image: ImageSpec): string {
  const m = data.results.manifold;
  if (!m) return '';
  const index = m.jacobian.eigenvalues.map((_, i) => i + 1);
  const generator = m.generator;
  return `<h2>7 · Interpretable directions</h2>
<p>Step ${m.settings.step} (σ = ${m.settings.sigma.toPrecision(3)}): top ${m.settings.k} eigenvectors of the symmetrised denoiser Jacobian; the search grows until each has moved less than ${m.jacobian.first.toleranceDeg}° since the search space was half its size, up to ${m.jacobian.first.budget} forward passes.
<b>${m.jacobian.first.found} of ${m.settings.k} converged</b> in ${m.jacobian.first.forwardPasses} forward passes (${m.jacobian.first.calls} batched calls, ${m.jacobian.first.seconds.toFixed(1)} s; blocks of ${m.settings.blockSize}); only those are in the grid below.
Per direction, degrees still moving: ${m.jacobian.first.convergenceDeg.map((a, i) => `J${i + 1} ${Number.isFinite(a) ? a.toFixed(1) : '–'}${m.jacobian.first.tiedWith[i]!.length > 0 ? ` (tied with ${m.jacobian.first.tiedWith[i]!.map((t) => `J${t + 1}`).join(', ')})` : ''}`).join(', ')}.
Skew share of the Jacobian ${fixed(m.jacobian.asymmetry.mean, 3)};
principal angles to the data's top-${m.jacobian.anglesToData.length} PCs: ${m.jacobian.anglesToData.map((a) => a.toFixed(0)).join('°, ')}°.
${generator ? `Generator map: ${generator.forwardPasses} forward passes (${generator.seconds.toFixed(1)} s).` : ''}</p>
<div class="charts">${lineChart(
    [
      { name: 'network (symmetrised)', x: index, y: m.jacobian.eigenvalues.map((v) => v.mean), points: true },
      { name: 'Gaussian λ/(λ+σ²)', x: index, y: m.jacobian.theory, dashed: true },
    ],
    { title: 'Denoiser Jacobian eigenvalues', xLabel: 'k', yLabel: 'eigenvalue', yMin: 0 },
  )}${
    generator
      ? lineChart(
          [
            { name: 'network', x: generator.singularValues.map((_, i) => i + 1), y: generator.singularValues, points: true },
            { name: 'Gaussian sqrt(λ/(σ_T²+λ))', x: generator.theory.map((_, i) => i + 1), y: generator.theory, dashed: true },
          ],
          { title: 'Generator map x_T → x0: singular values', xLabel: 'k', yLabel: 'singular value (σ-form latent)', yLog: true },
        )
      : ''
  }</div>
${png(m, image, `Variation grids (rows: direction, then amplitude ${m.settings.amplitudes.join(', ')}): converged Jacobian eigenvectors at the step; x̂0-trajectory PCs; generator singular directions at x_T${m.local ? '; local directions of the region (tinted)' : ''}.`)}`;
}

function localitySection(data: ReportData, image: ImageSpec): string {
  const l = data.results.locality;
  if (!l) return '';
  const rows = l.cells
    .map(
      (c) =>
        `<tr><td>${c.step} (σ = ${c.sigma.toPrecision(3)})</td><td>${escapeHtml(c.region)}</td><td><b>${formatMeanSd(c.local, 2)}</b></td><td>${formatMeanSd(c.global, 2)}</td><td>${formatMeanSd(c.linear, 2)}</td><td>${(100 * c.insideAtLeast80).toFixed(0)} %</td><td>${formatMeanSd(c.rank, 0)}</td><td>${(100 * c.convergedShare).toFixed(0)} %</td><td>${formatMeanSd(c.forwardPasses, 0)}</td><td>${formatMeanSd(c.seconds, 1)}</td></tr>`,
    )
    .join('');
  const transfer = l.transfer
    .map(
      (t) =>
        `<tr><td>${t.step}</td><td>${escapeHtml(t.region)}</td><td>${t.source.local.toFixed(2)}</td><td>${t.source.change.toFixed(3)}</td><td>${formatMeanSd(t.others.local, 2)}</td><td>${formatMeanSd(t.others.change, 3)}</td></tr>`,
    )
    .join('');
  const regions = l.regions.map((r) => `${escapeHtml(r.name)} (${(100 * r.area).toFixed(0)} % of the image)`).join(', ');
  const thresholds = [...new Set(l.cases.map((c) => c.energyThreshold))].map((t) => `${+(100 * t).toFixed(1)} %`).join(' or ');
  const onRegion = l.cases.filter((c) => c.support === 'region').length;
  const supportText =
    onRegion === l.cases.length
      ? `Directions live on the region's own pixels${l.settings.halo > 0 ? ` and ${l.settings.halo} around it` : ''}: J is applied to each once and both problems are solved exactly there`
      : `${onRegion > 0 ? `${onRegion} of ${l.cases.length} directions live on the region's pixels (solved exactly there), the rest` : 'Directions'} anywhere in the image, by a block Krylov search in which J stands in for Jᵀ to grow the space`;
  return `<h2>8 · Local variations</h2>
<p>After LOCO Edit (Chen et al., NeurIPS 2024): the top eigenvector of JᵀMJ (M the region) within the approximate null space of (I − M)J, whose top-R right singular vectors — R for ${thresholds} of its energy in the search space — are removed; J by central-difference JVPs. ${supportText} (skew share of the Jacobian there ${formatMeanSd(l.asymmetry, 2)}; 0 for an exact denoiser).
Kicks of ±${l.settings.amplitude} (unit-variance x_t) along the top local and the top global Jacobian direction, the run finished from there; cells: the share of the final image's squared change inside the region, over ${l.settings.seeds.length} seeds. Regions: ${regions}.</p>
<table><tr><th>step</th><th>region</th><th>local</th><th>global</th><th>first order (x̂0 at the step)</th><th>local ≥ 0.8</th><th>null-space R</th><th>converged</th><th>forward passes</th><th>seconds</th></tr>${rows}</table>
${transfer ? `<p>Transfer: the local direction found on seed ${l.transfer[0]!.sourceSeed}, kicked at the same step on the ${l.transfer[0]!.others.seeds.length} other seeds: share inside, and the coarse-scale content change of the final image (RMS after a blur of 1/20 of the side, over the data range).</p>
<table><tr><th>step</th><th>region</th><th>inside, own seed</th><th>change, own seed</th><th>inside, other seeds</th><th>change, other seeds</th></tr>${transfer}</table>` : ''}
${png(l, image, `Seed ${l.settings.seeds[0]}, step ${l.example.step}, region “${l.example.region}”: the final image (region tinted); −a, +a along the top local direction; −a, +a along the top global direction.`)}`;
}

function ganAnalogySection(data: ReportData, image: ImageSpec): string {
  const g = data.results.ganAnalogy;
  if (!g) return '';
  const k = g.settings.k;
  const index = Array.from({ length: k }, (_, j) => j + 1);
  const rows = g.maps
    .map(
      (m) =>
        `<tr><td>${escapeHtml(m.title)}</td><td>${m.effectiveRank.toFixed(1)}</td><td>${m.normalized[k - 1]!.toExponential(2)}</td><td>${m.tenthIndex ?? `> ${k}`}</td><td>${m.coarse.top.toFixed(2)}</td><td>${m.coarse.bottom.toFixed(2)}</td><td>${m.change.top.toFixed(3)} / ${m.change.bottom.toFixed(3)}</td><td>${m.forwardPasses}</td></tr>`,
    )
    .join('');
  const diffusion = g.maps.find((m) => m.name === 'diffusion');
  const worst = diffusion ? Math.max(...diffusion.convergence) : 0;
  const dim = image.channels * image.height * image.width;
  const raster = ganAnalogyPicture(g, image);
  const picture = `<figure><img class="figure" alt="GAN analogy variation grids" src="data:image/png;base64,${Buffer.from(encodePng(raster)).toString('base64')}"><figcaption class="muted">Rows: ${g.maps.map((m) => escapeHtml(m.title)).join('; ')}. Columns: kicks −${g.settings.amplitude}, 0, +${g.settings.amplitude} (noise units) along directions ${g.maps[0]!.coarse.directions.map((j) => j + 1).join(', ')} of the top ${k}.</figcaption></figure>`;
  return `<h2>8 · The GAN analogy</h2>
<p>Top ${k} singular values of three generator maps from one latent each: the GAN ${escapeHtml(data.sources.gan ?? '')} (J = ∂G/∂z in full from ${2 * g.settings.ganLatentDim} images; latent seed ${g.settings.ganSeed}${g.settings.ganClass !== null ? `, class ${g.settings.ganClass}` : ''}),
the diffusion network's map x_T → x0 through the whole ${g.settings.sampler} run (block Krylov, ${g.settings.blocks} blocks of ${g.settings.blockSize} JVPs; the largest change of a value over the last block ${(100 * worst).toFixed(1)} %), and the Gaussian's exact map (σ_T = ${g.settings.sigmaStart.toPrecision(4)}).
The coarse share is the energy of the change in ${g.settings.coarseBlock}×${g.settings.coarseBlock}-block means (layout and outline) over its total; ${dim > 0 ? '' : ''}top = directions 1–${g.settings.compare}, bottom = ${k - g.settings.compare + 1}–${k}.</p>
<div class="charts">${lineChart(
    g.maps.map((m, i) => ({ name: m.title, x: index, y: m.normalized, points: true, ...(i === 2 ? { dashed: true } : {}) })),
    { title: 'Normalised singular values s_j / s_1', xLabel: 'j', yLabel: 's_j / s_1', yLog: true },
  )}</div>
<table><tr><th>map</th><th>effective rank (of ${k})</th><th>s_${k}/s_1</th><th>first j with s_j/s_1 &lt; 0.1</th><th>coarse share, top</th><th>coarse share, bottom</th><th>RMS change top / bottom</th><th>forward passes</th></tr>${rows}</table>
${picture}`;
}
/** The generator mark in every report.html (the CLI replaces only its own reports, electron/cli/overwrite.ts). */
export const REPORT_GENERATOR = 'Painter report';

export function renderReport(data: ReportData, image: ImageSpec): string {
  const claims = data.claims
    .map((c) => `<tr><td>${escapeHtml(c.claim)}</td><td>${escapeHtml(c.measure)}</td><td>${escapeHtml(c.expected)}</td><td>${escapeHtml(c.measured)}</td><td>${verdict(c.holds)}</td></tr>`)
    .join('');
  const skipped = Object.entries(data.skipped)
    .map(([name, reason]) => `<li><b>${escapeHtml(name)}</b>: ${escapeHtml(reason ?? '')}</li>`)
    .join('');
  const timing = Object.entries(data.seconds)
    .map(([name, s]) => `${escapeHtml(name)} ${(s ?? 0).toFixed(1)} s`)
    .join(', ');
  const total = Object.values(data.seconds).reduce((sum, s) => sum + (s ?? 0), 0);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="generator" content="${REPORT_GENERATOR}"><title>Painter theory report · ${escapeHtml(data.modelId)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<style>${STYLE}</style></head><body>
<h1>Theory report · ${escapeHtml(data.modelName)} <span class="muted">(${escapeHtml(data.modelId)})</span></h1>
<p class="muted">Wang &amp; Vastola, “Diffusion Models Generate Images Like Painters” (arXiv 2303.02490) and its Gaussian-teleportation follow-up (arXiv 2412.09726), measured by Painter.
${escapeHtml(data.createdAt)} · provider ${escapeHtml(data.provider)} · ${escapeHtml(data.settings.sampler)}, ${data.settings.steps} steps${data.settings.classLabel !== null ? `, class ${data.settings.classLabel}` : ', unconditional'}${data.settings.quick ? ' · quick settings' : ''}.
Gaussian: ${escapeHtml(data.sources.gaussian)}; mixture: ${escapeHtml(data.sources.gmm ?? 'none')}; training set: ${escapeHtml(data.sources.delta ?? 'none')}; judge: ${escapeHtml(data.sources.judge ?? 'none')}.
Time: ${total.toFixed(1)} s (${timing}).</p>
<h2>Claims</h2>
<table><tr><th>claim</th><th>measure</th><th>expected (DESIGN.md §3)</th><th>measured</th><th>verdict</th></tr>${claims}</table>
${skipped ? `<p>Not run:</p><ul>${skipped}</ul>` : ''}
${trajectorySection(data, image)}
${agreementSection(data, image)}
${emergenceSection(data, image)}
${perturbationSection(data, image)}
${teleportSection(data, image)}
${retrievalSection(data, image)}
${manifoldSection(data, image)}
${localitySection(data, image)}
${ganAnalogySection(data, image)}
</body></html>
`;
}
