/** The engine's public surface. */
export { Engine, saveRunFile, type EngineOptions, type CallContext, type JobContext } from './service';
export { PainterError, toErrorPayload } from './errors';
export { ModelRegistry, readManifest, type RegisteredModel } from './models';
export { validateManifest } from './manifest-validate';
export { readRun, writeRun, parseRun, serializeRun, type RunRecord } from './runs';
export { sample, initialNoise, toModelConvention, type Trajectory, type SampleOptions } from './samplers';
export { GaussianModel } from './denoisers/gaussian';
export { AnalyticDenoiser } from './denoisers/analytic';
export { OnnxDenoiser, providerOptionsHere } from './denoisers/onnx';
export type { Denoiser, DenoiseCondition } from './denoisers/types';
export * from './schedules';
export type * from './manifest';
export * as analysis from './analysis/index';
