/** The theory charts of the run on screen: which one is shown, how many seeds, and results by run and analysis. */
import type { TheoryAnalysisName, TheoryChart } from '../../../electron/api/contract';
import { api } from '../api';
import { job } from './job.svelte';
import { session } from './session.svelte';

export type ChartTab = 'ghost' | TheoryAnalysisName;

export const CHART_TABS: { id: ChartTab; label: string; hint: string }[] = [
  { id: 'ghost', label: 'This run', hint: 'The Gaussian theory for this run: how much of the image is already decided at each noise level, and how far the model is from the theory' },
  { id: 'emergence', label: 'Emergence', hint: 'When each broad pattern of the data (a principal direction) gets decided, against the theory\'s prediction' },
  { id: 'perturbation', label: 'Perturbation', hint: 'How much a random kick changes the final image, by the step it is given at and its strength' },
  { id: 'agreement', label: 'EV & r²', hint: 'How much of the network\'s behaviour the Gaussian, the mixtures and the local patch model explain at each noise level: its score (EV) and its x̂0 (r²)' },
  { id: 'teleport', label: 'Teleport', hint: 'Skipping the first steps by jumping there with the Gaussian formula: network evaluations saved, image quality kept' },
  { id: 'gan-analogy', label: 'GAN analogy', hint: "This run's whole generation (noise → image) beside a GAN generator's and the Gaussian's exact map: how steeply their ranked directions fall off, and what the top and bottom directions change" },
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

  constructor() {
    session.onResults((results) => {
      this.results = Object.fromEntries(results.charts.filter((chart) => chart.runId !== undefined).map((chart) => [this.key(chart.runId!, chart.analysis), chart]));
    });
  }

  async compute(runId: string, analysis: TheoryAnalysisName): Promise<void> {
    const seeds = analysis === 'teleport' ? Math.max(4, this.seeds) : this.seeds;
    const name = CHART_TABS.find((tab) => tab.id === analysis)?.label ?? analysis;
    const chart = await job.analysis(`${name}: ${seeds} seeds`, runId, (jobId) => api.call('theory', { jobId, runId, analysis, seeds }));
    if (chart !== null) {
      this.results = { ...this.results, [this.key(runId, analysis)]: chart };
      session.dirty = true;
    }
  }
}

export const charts = new ChartsState();
