/** The theory charts of the run on screen: which one is shown, how many seeds, and results by run and analysis. */
import type { TheoryAnalysisName, TheoryChart } from '../../../electron/api/contract';
import { api } from '../api';
import { job } from './job.svelte';

export type ChartTab = 'ghost' | TheoryAnalysisName;

export const CHART_TABS: { id: ChartTab; label: string; hint: string }[] = [
  { id: 'ghost', label: 'This run', hint: 'The Gaussian theory for this run: how much is decided, and how far the model is from the closed form' },
  { id: 'emergence', label: 'Emergence', hint: 'When each data principal direction is decided, against the theory 1/√(1+σ²/λ)' },
  { id: 'perturbation', label: 'Perturbation', hint: 'How much a random kick changes the final image, by injection step and strength' },
  { id: 'agreement', label: 'EV & r²', hint: 'How much of the network\'s score (EV) and x̂0 (r²) the Gaussian, the mixtures and the local patch model explain, by noise level' },
  { id: 'teleport', label: 'Teleport', hint: 'Skipping the first steps with the Gaussian closed form: evaluations saved, quality kept' },
  { id: 'gan-analogy', label: 'GAN analogy', hint: "This run's generator map x_T → x0 beside a GAN generator's and the Gaussian's exact map: singular spectra and what their top and bottom directions change" },
];

class ChartsState {
  tab = $state<ChartTab>('ghost');
  seeds = $state(4);
  results = $state.raw<Record<string, TheoryChart>>({});

  key(runId: string, analysis: TheoryAnalysisName): string {
    return `${runId}:${analysis}`;
  }

  result(runId: string, analysis: TheoryAnalysisName): TheoryChart | null {
    return this.results[this.key(runId, analysis)] ?? null;
  }

  async compute(runId: string, analysis: TheoryAnalysisName): Promise<void> {
    const seeds = analysis === 'teleport' ? Math.max(4, this.seeds) : this.seeds;
    const chart = await job.analysis((jobId) => api.call('theory', { jobId, runId, analysis, seeds }));
    if (chart !== null) this.results = { ...this.results, [this.key(runId, analysis)]: chart };
  }
}

export const charts = new ChartsState();
