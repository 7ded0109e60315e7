/**
 * A growing orthonormal basis V of vectors whose Jacobian products J·v are
 * known (finite-difference JVPs of the denoiser). Any vector whose product
 * is known can join — a Krylov block after its JVP, or an intermediate such
 * as the masked change M·J·v once J·(M·J·v) has been computed — because J is
 * linear: orthonormalising the vectors applies the same combination to their
 * products. Rayleigh–Ritz problems are then small m×m matrices built from V
 * and JV alone:
 * - Vᵀ J V, whose symmetric part gives the symmetrised Jacobian's directions
 *   (manifold.ts);
 * - (JV)ᵀ W (JV) for a diagonal weight W (a mask), the exact projection of
 *   Jᵀ W J — no transposed product needed (local-directions.ts).
 */
import { PainterError } from '../errors';

export class ProductBasis {
  readonly dim: number;
  private rows: Float64Array;
  private products: Float64Array;
  private count = 0;

  constructor(dim: number, capacity = 32) {
    this.dim = dim;
    this.rows = new Float64Array(Math.max(1, capacity) * dim);
    this.products = new Float64Array(Math.max(1, capacity) * dim);
  }

  get size(): number {
    return this.count;
  }

  /** Orthonormal rows [size][dim]. */
  get basis(): Float64Array {
    return this.rows.subarray(0, this.count * this.dim);
  }

  /** J·basis, rows [size][dim]. */
  get images(): Float64Array {
    return this.products.subarray(0, this.count * this.dim);
  }

  /**
   * Adds `count` vectors with their products: each is orthogonalised against
   * the basis and the vectors kept before it (Gram–Schmidt twice), its product
   * transformed alike, and dropped when less than `tolerance` of its norm is
   * new. Returns the indices of the rows that were kept.
   * @see Giraud, Langou & Rozložník 2005 (twice is enough)
   */
  add(vectors: ArrayLike<number>, products: ArrayLike<number>, count: number, tolerance = 1e-6): number[] {
    const dim = this.dim;
    if (vectors.length < count * dim || products.length < count * dim) {
      throw new PainterError('INTERNAL', `ProductBasis.add: ${count} vectors of ${dim} need ${count * dim} values; got ${vectors.length} and ${products.length}.`);
    }
    this.reserve(this.count + count);
    const row = new Float64Array(dim);
    const product = new Float64Array(dim);
    const kept: number[] = [];
    for (let r = 0; r < count; r++) {
      for (let i = 0; i < dim; i++) {
        row[i] = vectors[r * dim + i]!;
        product[i] = products[r * dim + i]!;
      }
      const original = norm(row);
      if (!(original > 0) || !Number.isFinite(original)) continue;
      for (let pass = 0; pass < 2; pass++) {
        for (let b = 0; b < this.count; b++) {
          let projection = 0;
          const offset = b * dim;
          for (let i = 0; i < dim; i++) projection += row[i]! * this.rows[offset + i]!;
          if (projection === 0) continue;
          for (let i = 0; i < dim; i++) {
            row[i]! -= projection * this.rows[offset + i]!;
            product[i]! -= projection * this.products[offset + i]!;
          }
        }
      }
      const remaining = norm(row);
      if (remaining <= tolerance * original) continue;
      const offset = this.count * dim;
      for (let i = 0; i < dim; i++) {
        this.rows[offset + i] = row[i]! / remaining;
        this.products[offset + i] = product[i]! / remaining;
      }
      this.count++;
      kept.push(this.count - 1);
    }
    return kept;
  }

  /** Rows `from` … `to − 1` of the basis (a copy). */
  slice(from: number, to: number): { rows: Float64Array; images: Float64Array } {
    return { rows: this.rows.slice(from * this.dim, to * this.dim), images: this.products.slice(from * this.dim, to * this.dim) };
  }

  /** Σ_p z[p] row_p and Σ_p z[p] (J row_p) for coefficients z over the first `m` rows. */
  combine(z: ArrayLike<number>, m = this.count): { vector: Float64Array; image: Float64Array } {
    const dim = this.dim;
    const vector = new Float64Array(dim);
    const image = new Float64Array(dim);
    for (let p = 0; p < m; p++) {
      const c = z[p]!;
      if (c === 0) continue;
      const offset = p * dim;
      for (let i = 0; i < dim; i++) {
        vector[i]! += c * this.rows[offset + i]!;
        image[i]! += c * this.products[offset + i]!;
      }
    }
    return { vector, image };
  }

  private reserve(capacity: number): void {
    if (capacity * this.dim <= this.rows.length) return;
    const next = Math.max(capacity, Math.ceil((this.rows.length / this.dim) * 1.5));
    const rows = new Float64Array(next * this.dim);
    const products = new Float64Array(next * this.dim);
    rows.set(this.rows);
    products.set(this.products);
    this.rows = rows;
    this.products = products;
  }
}

/**
 * A Gram matrix over a growing basis, Gpq = ⟨left_p, weight ⊙ right_q⟩, kept
 * up to date incrementally (only new rows and columns are computed), row-major
 * over the first `size` rows. `left`/`right` pick basis rows or their images.
 */
export class IncrementalGram {
  private values = new Float64Array(0);
  private order = 0;

  constructor(
    private readonly basis: ProductBasis,
    private readonly left: 'rows' | 'images',
    private readonly right: 'rows' | 'images',
    private readonly weight: Float64Array | null = null,
  ) {}

  /** The m×m matrix over the first m basis rows (m ≤ basis.size), row-major. */
  matrix(m = this.basis.size): Float64Array {
    this.extend(m);
    const out = new Float64Array(m * m);
    for (let p = 0; p < m; p++) for (let q = 0; q < m; q++) out[p * m + q] = this.values[p * this.order + q]!;
    return out;
  }

  private extend(m: number): void {
    if (m <= this.order) return;
    const dim = this.basis.dim;
    const previous = this.order;
    const grown = new Float64Array(m * m);
    for (let p = 0; p < previous; p++) for (let q = 0; q < previous; q++) grown[p * m + q] = this.values[p * previous + q]!;
    const leftRows = this.left === 'rows' ? this.basis.basis : this.basis.images;
    const rightRows = this.right === 'rows' ? this.basis.basis : this.basis.images;
    const weight = this.weight;
    const weighted = new Float64Array(dim);
    for (let q = 0; q < m; q++) {
      const qOffset = q * dim;
      for (let i = 0; i < dim; i++) weighted[i] = (weight === null ? 1 : weight[i]!) * rightRows[qOffset + i]!;
      for (let p = 0; p < m; p++) {
        if (p < previous && q < previous) continue;
        const pOffset = p * dim;
        let sum = 0;
        for (let i = 0; i < dim; i++) sum += leftRows[pOffset + i]! * weighted[i]!;
        grown[p * m + q] = sum;
      }
    }
    this.values = grown;
    this.order = m;
  }
}

function norm(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v * v;
  return Math.sqrt(sum);
}
