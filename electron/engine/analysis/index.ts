/**
 * The theory lab's public surface: one engine function per analysis of the
 * paper, each taking a Denoiser (+ the data Gaussian where the theory needs
 * it), options that include the run settings, and an AnalysisContext
 * (AbortSignal, progress), and returning plain data that echoes its settings.
 */
export type { AnalysisContext, RunSettings, ResolvedRunSettings } from './context';
export type { MeanSd } from './linalg';
export { trajectoryAnalysis, trajectoryGeometry, type TrajectoryOptions, type TrajectoryResult, type TrajectoryGeometry } from './trajectory';
export { agreementAnalysis, evAt, type AgreementOptions, type AgreementResult, type ReferenceModel } from './agreement';
export { emergenceAnalysis, commitmentSigma, type EmergenceOptions, type EmergenceResult, type ImageRegion } from './emergence';
export { perturbationAnalysis, gaussianKickResponse, type DirectionSpec, type PerturbationOptions, type PerturbationResult } from './perturbation';
export { teleportAnalysis, type TeleportOptions, type TeleportResult } from './teleport';
export { retrievalAnalysis, type RetrievalResult } from './retrieval';
export { manifoldAnalysis, type ManifoldOptions, type ManifoldResult } from './manifold';
export { jacobianDirections, type JacobianDirections } from './jacobian';
export { analysisPicture, type AnalysisResult } from './figures';
export { evaluateClaims, type Claim, type ReportResults } from './claims';
export { runReport, ANALYSIS_NAMES, type AnalysisName, type ReportData, type ReportInputs, type ReportOptions } from './report';
export { renderReport } from './report-html';
export { findGaussian, findAnalytic, findJudge, resolveModel, dataProbes } from './resources';
export type { ImageJudge } from './judge-port';
