/** The brush the user paints with: kind, size, strength and what it pushes. */
import type { Brush, BrushKind, BrushPoint, DirectionSource } from '../../../electron/api/contract';

export interface BrushColor {
  label: string;
  /** One value per channel (or one for all), −1 … 1. */
  values: number[];
}

/** Pushes offered for the intensity brush; greyscale models use the first value only. */
/** Grains offered for the noise brush, in pixels. */
export const GRAINS = [0, 1, 2, 4] as const;

export const COLOR_PUSHES: readonly BrushColor[] = [
  { label: 'Brighten', values: [1] },
  { label: 'Darken', values: [-1] },
  { label: 'Redder', values: [1, -0.5, -0.5] },
  { label: 'Greener', values: [-0.5, 1, -0.5] },
  { label: 'Bluer', values: [-0.5, -0.5, 1] },
];

class BrushSettings {
  kind = $state<BrushKind>('noise');
  /** Radius in image pixels. */
  radius = $state(5);
  /** ‖δ‖ in the unit-variance x_t convention (contract.ts, Brush). */
  strength = $state(8);
  seed = $state(1);
  /** Noise correlation length in pixels; 0 is pixel noise, which a trained network mostly averages away early. */
  grain = $state(2);
  color = $state(0);
  /** Data principal component pushed along (0-based), unless a found direction is chosen. */
  component = $state(0);
  /** Sign of the push along a direction. */
  sign = $state<1 | -1>(1);
  /** A direction picked from the variation grid, when there is one. */
  found = $state.raw<{ label: string; values: Float32Array } | null>(null);

  /** The brush for a stroke; `channels` picks greyscale or colour pushes. */
  toBrush(points: BrushPoint[], channels: number): Brush {
    const base = { points, radius: this.radius, strength: this.strength };
    switch (this.kind) {
      case 'noise':
        return { ...base, kind: 'noise', seed: this.seed, grain: this.grain };
      case 'intensity': {
        const push = COLOR_PUSHES[this.color] ?? COLOR_PUSHES[0]!;
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
    this.kind = 'direction';
  }

  /** A new noise patch for the next stroke (the same seed repaints the same patch). */
  reseed(): void {
    this.seed = (this.seed % 1_000_000) + 1;
  }
}

export const brush = new BrushSettings();
