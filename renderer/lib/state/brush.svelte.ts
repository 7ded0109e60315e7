/** The brush the user paints with: kind, size, strength and what it pushes. Changes are undoable. */
import type { Brush, BrushKind, BrushPoint, DirectionSource } from '../../../electron/api/contract';
import { history } from './history.svelte';

export interface BrushColor {
  label: string;
  /** One value per channel (or one for all), −1 … 1. */
  values: number[];
  /** How the stroke is drawn while painting: what the push will do. */
  swatch: string;
}

/** Grains offered for the noise brush, in pixels. */
export const GRAINS = [0, 1, 2, 4] as const;

/** Pushes offered for the intensity brush; greyscale models get the first two only. */
export const COLOR_PUSHES: readonly BrushColor[] = [
  { label: 'Brighten', values: [1], swatch: 'rgb(255 255 255 / 55%)' },
  { label: 'Darken', values: [-1], swatch: 'rgb(0 0 0 / 60%)' },
  { label: 'Redder', values: [1, -0.5, -0.5], swatch: 'rgb(255 60 60 / 50%)' },
  { label: 'Greener', values: [-0.5, 1, -0.5], swatch: 'rgb(60 220 90 / 50%)' },
  { label: 'Bluer', values: [-0.5, -0.5, 1], swatch: 'rgb(70 120 255 / 55%)' },
];

/** The pushes a model with `channels` channels can take. */
export function pushesFor(channels: number): readonly BrushColor[] {
  return channels === 1 ? COLOR_PUSHES.slice(0, 2) : COLOR_PUSHES;
}

export const BRUSH_KIND_LABELS: Record<BrushKind, string> = { noise: 'Noise', intensity: 'Colour', direction: 'Direction' };

type Field = 'kind' | 'radius' | 'strength' | 'seed' | 'grain' | 'color' | 'component' | 'sign';
const FIELD_LABELS: Record<Field, string> = {
  kind: 'brush',
  radius: 'brush radius',
  strength: 'brush strength',
  seed: 'noise seed',
  grain: 'grain',
  color: 'push',
  component: 'direction',
  sign: 'sign',
};

class BrushSettings {
  kind = $state<BrushKind>('noise');
  /** Radius in image pixels. */
  radius = $state(5);
  /** ‖δ‖ in the unit-variance x_t convention (contract.ts, Brush). */
  strength = $state(8);
  seed = $state(1);
  /** Noise correlation length in pixels; 0 is pixel noise, which a trained network mostly averages away early. */
  grain = $state(2);
  /** Index into {@link COLOR_PUSHES}. */
  color = $state(0);
  /** Data principal component pushed along (0-based), unless a found direction is chosen. */
  component = $state(0);
  /** Sign of the push along a direction. */
  sign = $state<1 | -1>(1);
  /** A direction picked from the variation grid, when there is one. */
  found = $state.raw<{ label: string; values: Float32Array } | null>(null);

  /** The push for a model of `channels` channels: the chosen one, or Brighten when that model has no such push. */
  push(channels: number): BrushColor {
    const offered = pushesFor(channels);
    return offered[this.color] ?? offered[0]!;
  }

  /** Sets one setting as the user did; undoable (a slider drag is one step). */
  set<F extends Field>(field: F, value: this[F]): void {
    const before = this[field];
    if (before === value) return;
    this[field] = value;
    const shown = field === 'kind' ? BRUSH_KIND_LABELS[value as BrushKind] : field === 'color' ? (COLOR_PUSHES[value as number]?.label ?? String(value)) : String(value);
    history.record({
      label: `${FIELD_LABELS[field]} ${shown}`,
      coalesce: `brush:${field}`,
      undo: () => {
        this[field] = before;
      },
      redo: () => {
        this[field] = value;
      },
    });
  }

  /** What a stroke will look like while it is painted (the colour of what it pushes). */
  swatch(channels: number): string {
    switch (this.kind) {
      case 'noise':
        return 'url(#brush-noise)';
      case 'intensity':
        return this.push(channels).swatch;
      case 'direction':
        return this.sign === 1 ? 'rgb(180 140 255 / 45%)' : 'rgb(255 160 80 / 45%)';
    }
  }

  /** The brush for a stroke; `channels` picks greyscale or colour pushes. */
  toBrush(points: BrushPoint[], channels: number): Brush {
    const base = { points, radius: this.radius, strength: this.strength };
    switch (this.kind) {
      case 'noise':
        return { ...base, kind: 'noise', seed: this.seed, grain: this.grain };
      case 'intensity': {
        const push = this.push(channels);
        return { ...base, kind: 'intensity', color: channels === 1 ? [push.values[0]!] : push.values.length === 1 ? [push.values[0]!, push.values[0]!, push.values[0]!] : push.values };
      }
      case 'direction':
        return { ...base, kind: 'direction', direction: this.direction() };
    }
  }

  private direction(): DirectionSource {
    if (this.found !== null) {
      const values = this.sign === 1 ? this.found.values : this.found.values.map((v) => -v);
      return { kind: 'vector', label: `${this.sign === 1 ? '+' : '−'}${this.found.label}`, values };
    }
    return { kind: 'gaussian-pc', index: this.component, sign: this.sign };
  }

  /** Uses a direction from the variation grid for the next direction strokes. */
  useDirection(label: string, values: Float32Array): void {
    this.found = { label, values };
    this.set('kind', 'direction');
  }

  /** A new noise patch for the next stroke (the same seed repaints the same patch). */
  reseed(): void {
    this.seed = (this.seed % 1_000_000) + 1;
  }
}

export const brush = new BrushSettings();
