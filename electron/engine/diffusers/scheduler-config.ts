/**
 * Interim scheduler mapping (engineer B's scheduler-config.ts replaces this
 * file at merge): β schedule → ᾱ table → a discrete VP schedule, and the
 * prediction type.
 */
import { PainterError } from '../errors';
import { quoteText } from '../files';
import { DiscreteVpSchedule, type NoiseSchedule } from '../schedules';

export interface SchedulerConfig {
  betaSchedule: 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
  numTrainTimesteps: number;
  betaStart: number;
  betaEnd: number;
  predictionType: 'epsilon' | 'v_prediction' | 'sample';
}

export function parseSchedulerConfig(json: unknown, path: string): SchedulerConfig {
  const value = (json ?? {}) as Record<string, unknown>;
  const betaSchedule = (value['beta_schedule'] ?? 'linear') as SchedulerConfig['betaSchedule'];
  const predictionType = (value['prediction_type'] ?? 'epsilon') as SchedulerConfig['predictionType'];
  if (!['linear', 'scaled_linear', 'squaredcos_cap_v2'].includes(betaSchedule)) {
    throw new PainterError('BAD_MODEL', `${quoteText(path)}: beta_schedule "${String(betaSchedule)}" is not linear, scaled_linear or squaredcos_cap_v2.`, { path });
  }
  return {
    betaSchedule,
    numTrainTimesteps: Number(value['num_train_timesteps'] ?? 1000),
    betaStart: Number(value['beta_start'] ?? 0.0001),
    betaEnd: Number(value['beta_end'] ?? 0.02),
    predictionType,
  };
}

export function scheduleFromConfig(config: SchedulerConfig): NoiseSchedule {
  const T = config.numTrainTimesteps;
  const betas = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    const u = T === 1 ? 0 : t / (T - 1);
    if (config.betaSchedule === 'linear') betas[t] = config.betaStart + u * (config.betaEnd - config.betaStart);
    else if (config.betaSchedule === 'scaled_linear') betas[t] = (Math.sqrt(config.betaStart) + u * (Math.sqrt(config.betaEnd) - Math.sqrt(config.betaStart))) ** 2;
    else {
      const f = (s: number): number => Math.cos(((s + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
      betas[t] = Math.min(1 - f((t + 1) / T) / f(t / T), 0.999);
    }
  }
  const alphas = new Float64Array(T);
  let product = 1;
  for (let t = 0; t < T; t++) alphas[t] = product *= 1 - betas[t]!;
  return new DiscreteVpSchedule(alphas, 'linspace');
}
