/**
 * A Gaussian on small greyscale images with spatially structured
 * eigenvectors (those of a squared-exponential covariance between pixel
 * positions) and a slowly decaying power-law spectrum λ_k = scale·(k+1)^−decay:
 * its denoiser Jacobian U diag(λ/(λ+σ²)) Uᵀ is known exactly, is local like a
 * real image model's, and needs a Krylov search of many blocks.
 */
import { AnalyticDenoiser } from '../../electron/engine/denoisers/analytic';
import { GaussianModel } from '../../electron/engine/denoisers/gaussian';
import { symmetrizedEigen } from '../../electron/engine/analysis/eigen';

export interface SpatialGaussian {
  denoiser: AnalyticDenoiser;
  gaussian: GaussianModel;
  side: number;
  dim: number;
}

export function spatialGaussian(side = 12, lengthScale = 2, scale = 10, decay = 1.2): SpatialGaussian {
  const dim = side * side;
  const kernel = new Float64Array(dim * dim);
  for (let a = 0; a < dim; a++) {
    for (let b = 0; b < dim; b++) {
      const dy = Math.floor(a / side) - Math.floor(b / side);
      const dx = (a % side) - (b % side);
      kernel[a * dim + b] = Math.exp(-(dx * dx + dy * dy) / (2 * lengthScale * lengthScale));
    }
  }
  const { vectors } = symmetrizedEigen(kernel, dim);
  const eigvals = Float64Array.from({ length: dim }, (_, k) => scale * (k + 1) ** -decay);
  const gaussian = new GaussianModel(new Float32Array(dim), Float32Array.from(vectors), eigvals);
  const denoiser = new AnalyticDenoiser(
    {
      id: 'spatial-gaussian',
      name: 'Spatial Gaussian (test)',
      kind: 'gaussian',
      image: { channels: 1, height: side, width: side, range: [-1, 1] },
      space: 'pixel',
      stats: '',
      sigmaMin: 0.002,
      sigmaMax: 80,
    },
    { kind: 'gaussian', model: gaussian },
  );
  return { denoiser, gaussian, side, dim };
}

/** Dense J = U diag(λ/(λ+σ²)) Uᵀ, row-major D×D, float64. */
export function exactJacobian(gaussian: GaussianModel, sigma: number): Float64Array {
  const { dim, rank, eigvecs, eigvals } = gaussian;
  const out = new Float64Array(dim * dim);
  for (let k = 0; k < rank; k++) {
    const f = eigvals[k]! / (eigvals[k]! + sigma * sigma);
    for (let i = 0; i < dim; i++) {
      const ui = eigvecs[i * rank + k]! * f;
      if (ui === 0) continue;
      for (let j = 0; j < dim; j++) out[i * dim + j]! += ui * eigvecs[j * rank + k]!;
    }
  }
  return out;
}
